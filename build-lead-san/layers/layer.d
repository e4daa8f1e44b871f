build-lead-san/layers/layer.o: layers/layer.c layers/layer.h \
 tensor/autograd.h tensor/tensor.h tensor/arena.h tensor/rng.h \
 tensor/error.h
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/error.h:
