build-tb/audio/spectral.o: audio/spectral.c audio/spectral.h \
 audio/spectral_internal.h audio/stft_lanes.h audio/fft_internal.h \
 audio/fft.h tensor/error.h
audio/spectral.h:
audio/spectral_internal.h:
audio/stft_lanes.h:
audio/fft_internal.h:
audio/fft.h:
tensor/error.h:
