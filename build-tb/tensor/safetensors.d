build-tb/tensor/safetensors.o: tensor/safetensors.c tensor/safetensors.h \
 tensor/atomic_file.h tensor/error.h
tensor/safetensors.h:
tensor/atomic_file.h:
tensor/error.h:
