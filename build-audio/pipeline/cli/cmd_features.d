build-audio/pipeline/cli/cmd_features.o: pipeline/cli/cmd_features.c \
 audio/functionals.h audio/lld.h audio/npy.h audio/resample.h audio/wav.h \
 audio/spectral.h pipeline/cli/args.h pipeline/cli/commands.h \
 tensor/error.h
audio/functionals.h:
audio/lld.h:
audio/npy.h:
audio/resample.h:
audio/wav.h:
audio/spectral.h:
pipeline/cli/args.h:
pipeline/cli/commands.h:
tensor/error.h:
