build-tb/pipeline/synth_write.o: pipeline/synth_write.c audio/wav.h \
 pipeline/synth.h tensor/rng.h tensor/atomic_file.h tensor/error.h \
 video/image.h video/y4m.h
audio/wav.h:
pipeline/synth.h:
tensor/rng.h:
tensor/atomic_file.h:
tensor/error.h:
video/image.h:
video/y4m.h:
