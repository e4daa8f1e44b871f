build-layers-san/optim/rmsprop.o: optim/rmsprop.c optim/optim_kind.h \
 optim/optim.h tensor/safetensors.h tensor/error.h
optim/optim_kind.h:
optim/optim.h:
tensor/safetensors.h:
tensor/error.h:
