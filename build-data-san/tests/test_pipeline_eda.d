build-data-san/tests/test_pipeline_eda.o: tests/test_pipeline_eda.c \
 pipeline/dataset.h pipeline/csv.h pipeline/eda.h tensor/error.h
pipeline/dataset.h:
pipeline/csv.h:
pipeline/eda.h:
tensor/error.h:
