build-tb/tensor/gemm_kernel_avx512.o: tensor/gemm_kernel_avx512.c \
 tensor/gemm_impl.h
tensor/gemm_impl.h:
