build-layers-san/optim/schedule.o: optim/schedule.c optim/schedule.h \
 tensor/safetensors.h tensor/error.h
optim/schedule.h:
tensor/safetensors.h:
tensor/error.h:
