build-kern/tensor/eltwise.o: tensor/eltwise.c tensor/eltwise.h \
 tensor/cpu.h tensor/eltwise_impl.h
tensor/eltwise.h:
tensor/cpu.h:
tensor/eltwise_impl.h:
