build-lead-san/tests/test_core.o: tests/test_core.c tensor/error.h \
 tensor/rng.h
tensor/error.h:
tensor/rng.h:
