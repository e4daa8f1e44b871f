build-lead-san/tensor/gemm.o: tensor/gemm.c tensor/gemm.h
tensor/gemm.h:
