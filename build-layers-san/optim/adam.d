build-layers-san/optim/adam.o: optim/adam.c optim/optim_kind.h \
 optim/optim.h tensor/safetensors.h tensor/error.h
optim/optim_kind.h:
optim/optim.h:
tensor/safetensors.h:
tensor/error.h:
