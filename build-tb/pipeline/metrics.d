build-tb/pipeline/metrics.o: pipeline/metrics.c pipeline/metrics.h \
 tensor/error.h
pipeline/metrics.h:
tensor/error.h:
