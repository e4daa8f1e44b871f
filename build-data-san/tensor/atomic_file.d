build-data-san/tensor/atomic_file.o: tensor/atomic_file.c \
 tensor/atomic_file.h tensor/error.h
tensor/atomic_file.h:
tensor/error.h:
