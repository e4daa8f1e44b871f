build-kern/tests/test_tensor_threadpool.o: tests/test_tensor_threadpool.c \
 tensor/threadpool.h
tensor/threadpool.h:
