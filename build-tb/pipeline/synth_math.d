build-tb/pipeline/synth_math.o: pipeline/synth_math.c pipeline/synth.h \
 tensor/rng.h
pipeline/synth.h:
tensor/rng.h:
