build-kern-san/tensor/error.o: tensor/error.c tensor/error.h
tensor/error.h:
