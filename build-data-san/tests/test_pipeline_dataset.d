build-data-san/tests/test_pipeline_dataset.o: \
 tests/test_pipeline_dataset.c pipeline/dataset.h pipeline/csv.h \
 pipeline/eda.h tensor/error.h
pipeline/dataset.h:
pipeline/csv.h:
pipeline/eda.h:
tensor/error.h:
