build-lead/tensor/threadpool.o: tensor/threadpool.c tensor/threadpool.h \
 tensor/error.h
tensor/threadpool.h:
tensor/error.h:
