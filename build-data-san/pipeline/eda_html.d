build-data-san/pipeline/eda_html.o: pipeline/eda_html.c pipeline/eda.h \
 pipeline/dataset.h pipeline/csv.h tensor/atomic_file.h tensor/error.h
pipeline/eda.h:
pipeline/dataset.h:
pipeline/csv.h:
tensor/atomic_file.h:
tensor/error.h:
