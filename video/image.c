#include "video/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/input_file.h"

int image_check_size(int width, int height, int channels, const char *what)
{
    if (channels != 1 && channels != 3)
        return meld_errorf("%s: %d channels (expected 1 or 3)", what, channels);
    if (width < 1 || height < 1)
        return meld_errorf("%s: empty image size %dx%d", what, width, height);
    if (width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE || (long)width * height > IMAGE_MAX_PIXELS)
        return meld_errorf("%s: image size %dx%d over the limit (sides <= %d, <= %ld pixels)", what,
                           width, height, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
    return MELD_OK;
}

int image_alloc(Image *im, int width, int height, int channels)
{
    memset(im, 0, sizeof *im);
    if (image_check_size(width, height, channels, "image_alloc")) return MELD_ERR;
    im->pixels = meld_malloc((size_t)width * height * channels, "image pixels");
    if (!im->pixels) return MELD_ERR;
    im->width = width;
    im->height = height;
    im->channels = channels;
    return MELD_OK;
}

void image_free(Image *im)
{
    free(im->pixels);
    memset(im, 0, sizeof *im);
}

int image_ensure(Image *im, int width, int height, int channels)
{
    if (im->pixels && im->width == width && im->height == height && im->channels == channels)
        return MELD_OK;
    image_free(im);
    return image_alloc(im, width, height, channels);
}

int image_copy(Image *dst, const Image *src)
{
    if (image_alloc(dst, src->width, src->height, src->channels)) return MELD_ERR;
    memcpy(dst->pixels, src->pixels, (size_t)src->width * src->height * src->channels);
    return MELD_OK;
}

/* ---- PNM header parsing ------------------------------------------------ */

/* Cursor over the in-memory file. */
typedef struct {
    const uint8_t *p;
    size_t n, pos;
    const char *name;
} Cursor;

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Skips whitespace and '#' comments (a comment runs to the end of its line). */
static void skip_space_and_comments(Cursor *c)
{
    while (c->pos < c->n) {
        if (is_space(c->p[c->pos])) {
            c->pos++;
        } else if (c->p[c->pos] == '#') {
            while (c->pos < c->n && c->p[c->pos] != '\n') c->pos++;
        } else {
            break;
        }
    }
}

/* A decimal field of the header, at most `max`. */
static int read_field(Cursor *c, const char *field, long max, long *out)
{
    skip_space_and_comments(c);
    if (c->pos >= c->n) return meld_errorf("%s: PNM header truncated before %s", c->name, field);
    if (c->p[c->pos] < '0' || c->p[c->pos] > '9')
        return meld_errorf("%s: PNM header: %s is not a number", c->name, field);
    long v = 0;
    while (c->pos < c->n && c->p[c->pos] >= '0' && c->p[c->pos] <= '9') {
        v = v * 10 + (c->p[c->pos++] - '0');
        if (v > max) return meld_errorf("%s: PNM header: %s over %ld", c->name, field, max);
    }
    *out = v;
    return MELD_OK;
}

int pnm_read_memory(const uint8_t *data, size_t size, const char *name, Image *out)
{
    memset(out, 0, sizeof *out);
    Cursor c = {data, size, 0, name};
    if (size < 2 || data[0] != 'P' || (data[1] != '5' && data[1] != '6')) {
        if (size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7')
            return meld_errorf("%s: PNM type P%c not supported (only binary P5 grey and P6 colour)", name, data[1]);
        return meld_errorf("%s: not a PNM file (expected P5 or P6 magic)", name);
    }
    int channels = data[1] == '5' ? 1 : 3;
    c.pos = 2;
    long w, h, maxval;
    if (read_field(&c, "width", IMAGE_MAX_SIDE, &w) || read_field(&c, "height", IMAGE_MAX_SIDE, &h) ||
        read_field(&c, "maxval", 65535, &maxval))
        return MELD_ERR;
    if (maxval < 1) return meld_errorf("%s: PNM maxval is 0", name);
    if (maxval > 255) return meld_errorf("%s: 16-bit PNM (maxval %ld) not supported", name, maxval);
    if (image_check_size((int)w, (int)h, channels, name)) return MELD_ERR;
    /* Exactly one whitespace byte separates maxval from the raster. */
    if (c.pos >= c.n || !is_space(c.p[c.pos])) return meld_errorf("%s: PNM header truncated after maxval", name);
    c.pos++;
    size_t need = (size_t)w * (size_t)h * channels;
    if (c.n - c.pos < need)
        return meld_errorf("%s: PNM raster truncated: %zu of %zu bytes", name, c.n - c.pos, need);
    if (image_alloc(out, (int)w, (int)h, channels)) return MELD_ERR;
    memcpy(out->pixels, c.p + c.pos, need);
    if (maxval != 255) {
        /* Rescale v/maxval to 0..255 with rounding; samples above maxval clamp. */
        for (size_t i = 0; i < need; i++) {
            long v = out->pixels[i] > maxval ? maxval : out->pixels[i];
            out->pixels[i] = (uint8_t)((v * 255 + maxval / 2) / maxval);
        }
    }
    return MELD_OK;
}

int pnm_read(const char *path, Image *out)
{
    memset(out, 0, sizeof *out);
    FILE *fp = input_file_fopen(path);
    if (!fp) return MELD_ERR;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        fclose(fp);
        return meld_errorf("%s: cannot stat: %s", path, strerror(errno));
    }
    /* The largest legal file: a header of a few hundred bytes plus the
     * largest raster. Anything bigger is refused before allocating. */
    long long max_bytes = 4096 + (long long)IMAGE_MAX_PIXELS * 3;
    if ((long long)st.st_size > max_bytes) {
        fclose(fp);
        return meld_errorf("%s: file too large for a PNM image (%lld bytes)", path, (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = meld_malloc(size, "PNM file");
    if (!data) {
        fclose(fp);
        return MELD_ERR;
    }
    size_t got = fread(data, 1, size, fp);
    int read_error = ferror(fp);
    fclose(fp);
    int rc;
    if (read_error || got != size)
        rc = meld_errorf("%s: read error", path);
    else
        rc = pnm_read_memory(data, size, path, out);
    free(data);
    return rc;
}

int pnm_write(const char *path, const Image *im)
{
    if (image_check_size(im->width, im->height, im->channels, path)) return MELD_ERR;
    AtomicFile f;
    if (atomic_file_open(&f, path)) return MELD_ERR;
    char header[64];
    int n = snprintf(header, sizeof header, "P%c\n%d %d\n255\n", im->channels == 1 ? '5' : '6', im->width,
                     im->height);
    if (atomic_file_write(&f, header, (size_t)n) ||
        atomic_file_write(&f, im->pixels, (size_t)im->width * im->height * im->channels)) {
        atomic_file_abort(&f);
        return MELD_ERR;
    }
    return atomic_file_commit(&f);
}
