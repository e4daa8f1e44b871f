build-layers-san/optim/optim.o: optim/optim.c optim/optim.h \
 tensor/safetensors.h optim/optim_kind.h tensor/error.h
optim/optim.h:
tensor/safetensors.h:
optim/optim_kind.h:
tensor/error.h:
