build-lead/tensor/rng.o: tensor/rng.c tensor/rng.h
tensor/rng.h:
