build-data/pipeline/synth_corpus.o: pipeline/synth_corpus.c \
 pipeline/synth.h tensor/rng.h tensor/error.h
pipeline/synth.h:
tensor/rng.h:
tensor/error.h:
