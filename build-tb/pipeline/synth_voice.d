build-tb/pipeline/synth_voice.o: pipeline/synth_voice.c pipeline/synth.h \
 tensor/rng.h tensor/error.h
pipeline/synth.h:
tensor/rng.h:
tensor/error.h:
