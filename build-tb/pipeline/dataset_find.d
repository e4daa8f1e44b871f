build-tb/pipeline/dataset_find.o: pipeline/dataset_find.c \
 pipeline/dataset.h pipeline/csv.h tensor/error.h
pipeline/dataset.h:
pipeline/csv.h:
tensor/error.h:
