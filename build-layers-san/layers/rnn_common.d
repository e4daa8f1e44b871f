build-layers-san/layers/rnn_common.o: layers/rnn_common.c \
 layers/rnn_common.h layers/layer.h tensor/autograd.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h layers/layer_init.h tensor/error.h \
 tensor/gemm.h tensor/cpu.h tensor/ops.h
layers/rnn_common.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
layers/layer_init.h:
tensor/error.h:
tensor/gemm.h:
tensor/cpu.h:
tensor/ops.h:
