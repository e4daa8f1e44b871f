/* WAV (RIFF/WAVE) reading and writing.
 *
 * Reader: every common WAV becomes one mono float signal.
 *   - formats: PCM integer 8 (unsigned), 16, 24, 32 bit; IEEE float 32, 64;
 *     WAVE_FORMAT_EXTENSIBLE wrapping either (the sub-format GUID decides);
 *   - any channel count (down-mixed by averaging the channels), any rate;
 *   - chunks other than "fmt " and "data" (LIST, fact, cue, ...) are
 *     skipped, honouring the pad byte after an odd-sized chunk.
 * Scaling: integers are divided by 2^(bits-1) (8-bit is unsigned, centred
 * on 128), so PCM lands in [-1, 1). Float files keep their values (they may
 * exceed 1); NaN and infinities become 0 with a warning.
 *
 * Bad input never crashes or over-reads: an empty or non-WAV file, a
 * missing or malformed "fmt ", an unsupported format or a missing "data"
 * chunk is an error naming the file and the problem. A data chunk that
 * claims more bytes than the file holds (a truncated download, or a
 * streaming writer that never patched the size) yields the whole samples
 * present plus a warning (meld_take_warning()).
 *
 * Writers: 16-bit PCM (samples clipped to [-1, 1], scaled by 32768 and
 * rounded, +1.0 saturating at 32767) and 32-bit float, through
 * tensor/atomic_file.h so a file is complete or absent.
 */
#ifndef MELD_AUDIO_WAV_H
#define MELD_AUDIO_WAV_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float *samples;     /* n_samples values, mono; free with audio_free() */
    size_t n_samples;
    int sample_rate;    /* Hz */
} Audio;

/* What the header said, for display (meld features) and tests. */
typedef struct {
    int format;          /* 1 = PCM integer, 3 = IEEE float (after EXTENSIBLE) */
    int channels;
    int bits_per_sample; /* container size: 8, 16, 24, 32 or 64 */
    int sample_rate;
    size_t n_frames;     /* samples per channel actually decoded */
    int truncated;       /* 1 when the data chunk was cut short */
} WavInfo;

/* Reads any WAV above into out (mono float). On error out is zeroed. */
int wav_read(const char *path, Audio *out);
/* The same from bytes already in memory; name is used in messages. info may
 * be NULL. Never reads outside data[0, size). */
int wav_parse(const uint8_t *data, size_t size, const char *name, Audio *out, WavInfo *info);
/* wav_read plus the header information (info may be NULL). */
int wav_read_info(const char *path, Audio *out, WavInfo *info);

int wav_write_pcm16(const char *path, const float *samples, size_t n, int sample_rate);
int wav_write_float(const char *path, const float *samples, size_t n, int sample_rate);

/* Frees the samples and zeroes the struct; safe on a zeroed Audio. */
void audio_free(Audio *a);

#endif
