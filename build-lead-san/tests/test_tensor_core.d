build-lead-san/tests/test_tensor_core.o: tests/test_tensor_core.c \
 tensor/error.h tensor/ops.h tensor/autograd.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h
tensor/error.h:
tensor/ops.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
