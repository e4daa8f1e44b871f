build-data-san/tests/gradcheck.o: tests/gradcheck.c tests/gradcheck.h \
 tensor/autograd.h tensor/tensor.h tensor/arena.h tensor/rng.h \
 tensor/error.h tensor/ops.h
tests/gradcheck.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/error.h:
tensor/ops.h:
