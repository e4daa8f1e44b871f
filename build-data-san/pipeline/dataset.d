build-data-san/pipeline/dataset.o: pipeline/dataset.c pipeline/dataset.h \
 pipeline/csv.h tensor/error.h
pipeline/dataset.h:
pipeline/csv.h:
tensor/error.h:
