build-layers/tensor/tensor.o: tensor/tensor.c tensor/tensor.h \
 tensor/arena.h tensor/rng.h tensor/error.h
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/error.h:
