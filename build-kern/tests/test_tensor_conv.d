build-kern/tests/test_tensor_conv.o: tests/test_tensor_conv.c \
 tensor/conv.h tensor/cpu.h tensor/error.h tensor/rng.h \
 tensor/threadpool.h
tensor/conv.h:
tensor/cpu.h:
tensor/error.h:
tensor/rng.h:
tensor/threadpool.h:
