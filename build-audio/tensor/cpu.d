build-audio/tensor/cpu.o: tensor/cpu.c tensor/cpu.h tensor/error.h
tensor/cpu.h:
tensor/error.h:
