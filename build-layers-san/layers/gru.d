build-layers-san/layers/gru.o: layers/gru.c layers/gru.h \
 layers/rnn_common.h layers/layer.h tensor/autograd.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h tensor/error.h tensor/gemm.h tensor/cpu.h \
 tensor/op_defs.h tensor/rnn_cell.h
layers/gru.h:
layers/rnn_common.h:
layers/layer.h:
tensor/autograd.h:
tensor/tensor.h:
tensor/arena.h:
tensor/rng.h:
tensor/error.h:
tensor/gemm.h:
tensor/cpu.h:
tensor/op_defs.h:
tensor/rnn_cell.h:
