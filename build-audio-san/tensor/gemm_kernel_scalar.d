build-audio-san/tensor/gemm_kernel_scalar.o: tensor/gemm_kernel_scalar.c \
 tensor/gemm_impl.h
tensor/gemm_impl.h:
