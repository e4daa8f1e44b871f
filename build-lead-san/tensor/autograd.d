build-lead-san/tensor/autograd.o: tensor/autograd.c tensor/autograd.h \
 tensor/tensor.h tensor/arena.h tensor/rng.h tensor/error.h
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/error.h:
