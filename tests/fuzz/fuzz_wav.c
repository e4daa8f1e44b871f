/* libFuzzer target: the WAV reader (audio/wav.h) from memory, then the
 * resampling to 16 kHz every WAV goes through (audio/resample.h), whose
 * work must stay bounded by what the file holds. */
#include "tests/fuzz/fuzz.h"
#include "audio/resample.h"
#include "audio/wav.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Audio a;
    WavInfo info;
    memset(&a, 0, sizeof a);
    int rc = wav_parse(data, size, "fuzz.wav", &a, &info);
    if (rc == MELD_OK) {
        if (a.n_samples * (size_t)info.channels > size) abort();
        rc = audio_to_16k(&a);
    }
    fuzz_check_error(rc);
    audio_free(&a);
    return 0;
}
