build-layers-san/optim/adadelta.o: optim/adadelta.c optim/optim_kind.h \
 optim/optim.h tensor/safetensors.h tensor/error.h
optim/optim_kind.h:
optim/optim.h:
tensor/safetensors.h:
tensor/error.h:
