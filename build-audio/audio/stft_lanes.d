build-audio/audio/stft_lanes.o: audio/stft_lanes.c audio/stft_lanes.inc \
 audio/stft_lanes.h audio/fft_internal.h audio/fft.h audio/fft_core.inc \
 tensor/cpu.h
audio/stft_lanes.inc:
audio/stft_lanes.h:
audio/fft_internal.h:
audio/fft.h:
audio/fft_core.inc:
tensor/cpu.h:
