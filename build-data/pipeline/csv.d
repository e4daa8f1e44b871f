build-data/pipeline/csv.o: pipeline/csv.c pipeline/csv.h tensor/error.h
pipeline/csv.h:
tensor/error.h:
