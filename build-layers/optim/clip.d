build-layers/optim/clip.o: optim/clip.c optim/optim.h \
 tensor/safetensors.h
optim/optim.h:
tensor/safetensors.h:
