#include "video/transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

/* ---- crops --------------------------------------------------------------- */

int image_crop(const Image *src, ImageRect r, Image *dst)
{
    if (r.x < 0 || r.y < 0 || r.width < 1 || r.height < 1 || r.x > src->width - r.width ||
        r.y > src->height - r.height)
        return meld_errorf("image_crop: region %dx%d+%d+%d outside the %dx%d image", r.width, r.height, r.x, r.y,
                           src->width, src->height);
    return image_crop_pad(src, r, 0, dst);
}

int image_crop_pad(const Image *src, ImageRect r, uint8_t fill, Image *dst)
{
    if (image_ensure(dst, r.width, r.height, src->channels)) return MELD_ERR;
    const int c = src->channels;
    /* The part of each output row that falls inside the source, [x0, x1). */
    int x0 = r.x < 0 ? -r.x : 0;
    int x1 = src->width - r.x < r.width ? src->width - r.x : r.width;
    if (x1 < x0) x1 = x0;
    for (int y = 0; y < r.height; y++) {
        uint8_t *o = dst->pixels + (size_t)y * r.width * c;
        int sy = r.y + y;
        if (sy < 0 || sy >= src->height || x1 == x0) {
            memset(o, fill, (size_t)r.width * c);
            continue;
        }
        memset(o, fill, (size_t)x0 * c);
        memcpy(o + (size_t)x0 * c, src->pixels + ((size_t)sy * src->width + r.x + x0) * c, (size_t)(x1 - x0) * c);
        memset(o + (size_t)x1 * c, fill, (size_t)(r.width - x1) * c);
    }
    return MELD_OK;
}

ImageRect rect_centre_square(int width, int height)
{
    int s = width < height ? width : height;
    return (ImageRect){(width - s) / 2, (height - s) / 2, s, s};
}

int image_centre_crop(const Image *src, int w, int h, Image *dst)
{
    if (w > src->width) w = src->width;
    if (h > src->height) h = src->height;
    return image_crop(src, (ImageRect){(src->width - w) / 2, (src->height - h) / 2, w, h}, dst);
}

void image_flip_horizontal(Image *im)
{
    const int c = im->channels;
    for (int y = 0; y < im->height; y++) {
        uint8_t *row = im->pixels + (size_t)y * im->width * c;
        for (int a = 0, b = im->width - 1; a < b; a++, b--) {
            for (int k = 0; k < c; k++) {
                uint8_t t = row[a * c + k];
                row[a * c + k] = row[b * c + k];
                row[b * c + k] = t;
            }
        }
    }
}

/* ---- bilinear -------------------------------------------------------------- */

/* For each output coordinate: the two input samples and the weight of the
 * second, in 1/256 (fixed point keeps the inner loop in integers). The
 * arithmetic is OpenCV's INTER_LINEAR_EXACT, bit for bit, so the face
 * detector's pyramid sees the pixels OpenCV's sees: the step is
 * 1 / (n_out / n_in) in double, the weight is rounded to nearest even, and
 * a coordinate left of the first sample or at/after the last takes that
 * sample alone. */
typedef struct {
    int i0, i1, w1;
} LinTap;

static void linear_taps(LinTap *t, int n_out, int n_in)
{
    const double scale = 1.0 / ((double)n_out / n_in);
    for (int i = 0; i < n_out; i++) {
        double s = (i + 0.5) * scale - 0.5;
        double i0 = floor(s);
        if (i0 < 0) t[i] = (LinTap){0, 0, 0};
        else if (i0 >= n_in - 1) t[i] = (LinTap){n_in - 1, n_in - 1, 0};
        else t[i] = (LinTap){(int)i0, (int)i0 + 1, (int)lrint((s - i0) * 256.0)};
    }
}

static int check_target(const Image *src, int w, int h, Image *dst, const char *op)
{
    if (src == dst) return meld_errorf("%s: source and destination are the same image", op);
    if (image_check_size(w, h, src->channels, op)) return MELD_ERR;
    return image_ensure(dst, w, h, src->channels);
}

int image_resize_bilinear(const Image *src, int w, int h, Image *dst)
{
    if (check_target(src, w, h, dst, "image_resize_bilinear")) return MELD_ERR;
    LinTap *tx = meld_malloc(sizeof(LinTap) * (size_t)(w + h), "resize taps");
    if (!tx) return MELD_ERR;
    LinTap *ty = tx + w;
    linear_taps(tx, w, src->width);
    linear_taps(ty, h, src->height);
    const int c = src->channels;
    for (int y = 0; y < h; y++) {
        const uint8_t *r0 = src->pixels + (size_t)ty[y].i0 * src->width * c;
        const uint8_t *r1 = src->pixels + (size_t)ty[y].i1 * src->width * c;
        int wy1 = ty[y].w1, wy0 = 256 - wy1;
        uint8_t *o = dst->pixels + (size_t)y * w * c;
        if (c == 1) {
            /* the face detector's pyramid: grey, one loop without the channel one */
            for (int x = 0; x < w; x++) {
                const LinTap t = tx[x];
                int top = (256 - t.w1) * r0[t.i0] + t.w1 * r0[t.i1];
                int bot = (256 - t.w1) * r1[t.i0] + t.w1 * r1[t.i1];
                o[x] = (uint8_t)((wy0 * top + wy1 * bot + 32768) >> 16);
            }
            continue;
        }
        for (int x = 0; x < w; x++) {
            int wx1 = tx[x].w1, wx0 = 256 - wx1;
            const int a = tx[x].i0 * c, b = tx[x].i1 * c;
            for (int k = 0; k < c; k++) {
                int top = wx0 * r0[a + k] + wx1 * r0[b + k];
                int bot = wx0 * r1[a + k] + wx1 * r1[b + k];
                /* weights total 256 * 256 = 2^16; round to nearest */
                o[x * c + k] = (uint8_t)((wy0 * top + wy1 * bot + 32768) >> 16);
            }
        }
    }
    free(tx);
    return MELD_OK;
}

/* ---- area ---------------------------------------------------------------- */

/* Output pixel i covers input [i * s, (i + 1) * s) with s = n_in / n_out.
 * Its taps are the input pixels overlapping that span, each weighted by
 * overlap / s, so the weights sum to 1. Stored as a flat list. */
typedef struct {
    int *first, *count;   /* per output: index of its first tap, tap count */
    int *index;           /* input pixel of each tap */
    float *weight;
} AreaTaps;

static int area_taps(AreaTaps *t, int n_out, int n_in)
{
    double s = (double)n_in / n_out;
    /* each output touches at most ceil(s) + 1 inputs */
    size_t cap = (size_t)n_out * ((size_t)ceil(s) + 2);
    t->first = meld_malloc(sizeof(int) * 2 * (size_t)n_out + (sizeof(int) + sizeof(float)) * cap, "area taps");
    if (!t->first) return MELD_ERR;
    t->count = t->first + n_out;
    t->index = t->count + n_out;
    t->weight = (float *)(t->index + cap);
    size_t k = 0;
    for (int i = 0; i < n_out; i++) {
        double lo = i * s, hi = (i + 1) * s;
        int j0 = (int)floor(lo), j1 = (int)ceil(hi);
        if (j1 > n_in) j1 = n_in;
        t->first[i] = (int)k;
        for (int j = j0; j < j1; j++) {
            double a = j > lo ? j : lo, b = j + 1 < hi ? j + 1 : hi;
            if (b <= a) continue;
            t->index[k] = j;
            t->weight[k] = (float)((b - a) / s);
            k++;
        }
        t->count[i] = (int)k - t->first[i];
    }
    return MELD_OK;
}

int image_resize_area(const Image *src, int w, int h, Image *dst)
{
    if (check_target(src, w, h, dst, "image_resize_area")) return MELD_ERR;
    AreaTaps tx, ty;
    if (area_taps(&tx, w, src->width)) return MELD_ERR;
    if (area_taps(&ty, h, src->height)) {
        free(tx.first);
        return MELD_ERR;
    }
    const int c = src->channels;
    /* Separable: first each output row is accumulated from its input rows
     * (vertical pass, src->width * c floats), then columns are combined. */
    float *acc = meld_malloc(sizeof(float) * (size_t)src->width * c, "area resize row");
    if (!acc) {
        free(tx.first);
        free(ty.first);
        return MELD_ERR;
    }
    const size_t row = (size_t)src->width * c;
    for (int y = 0; y < h; y++) {
        memset(acc, 0, sizeof(float) * row);
        for (int t = ty.first[y]; t < ty.first[y] + ty.count[y]; t++) {
            const uint8_t *s = src->pixels + (size_t)ty.index[t] * row;
            float wgt = ty.weight[t];
            for (size_t i = 0; i < row; i++) acc[i] += wgt * s[i];
        }
        uint8_t *o = dst->pixels + (size_t)y * w * c;
        for (int x = 0; x < w; x++) {
            for (int k = 0; k < c; k++) {
                float v = 0;
                for (int t = tx.first[x]; t < tx.first[x] + tx.count[x]; t++)
                    v += tx.weight[t] * acc[(size_t)tx.index[t] * c + k];
                int q = (int)lrintf(v);
                o[x * c + k] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
        }
    }
    free(acc);
    free(tx.first);
    free(ty.first);
    return MELD_OK;
}

int image_resize(const Image *src, int w, int h, Image *dst)
{
    if (w <= src->width && h <= src->height) return image_resize_area(src, w, h, dst);
    return image_resize_bilinear(src, w, h, dst);
}

/* ---- float tensors ---------------------------------------------------------- */

int image_to_chw(const Image *im, const float *mean, const float *std, float *out)
{
    const int c = im->channels;
    const size_t plane = (size_t)im->width * im->height;
    for (int k = 0; k < c; k++) {
        float m = mean ? mean[k] : 0.0f, s = std ? std[k] : 1.0f;
        if (!(s > 0)) return meld_errorf("image_to_chw: std[%d] = %g must be > 0", k, s);
        /* (p / 255 - m) / s = p * a + b, folded once per channel */
        float a = 1.0f / (255.0f * s), b = -m / s;
        float *o = out + k * plane;
        const uint8_t *p = im->pixels + k;
        for (size_t i = 0; i < plane; i++) o[i] = p[i * c] * a + b;
    }
    return MELD_OK;
}

int image_channel_stats(const Image *ims, int n, float *mean, float *std)
{
    if (n < 1) return meld_errorf("image_channel_stats: no images");
    const int c = ims[0].channels;
    double s[3] = {0}, s2[3] = {0}, count = 0;
    for (int i = 0; i < n; i++) {
        if (ims[i].channels != c)
            return meld_errorf("image_channel_stats: image %d has %d channels, image 0 has %d", i, ims[i].channels, c);
        size_t plane = (size_t)ims[i].width * ims[i].height;
        for (size_t p = 0; p < plane; p++) {
            for (int k = 0; k < c; k++) {
                double v = ims[i].pixels[p * c + k] / 255.0;
                s[k] += v;
                s2[k] += v * v;
            }
        }
        count += (double)plane;
    }
    for (int k = 0; k < c; k++) {
        double m = s[k] / count, var = s2[k] / count - m * m;
        mean[k] = (float)m;
        std[k] = (float)sqrt(var > 0 ? var : 0);
    }
    return MELD_OK;
}
