build-kern/tests/test_tensor_eltwise.o: tests/test_tensor_eltwise.c \
 tensor/cpu.h tensor/eltwise.h tensor/rng.h tensor/rnn_cell.h
tensor/cpu.h:
tensor/eltwise.h:
tensor/rng.h:
tensor/rnn_cell.h:
