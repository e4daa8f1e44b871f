build-audio-san/audio/lld.o: audio/lld.c audio/lld.h \
 audio/spectral_internal.h audio/spectral.h audio/stft_lanes.h \
 audio/fft_internal.h audio/fft.h tensor/error.h
audio/lld.h:
audio/spectral_internal.h:
audio/spectral.h:
audio/stft_lanes.h:
audio/fft_internal.h:
audio/fft.h:
tensor/error.h:
