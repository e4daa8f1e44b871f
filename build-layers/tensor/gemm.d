build-layers/tensor/gemm.o: tensor/gemm.c tensor/gemm.h tensor/cpu.h \
 tensor/error.h tensor/gemm_impl.h tensor/threadpool.h
tensor/gemm.h:
tensor/cpu.h:
tensor/error.h:
tensor/gemm_impl.h:
tensor/threadpool.h:
