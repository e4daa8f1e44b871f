build-kern-san/tests/test_tensor_gemm.o: tests/test_tensor_gemm.c \
 tensor/cpu.h tensor/gemm.h tensor/rng.h tensor/threadpool.h
tensor/cpu.h:
tensor/gemm.h:
tensor/rng.h:
tensor/threadpool.h:
