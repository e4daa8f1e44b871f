/* WAV reader and writers. The file format (all integers little-endian):
 *
 *   "RIFF" u32 riff_size "WAVE"             12-byte header
 *   then chunks: id[4] u32 size payload[size] (+1 pad byte if size is odd)
 *   "fmt " payload: u16 format, u16 channels, u32 rate, u32 byte_rate,
 *                   u16 block_align, u16 bits  (16 bytes; 18 or 40 with
 *                   u16 cb_size; EXTENSIBLE (0xFFFE) adds u16 valid_bits,
 *                   u32 channel_mask, GUID sub_format whose first u16 is the
 *                   real format)
 *   "data" payload: interleaved frames of block_align bytes each.
 *
 * The parser works on the bytes in memory and checks every length against
 * what is left before touching it, so malformed input cannot over-read.
 */
#include "audio/wav.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/input_file.h"

enum { FMT_PCM = 1, FMT_FLOAT = 3, FMT_EXTENSIBLE = 0xFFFE };

/* A WAV's data size field is 32-bit, so a valid file is at most 4 GiB.
 * Refusing bigger inputs bounds every allocation by the file size. */
#define WAV_MAX_FILE_BYTES ((size_t)0xFFFFFFFFu + 8u)

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* ---- header ------------------------------------------------------------ */

typedef struct {
    int format, channels, bits, block_align;
    uint32_t rate;
} Fmt;

/* Decodes a "fmt " payload of `size` bytes at p into f. */
static int parse_fmt(const uint8_t *p, uint32_t size, const char *name, Fmt *f)
{
    if (size < 16) return meld_errorf("%s: fmt chunk is %u bytes, needs at least 16", name, size);
    f->format = rd16(p);
    f->channels = rd16(p + 2);
    f->rate = rd32(p + 4);
    f->block_align = rd16(p + 12);
    f->bits = rd16(p + 14);
    if (f->format == FMT_EXTENSIBLE) {
        /* cb_size(2) valid_bits(2) channel_mask(4) then the 16-byte GUID. */
        if (size < 40)
            return meld_errorf("%s: WAVE_FORMAT_EXTENSIBLE fmt chunk is %u bytes, needs 40", name, size);
        f->format = rd16(p + 24);
    }
    if (f->format != FMT_PCM && f->format != FMT_FLOAT)
        return meld_errorf("%s: unsupported WAV format tag 0x%04x (only PCM and IEEE float)", name,
                           (unsigned)f->format);
    if (f->channels < 1) return meld_errorf("%s: fmt chunk says 0 channels", name);
    if (f->rate < 1 || f->rate > 100000000u)
        return meld_errorf("%s: implausible sample rate %u Hz", name, f->rate);
    int ok_bits = f->format == FMT_PCM ? (f->bits == 8 || f->bits == 16 || f->bits == 24 || f->bits == 32)
                                       : (f->bits == 32 || f->bits == 64);
    if (!ok_bits)
        return meld_errorf("%s: unsupported %d-bit %s samples", name, f->bits,
                           f->format == FMT_PCM ? "PCM" : "float");
    if (f->block_align != f->channels * (f->bits / 8))
        return meld_errorf("%s: block align %d does not match %d channels x %d bits", name,
                           f->block_align, f->channels, f->bits);
    return MELD_OK;
}

/* ---- samples ----------------------------------------------------------- */

/* One sample of the given container at p as a float (before down-mixing). */
static double decode_sample(const uint8_t *p, const Fmt *f)
{
    if (f->format == FMT_FLOAT) {
        if (f->bits == 32) {
            uint32_t u = rd32(p);
            float v;
            memcpy(&v, &u, 4);
            return v;
        }
        uint64_t u = (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
        double v;
        memcpy(&v, &u, 8);
        return v;
    }
    switch (f->bits) {
    case 8: return ((int)p[0] - 128) / 128.0;
    case 16: return (int16_t)rd16(p) / 32768.0;
    case 24: {
        int32_t v = (int32_t)(p[0] | (p[1] << 8) | (p[2] << 16));
        if (v & 0x800000) v -= 0x1000000; /* sign-extend 24 bits */
        return v / 8388608.0;
    }
    default: return (int32_t)rd32(p) / 2147483648.0;
    }
}

/* Decodes n_frames interleaved frames into mono by averaging the channels. */
static size_t decode_frames(const uint8_t *data, size_t n_frames, const Fmt *f, float *out)
{
    size_t bytes = (size_t)f->bits / 8, non_finite = 0;
    for (size_t i = 0; i < n_frames; i++) {
        const uint8_t *frame = data + i * (size_t)f->block_align;
        double sum = 0;
        for (int c = 0; c < f->channels; c++) sum += decode_sample(frame + (size_t)c * bytes, f);
        double v = sum / f->channels;
        if (!isfinite(v) || fabs(v) > 3.0e38) {
            v = 0;
            non_finite++;
        }
        out[i] = (float)v;
    }
    return non_finite;
}

/* ---- chunk walk -------------------------------------------------------- */

int wav_parse(const uint8_t *data, size_t size, const char *name, Audio *out, WavInfo *info)
{
    memset(out, 0, sizeof *out);
    if (info) memset(info, 0, sizeof *info);
    if (size == 0) return meld_errorf("%s: empty file (0 bytes)", name);
    if (size < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WAVE", 4) != 0) {
        if (size >= 4 && (memcmp(data, "RIFX", 4) == 0 || memcmp(data, "RF64", 4) == 0))
            return meld_errorf("%s: %.4s WAV files are not supported (only little-endian RIFF)", name, data);
        return meld_errorf("%s: not a WAV file (no RIFF/WAVE header)", name);
    }
    Fmt fmt = {0};
    int have_fmt = 0;
    size_t pos = 12;
    /* The RIFF size field is ignored on purpose: writers often leave it wrong,
     * and the real bound is the number of bytes we have. */
    while (pos + 8 <= size) {
        const uint8_t *id = data + pos;
        uint32_t csize = rd32(data + pos + 4);
        size_t body = pos + 8, left = size - body;
        if (memcmp(id, "fmt ", 4) == 0) {
            if (csize > left) return meld_errorf("%s: fmt chunk truncated at byte %zu", name, size);
            if (parse_fmt(data + body, csize, name, &fmt)) return MELD_ERR;
            have_fmt = 1;
        } else if (memcmp(id, "data", 4) == 0) {
            if (!have_fmt) return meld_errorf("%s: data chunk at byte %zu comes before the fmt chunk", name, pos);
            int truncated = csize > left;
            size_t avail = truncated ? left : csize;
            size_t n_frames = avail / (size_t)fmt.block_align;
            if (truncated)
                meld_warnf("%s: data chunk truncated at byte %zu (header says %u bytes, %zu present); "
                           "using the %zu complete frames",
                           name, size, csize, left, n_frames);
            float *samples = meld_malloc(n_frames * sizeof(float), "WAV samples");
            if (!samples) return meld_error_context("%s", name);
            size_t bad = decode_frames(data + body, n_frames, &fmt, samples);
            if (bad) meld_warnf("%s: %zu non-finite samples replaced by 0", name, bad);
            out->samples = samples;
            out->n_samples = n_frames;
            out->sample_rate = (int)fmt.rate;
            if (info) {
                info->format = fmt.format;
                info->channels = fmt.channels;
                info->bits_per_sample = fmt.bits;
                info->sample_rate = (int)fmt.rate;
                info->n_frames = n_frames;
                info->truncated = truncated;
            }
            return MELD_OK;
        }
        /* Skip this chunk and its pad byte. A size past the end of the
         * file hides whatever follows: say so, rather than "no data". */
        if (csize > left) {
            char shown[5];
            for (int i = 0; i < 4; i++) shown[i] = id[i] >= 0x20 && id[i] < 0x7F ? (char)id[i] : '?';
            shown[4] = '\0';
            return meld_errorf("%s: chunk '%s' at byte %zu declares %u bytes but only %zu follow%s", name, shown, pos,
                               csize, left, have_fmt ? "" : " (no fmt chunk before it)");
        }
        size_t skip = (size_t)csize + (csize & 1u);
        if (skip > left) break;
        pos = body + skip;
    }
    if (!have_fmt) return meld_errorf("%s: no fmt chunk", name);
    return meld_errorf("%s: no data chunk", name);
}

/* ---- files ------------------------------------------------------------- */

int wav_read_info(const char *path, Audio *out, WavInfo *info)
{
    memset(out, 0, sizeof *out);
    size_t size = 0;
    uint8_t *buf;
    if (input_file_read_all(path, WAV_MAX_FILE_BYTES, &buf, &size)) return MELD_ERR;
    int rc = wav_parse(buf, size, path, out, info);
    free(buf);
    return rc;
}

int wav_read(const char *path, Audio *out) { return wav_read_info(path, out, NULL); }

void audio_free(Audio *a)
{
    if (!a) return;
    free(a->samples);
    memset(a, 0, sizeof *a);
}

/* ---- writers ----------------------------------------------------------- */

static void wr16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Writes header + payload produced by `encode` in blocks. Float files carry
 * the 18-byte fmt (cb_size = 0) and the fact chunk the spec asks for. */
static int write_wav(const char *path, const float *x, size_t n, int rate, int is_float)
{
    if (rate < 1) return meld_errorf("%s: invalid sample rate %d", path, rate);
    if (n && !x) return meld_errorf("%s: NULL samples", path);
    size_t bps = is_float ? 4 : 2;
    size_t header = is_float ? 12 + 26 + 12 + 8 : 12 + 24 + 8;
    if (n > (0xFFFFFFFFu - header) / bps) return meld_errorf("%s: %zu samples do not fit a WAV", path, n);
    uint32_t data_bytes = (uint32_t)(n * bps);
    uint8_t h[58];
    memcpy(h, "RIFF", 4);
    wr32(h + 4, (uint32_t)(header - 8) + data_bytes);
    memcpy(h + 8, "WAVEfmt ", 8);
    wr32(h + 16, is_float ? 18 : 16);
    wr16(h + 20, is_float ? FMT_FLOAT : FMT_PCM);
    wr16(h + 22, 1);
    wr32(h + 24, (uint32_t)rate);
    wr32(h + 28, (uint32_t)rate * (uint32_t)bps);
    wr16(h + 32, (unsigned)bps);
    wr16(h + 34, (unsigned)(8 * bps));
    size_t at = 36;
    if (is_float) {
        wr16(h + 36, 0);                 /* cb_size */
        memcpy(h + 38, "fact", 4);
        wr32(h + 42, 4);
        wr32(h + 46, (uint32_t)n);       /* frames */
        at = 50;
    }
    memcpy(h + at, "data", 4);
    wr32(h + at + 4, data_bytes);

    AtomicFile f;
    if (atomic_file_open(&f, path)) return MELD_ERR;
    if (atomic_file_write(&f, h, header)) goto fail;
    uint8_t block[4096];
    for (size_t i = 0; i < n;) {
        size_t m = 0;
        for (; i < n && m + bps <= sizeof block; i++, m += bps) {
            float v = x[i];
            if (is_float) {
                uint32_t u;
                memcpy(&u, &v, 4);
                wr32(block + m, u);
            } else {
                /* Clip, scale by 2^15 and round; +1.0 saturates at 32767. */
                float c = v != v ? 0.0f : v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
                long q = lrintf(c * 32768.0f);
                if (q > 32767) q = 32767;
                wr16(block + m, (unsigned)(uint16_t)(int16_t)q);
            }
        }
        if (atomic_file_write(&f, block, m)) goto fail;
    }
    return atomic_file_commit(&f);
fail:
    atomic_file_abort(&f);
    return MELD_ERR;
}

int wav_write_pcm16(const char *path, const float *samples, size_t n, int sample_rate)
{
    return write_wav(path, samples, n, sample_rate, 0);
}

int wav_write_float(const char *path, const float *samples, size_t n, int sample_rate)
{
    return write_wav(path, samples, n, sample_rate, 1);
}
