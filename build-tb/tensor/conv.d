build-tb/tensor/conv.o: tensor/conv.c tensor/conv.h tensor/eltwise.h \
 tensor/error.h tensor/gemm.h tensor/cpu.h tensor/threadpool.h
tensor/conv.h:
tensor/eltwise.h:
tensor/error.h:
tensor/gemm.h:
tensor/cpu.h:
tensor/threadpool.h:
