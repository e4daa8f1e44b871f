build-data-san/tests/test_pipeline_csv.o: tests/test_pipeline_csv.c \
 pipeline/csv.h pipeline/dataset.h pipeline/eda.h tensor/error.h \
 tensor/rng.h
pipeline/csv.h:
pipeline/dataset.h:
pipeline/eda.h:
tensor/error.h:
tensor/rng.h:
