build-layers-san/layers/lstm.o: layers/lstm.c layers/lstm.h \
 layers/rnn_common.h layers/layer.h tensor/autograd.h tensor/tensor.h \
 tensor/arena.h tensor/rng.h tensor/error.h tensor/gemm.h tensor/cpu.h \
 tensor/op_defs.h tensor/rnn_cell.h
layers/lstm.h:
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
