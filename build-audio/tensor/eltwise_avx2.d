build-audio/tensor/eltwise_avx2.o: tensor/eltwise_avx2.c \
 tensor/eltwise_impl.h
tensor/eltwise_impl.h:
