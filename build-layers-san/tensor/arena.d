build-layers-san/tensor/arena.o: tensor/arena.c tensor/arena.h \
 tensor/error.h
tensor/arena.h:
tensor/error.h:
