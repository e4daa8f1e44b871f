build-audio-san/audio/stft_lanes_avx2.o: audio/stft_lanes_avx2.c \
 audio/stft_lanes.inc audio/stft_lanes.h audio/fft_internal.h audio/fft.h \
 audio/fft_core.inc
audio/stft_lanes.inc:
audio/stft_lanes.h:
audio/fft_internal.h:
audio/fft.h:
audio/fft_core.inc:
