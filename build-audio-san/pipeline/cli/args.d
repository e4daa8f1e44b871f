build-audio-san/pipeline/cli/args.o: pipeline/cli/args.c \
 pipeline/cli/args.h tensor/error.h
pipeline/cli/args.h:
tensor/error.h:
