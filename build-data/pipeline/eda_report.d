build-data/pipeline/eda_report.o: pipeline/eda_report.c pipeline/eda.h \
 pipeline/dataset.h pipeline/csv.h tensor/error.h
pipeline/eda.h:
pipeline/dataset.h:
pipeline/csv.h:
tensor/error.h:
