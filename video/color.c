#include "video/color.h"

#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

/* 16.16 fixed-point BT.601 coefficients (see color.h for the formulas). */
enum {
    FIX_ONE = 65536,
    FIX_HALF = 32768,
    /* studio range, YCbCr -> RGB: 255/219, and 255/224 times the matrix */
    S_Y = 76309, S_RV = 104597, S_GU = 25675, S_GV = 53279, S_BU = 132201,
    /* full range, YCbCr -> RGB */
    F_RV = 91881, F_GU = 22553, F_GV = 46802, F_BU = 116130,
    /* RGB -> studio YCbCr, each row divided by 255 (the Cb row sums to 0) */
    Y_R = 16829, Y_G = 33039, Y_B = 6416,
    CB_R = -9714, CB_G = -19070, CB_B = 28784,
    CR_R = 28784, CR_G = -24103, CR_B = -4681,
    /* luma of RGB: Kr, Kg, Kb in 2^-15, OpenCV's cvtColor constants (so the
     * face detector sees OpenCV's grey) */
    L_R = 9798, L_G = 19235, L_B = 3735, L_HALF = 1 << 14,
};

static inline uint8_t clamp_fix(int32_t v)
{
    /* v is 16.16 fixed point with the rounding half already added */
    v >>= 16;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* One axis of chroma upsampling: for luma coordinate i, the two chroma
 * samples to blend and the weight (in quarters) of the second one. */
typedef struct {
    int a, b;
    int wb;     /* value = ((4 - wb) * C[a] + wb * C[b]) / 4 */
} Tap;

/* `centred`: chroma sits between the two luma samples it covers (2i+0.5);
 * otherwise it is co-sited with the even one (2i). `sub`: 2 if this axis
 * is subsampled, 1 if not. */
static void make_taps(Tap *t, int n_luma, int n_chroma, int sub, int centred)
{
    for (int i = 0; i < n_luma; i++) {
        if (sub == 1) {
            t[i] = (Tap){i, i, 0};
            continue;
        }
        int c = i / 2, odd = i & 1;
        if (centred) {
            /* chroma coordinate of luma i: (i - 0.5) / 2 = c - 0.25 or c + 0.25 */
            int other = odd ? c + 1 : c - 1;
            if (other < 0) other = 0;
            if (other >= n_chroma) other = n_chroma - 1;
            t[i] = (Tap){c, other, 1};
        } else {
            /* chroma coordinate i / 2: exact for even, halfway for odd */
            int next = c + 1 < n_chroma ? c + 1 : n_chroma - 1;
            t[i] = odd ? (Tap){c, next, 2} : (Tap){c, c, 0};
        }
    }
}

/* Upsamples one row of a chroma plane to luma width, in sixteenths:
 * out[x] = 16 * chroma value at (x, y). */
static void upsample_row(const uint8_t *plane, int cw, const Tap *ty, const Tap *tx, int width, int16_t *out)
{
    const uint8_t *r0 = plane + (size_t)ty->a * cw, *r1 = plane + (size_t)ty->b * cw;
    int wy1 = ty->wb, wy0 = 4 - wy1;
    for (int x = 0; x < width; x++) {
        int wx1 = tx[x].wb, wx0 = 4 - wx1;
        int top = wx0 * r0[tx[x].a] + wx1 * r0[tx[x].b];
        int bot = wx0 * r1[tx[x].a] + wx1 * r1[tx[x].b];
        out[x] = (int16_t)(wy0 * top + wy1 * bot);
    }
}

int yuv_to_rgb(const YuvFrame *f, Image *out)
{
    if (image_ensure(out, f->width, f->height, 3)) return MELD_ERR;
    const int w = f->width, h = f->height;
    if (f->chroma == Y4M_MONO) {
        /* No chroma: a grey picture, Cb = Cr = 128. */
        for (size_t i = 0; i < (size_t)w * h; i++) {
            int32_t v = f->full_range ? f->y[i] * FIX_ONE : (f->y[i] - 16) * S_Y;
            uint8_t g = clamp_fix(v + FIX_HALF);
            out->pixels[3 * i] = out->pixels[3 * i + 1] = out->pixels[3 * i + 2] = g;
        }
        return MELD_OK;
    }
    int sub_x = f->chroma == Y4M_444 ? 1 : 2;
    int sub_y = (f->chroma == Y4M_444 || f->chroma == Y4M_422) ? 1 : 2;
    int centred_x = f->chroma == Y4M_420JPEG;
    int centred_y = f->chroma == Y4M_420JPEG || f->chroma == Y4M_420MPEG2;
    /* scratch: taps for x and y, then the two upsampled chroma rows */
    size_t bytes = sizeof(Tap) * (size_t)(w + h) + sizeof(int16_t) * 2 * (size_t)w;
    uint8_t *scratch = meld_malloc(bytes, "chroma upsampling");
    if (!scratch) return MELD_ERR;
    Tap *tx = (Tap *)scratch, *ty = tx + w;
    int16_t *cb = (int16_t *)(ty + h), *cr = cb + w;
    make_taps(tx, w, f->chroma_width, sub_x, centred_x);
    make_taps(ty, h, f->chroma_height, sub_y, centred_y);
    const int ky = f->full_range ? FIX_ONE : S_Y, y0 = f->full_range ? 0 : 16;
    const int krv = f->full_range ? F_RV : S_RV, kgu = f->full_range ? F_GU : S_GU;
    const int kgv = f->full_range ? F_GV : S_GV, kbu = f->full_range ? F_BU : S_BU;
    for (int y = 0; y < h; y++) {
        upsample_row(f->cb, f->chroma_width, &ty[y], tx, w, cb);
        upsample_row(f->cr, f->chroma_width, &ty[y], tx, w, cr);
        const uint8_t *yr = f->y + (size_t)y * w;
        uint8_t *o = out->pixels + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            /* chroma is in sixteenths: (c - 16*128) * k / 16 */
            int32_t yy = (yr[x] - y0) * ky + FIX_HALF;
            int32_t u = cb[x] - 16 * 128, v = cr[x] - 16 * 128;
            o[3 * x + 0] = clamp_fix(yy + ((v * krv) >> 4));
            o[3 * x + 1] = clamp_fix(yy - ((u * kgu + v * kgv) >> 4));
            o[3 * x + 2] = clamp_fix(yy + ((u * kbu) >> 4));
        }
    }
    free(scratch);
    return MELD_OK;
}

int yuv_to_grey(const YuvFrame *f, Image *out)
{
    if (image_ensure(out, f->width, f->height, 1)) return MELD_ERR;
    size_t n = (size_t)f->width * f->height;
    if (f->full_range) {
        memcpy(out->pixels, f->y, n);
    } else {
        for (size_t i = 0; i < n; i++) out->pixels[i] = clamp_fix((f->y[i] - 16) * S_Y + FIX_HALF);
    }
    return MELD_OK;
}

void rgb_to_yuv420(const Image *rgb, uint8_t *yp, uint8_t *cbp, uint8_t *crp)
{
    const int w = rgb->width, h = rgb->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    const uint8_t *p = rgb->pixels;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        int r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2];
        yp[i] = (uint8_t)(16 + ((Y_R * r + Y_G * g + Y_B * b + FIX_HALF) >> 16));
    }
    for (int cy = 0; cy < ch; cy++) {
        for (int cx = 0; cx < cw; cx++) {
            /* mean Cb, Cr over the 2x2 block (fewer pixels at odd edges) */
            int32_t su = 0, sv = 0, n = 0;
            for (int y = 2 * cy; y < 2 * cy + 2 && y < h; y++) {
                for (int x = 2 * cx; x < 2 * cx + 2 && x < w; x++) {
                    const uint8_t *q = p + ((size_t)y * w + x) * 3;
                    su += CB_R * q[0] + CB_G * q[1] + CB_B * q[2];
                    sv += CR_R * q[0] + CR_G * q[1] + CR_B * q[2];
                    n++;
                }
            }
            /* 128 + sum / (n * 65536), rounded; the offset keeps the
             * numerator non-negative (|sum| <= n * 112 * 65536). */
            int32_t d = n * FIX_ONE;
            cbp[(size_t)cy * cw + cx] = (uint8_t)((su + 128 * d + d / 2) / d);
            crp[(size_t)cy * cw + cx] = (uint8_t)((sv + 128 * d + d / 2) / d);
        }
    }
}

int image_to_grey(const Image *src, Image *dst)
{
    if (image_ensure(dst, src->width, src->height, 1)) return MELD_ERR;
    size_t n = (size_t)src->width * src->height;
    if (src->channels == 1) {
        memcpy(dst->pixels, src->pixels, n);
        return MELD_OK;
    }
    const uint8_t *p = src->pixels;
    for (size_t i = 0; i < n; i++)
        dst->pixels[i] = (uint8_t)((L_R * p[3 * i] + L_G * p[3 * i + 1] + L_B * p[3 * i + 2] + L_HALF) >> 15);
    return MELD_OK;
}

int image_to_rgb(const Image *src, Image *dst)
{
    if (image_ensure(dst, src->width, src->height, 3)) return MELD_ERR;
    size_t n = (size_t)src->width * src->height;
    if (src->channels == 3) {
        memcpy(dst->pixels, src->pixels, n * 3);
        return MELD_OK;
    }
    for (size_t i = 0; i < n; i++)
        dst->pixels[3 * i] = dst->pixels[3 * i + 1] = dst->pixels[3 * i + 2] = src->pixels[i];
    return MELD_OK;
}

int image_convert(const Image *src, Image *dst, int channels)
{
    if (channels == 1) return image_to_grey(src, dst);
    if (channels == 3) return image_to_rgb(src, dst);
    return meld_errorf("image_convert: %d channels (expected 1 or 3)", channels);
}
