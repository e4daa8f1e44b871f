build-lead-san/tensor/eltwise_avx512.o: tensor/eltwise_avx512.c \
 tensor/eltwise_impl.h
tensor/eltwise_impl.h:
