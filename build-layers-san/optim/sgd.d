build-layers-san/optim/sgd.o: optim/sgd.c optim/optim_kind.h \
 optim/optim.h tensor/safetensors.h tensor/error.h
optim/optim_kind.h:
optim/optim.h:
tensor/safetensors.h:
tensor/error.h:
