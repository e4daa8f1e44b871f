build-audio/tensor/gemm_kernel_avx2.o: tensor/gemm_kernel_avx2.c \
 tensor/gemm_impl.h
tensor/gemm_impl.h:
