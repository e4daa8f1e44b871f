build-data-san/pipeline/eda.o: pipeline/eda.c pipeline/eda.h \
 pipeline/dataset.h pipeline/csv.h tensor/error.h
pipeline/eda.h:
pipeline/dataset.h:
pipeline/csv.h:
tensor/error.h:
