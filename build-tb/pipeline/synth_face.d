build-tb/pipeline/synth_face.o: pipeline/synth_face.c pipeline/synth.h \
 tensor/rng.h tensor/error.h
pipeline/synth.h:
tensor/rng.h:
tensor/error.h:
