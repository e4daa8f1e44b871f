build-kern/benchmarks/main.o: benchmarks/main.c benchmarks/bench.h
benchmarks/bench.h:
