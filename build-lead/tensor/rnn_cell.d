build-lead/tensor/rnn_cell.o: tensor/rnn_cell.c tensor/rnn_cell.h \
 tensor/cpu.h tensor/eltwise_impl.h
tensor/rnn_cell.h:
tensor/cpu.h:
tensor/eltwise_impl.h:
