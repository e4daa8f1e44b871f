/* Conv2D (im2col + GEMM) and MaxPool2D, forward and backward. The maths and
 * the layouts are in tensor/conv.h. */
#include "tensor/conv.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/conv_impl.h"
#include "tensor/cpu.h"
#include "tensor/eltwise.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/threadpool.h"

/* Largest tensor (elements) and im2col buffer we accept: beyond this a shape
 * is almost certainly a bug, and the GEMM takes int dimensions. */
#define MAX_ELEMS ((size_t)1 << 31)
#define MAX_COL ((size_t)1 << 28)
/* Images per weight-gradient group: fixed, so the summation order (and so
 * the result) does not depend on the thread count. */
enum { WGRAD_GROUPS = 8 };

/* ---- shapes -------------------------------------------------------------- */

int conv2d_out_h(const Conv2dShape *s)
{
    return (s->H + s->pad_top + s->pad_bottom - s->KH) / s->stride_h + 1;
}

int conv2d_out_w(const Conv2dShape *s)
{
    return (s->W + s->pad_left + s->pad_right - s->KW) / s->stride_w + 1;
}

/* TensorFlow 'same': out = ceil(in / stride), total = max((out-1)*stride + k - in, 0). */
static void same_pads(int in, int k, int stride, int *lo, int *hi)
{
    int out = (in + stride - 1) / stride;
    int total = (out - 1) * stride + k - in;
    if (total < 0) total = 0;
    *lo = total / 2;
    *hi = total - *lo;
}

int conv2d_set_padding(Conv2dShape *s, ConvPadding mode)
{
    if (s->H < 1 || s->W < 1 || s->KH < 1 || s->KW < 1 || s->stride_h < 1 || s->stride_w < 1)
        return meld_errorf("conv2d: padding needs positive H, W, kernel and strides "
                           "(got H=%d W=%d kernel %dx%d stride %dx%d)",
                           s->H, s->W, s->KH, s->KW, s->stride_h, s->stride_w);
    if (mode == CONV_PAD_VALID) {
        s->pad_top = s->pad_left = s->pad_bottom = s->pad_right = 0;
    } else {
        same_pads(s->H, s->KH, s->stride_h, &s->pad_top, &s->pad_bottom);
        same_pads(s->W, s->KW, s->stride_w, &s->pad_left, &s->pad_right);
    }
    return MELD_OK;
}

static size_t prod(size_t a, size_t b, size_t c, size_t d) { return a * b * c * d; }

int conv2d_check(const Conv2dShape *s)
{
    if (s->N < 1 || s->C < 1 || s->H < 1 || s->W < 1 || s->OC < 1 || s->KH < 1 || s->KW < 1)
        return meld_errorf("conv2d: sizes must be positive (N=%d C=%d H=%d W=%d OC=%d "
                           "kernel %dx%d)", s->N, s->C, s->H, s->W, s->OC, s->KH, s->KW);
    if (s->stride_h < 1 || s->stride_w < 1)
        return meld_errorf("conv2d: stride %dx%d must be positive", s->stride_h, s->stride_w);
    if (s->pad_top < 0 || s->pad_left < 0 || s->pad_bottom < 0 || s->pad_right < 0 ||
        s->pad_top > 1 << 10 || s->pad_left > 1 << 10 || s->pad_bottom > 1 << 10 ||
        s->pad_right > 1 << 10)
        return meld_errorf("conv2d: padding (%d,%d,%d,%d) must be in [0, 1024]",
                           s->pad_top, s->pad_left, s->pad_bottom, s->pad_right);
    if (s->H > 1 << 20 || s->W > 1 << 20 || s->KH > 1 << 10 || s->KW > 1 << 10 ||
        s->stride_h > 1 << 10 || s->stride_w > 1 << 10)
        return meld_errorf("conv2d: absurd size (H=%d W=%d kernel %dx%d stride %dx%d)",
                           s->H, s->W, s->KH, s->KW, s->stride_h, s->stride_w);
    if (s->H + s->pad_top + s->pad_bottom < s->KH || s->W + s->pad_left + s->pad_right < s->KW)
        return meld_errorf("conv2d: %dx%d kernel larger than the padded %dx%d input",
                           s->KH, s->KW, s->H + s->pad_top + s->pad_bottom,
                           s->W + s->pad_left + s->pad_right);
    size_t OH = (size_t)conv2d_out_h(s), OW = (size_t)conv2d_out_w(s);
    size_t ckk = (size_t)s->C * s->KH * s->KW;
    if (prod((size_t)s->N, (size_t)s->C, (size_t)s->H, (size_t)s->W) >= MAX_ELEMS ||
        prod((size_t)s->N, (size_t)s->OC, OH, OW) >= MAX_ELEMS ||
        prod((size_t)s->OC, ckk, 1, 1) >= MAX_ELEMS || ckk * OH * OW >= MAX_COL)
        return meld_errorf("conv2d: tensors too large (N=%d C=%d %dx%d -> OC=%d %zux%zu, "
                           "kernel %dx%d)", s->N, s->C, s->H, s->W, s->OC, OH, OW, s->KH, s->KW);
    return MELD_OK;
}

/* ---- im2col / col2im ----------------------------------------------------- */

/* Output columns j whose input column j*stride + q - pad lies in [0, W):
 * [*lo, *hi). */
static void valid_range(int out, int in, int q, int pad, int stride, int *lo, int *hi)
{
    int a = pad - q;                  /* need j*stride >= a */
    *lo = a <= 0 ? 0 : (a + stride - 1) / stride;
    int b = in - 1 + pad - q;         /* need j*stride <= b */
    *hi = b < 0 ? 0 : b / stride + 1;
    if (*hi > out) *hi = out;
    if (*lo > *hi) *lo = *hi;
}

/* One row of col: dst[j] = src[j*stride] for j in [lo, hi), zeros outside
 * [lo, hi) up to n. */
static void im2col_row(float *dst, const float *src, int lo, int hi, int n, int stride)
{
    memset(dst, 0, (size_t)lo * sizeof(float));
    if (stride == 1)
        memcpy(dst + lo, src, (size_t)(hi - lo) * sizeof(float));
    else
        for (int j = lo; j < hi; j++) dst[j] = src[(size_t)(j - lo) * stride];
    memset(dst + hi, 0, (size_t)(n - hi) * sizeof(float));
}

/* The per-ISA pooling and im2col pieces (NULL entries: the loops below). */
const ConvKernels conv_kernels_scalar = {NULL, NULL, NULL};
static const ConvKernels *const KERNELS[CPU_ISA_COUNT] = CPU_ISA_TABLE(conv_kernels);

void conv2d_im2col(const Conv2dShape *s, const float *x, float *col)
{
    const int OH = conv2d_out_h(s), OW = conv2d_out_w(s), sh = s->stride_h, sw = s->stride_w;
    const ConvKernels *k = KERNELS[cpu_isa()];
    const int vector_planes = sh == 1 && sw == 1 && OW <= IM2COL_PLANE_MAX_OW && k->im2col_plane_s1;
    for (int c = 0; c < s->C; c++)
        for (int p = 0; p < s->KH; p++)
            for (int q = 0; q < s->KW; q++) {
                int lo, hi;
                valid_range(OW, s->W, q, s->pad_left, sw, &lo, &hi);
                const float *plane = x + (size_t)c * s->H * s->W;
                if (vector_planes) {
                    k->im2col_plane_s1(col, plane, s->H, s->W, OH, OW, p - s->pad_top,
                                           q - s->pad_left, lo, hi);
                    col += (size_t)OH * OW;
                    continue;
                }
                for (int i = 0; i < OH; i++, col += OW) {
                    int ih = i * sh + p - s->pad_top;
                    if (ih < 0 || ih >= s->H || hi <= lo) {
                        memset(col, 0, (size_t)OW * sizeof(float));
                        continue;
                    }
                    /* input column of output j is j*sw + q - pad_left >= 0 for j >= lo */
                    const float *src = plane + (size_t)ih * s->W + (size_t)(lo * sw + q - s->pad_left);
                    im2col_row(col, src, lo, hi, OW, sw);
                }
            }
}

void conv2d_col2im(const Conv2dShape *s, const float *col, float *x)
{
    const int OH = conv2d_out_h(s), OW = conv2d_out_w(s), sh = s->stride_h, sw = s->stride_w;
    for (int c = 0; c < s->C; c++)
        for (int p = 0; p < s->KH; p++)
            for (int q = 0; q < s->KW; q++) {
                int lo, hi;
                valid_range(OW, s->W, q, s->pad_left, sw, &lo, &hi);
                for (int i = 0; i < OH; i++, col += OW) {
                    int ih = i * sh + p - s->pad_top;
                    if (ih < 0 || ih >= s->H || hi <= lo) continue;
                    float *dst = x + ((size_t)c * s->H + ih) * s->W +
                                 (size_t)(lo * sw + q - s->pad_left);
                    if (sw == 1)
                        eltwise_add(dst, col + lo, (size_t)(hi - lo));
                    else
                        for (int j = 0; j < hi - lo; j++) dst[(size_t)j * sw] += col[lo + j];
                }
            }
}

/* A 1x1 convolution with stride 1 and no padding needs no im2col: the image
 * [C, H*W] already is its col matrix. */
static int is_pointwise(const Conv2dShape *s)
{
    return s->KH == 1 && s->KW == 1 && s->stride_h == 1 && s->stride_w == 1 &&
           s->pad_top == 0 && s->pad_left == 0 && s->pad_bottom == 0 && s->pad_right == 0;
}

/* ---- the per-image work, shared by the three passes ----------------------- */

typedef struct {
    const Conv2dShape *s;
    const float *x, *w, *b, *dy;
    float *y, *dx, *dw_parts, *db_parts;
    float *cols;            /* one col buffer per thread (or per group) */
    size_t col_len;         /* CKK * P */
    int P, CKK, n_groups;
    int dw_transposed;      /* the partials hold dw^T [CKK, OC] (see below) */
} ConvJob;

static size_t in_len(const Conv2dShape *s) { return (size_t)s->C * s->H * s->W; }

static void forward_image(const ConvJob *j, int n, float *col)
{
    const Conv2dShape *s = j->s;
    const float *xn = j->x + (size_t)n * in_len(s);
    float *yn = j->y + (size_t)n * s->OC * j->P;
    if (is_pointwise(s)) col = (float *)xn;   /* read only */
    else conv2d_im2col(s, xn, col);
    gemm(GEMM_N, GEMM_N, s->OC, j->P, j->CKK, 1.0f, j->w, j->CKK, col, j->P, 0.0f, yn, j->P);
    if (j->b)
        for (int o = 0; o < s->OC; o++) eltwise_add_const(yn + (size_t)o * j->P, j->b[o], (size_t)j->P);
}

static void backward_input_image(const ConvJob *j, int n, float *dcol)
{
    const Conv2dShape *s = j->s;
    const float *dyn = j->dy + (size_t)n * s->OC * j->P;
    float *dxn = j->dx + (size_t)n * in_len(s);
    if (is_pointwise(s)) {      /* dx_n += W^T dy_n directly */
        gemm(GEMM_T, GEMM_N, j->CKK, j->P, s->OC, 1.0f, j->w, j->CKK, dyn, j->P, 1.0f, dxn, j->P);
        return;
    }
    gemm(GEMM_T, GEMM_N, j->CKK, j->P, s->OC, 1.0f, j->w, j->CKK, dyn, j->P, 0.0f, dcol, j->P);
    conv2d_col2im(s, dcol, dxn);
}

/* Group g: dw_g = sum over its images of dy_n col_n^T, db_g = row sums.
 * dy_n col_n^T [OC, CKK] reads dy_n in place when CKK <= GEMM_A_IN_PLACE_MAX_N and
 * otherwise packs (transposes) both operands. So when CKK is wide and OC
 * narrow (<= GEMM_A_IN_PLACE_MAX_N) the group computes dw_g^T = col_n dy_n^T
 * [CKK, OC] instead: col, the big operand, is read in place and only dy_n
 * is packed (2x faster for the frame CNN's 16->32 and 32->64 layers). */
static void backward_weight_group(const ConvJob *j, int g, float *col)
{
    const Conv2dShape *s = j->s;
    int n0 = (int)((long)g * s->N / j->n_groups), n1 = (int)((long)(g + 1) * s->N / j->n_groups);
    float *dw = j->dw_parts + (size_t)g * s->OC * j->CKK;
    float *db = j->db_parts ? j->db_parts + (size_t)g * s->OC : NULL;
    for (int n = n0; n < n1; n++) {
        const float *xn = j->x + (size_t)n * in_len(s);
        const float *dyn = j->dy + (size_t)n * s->OC * j->P;
        if (is_pointwise(s)) col = (float *)xn;
        else conv2d_im2col(s, xn, col);
        float beta = n == n0 ? 0.0f : 1.0f;
        if (j->dw_transposed)
            gemm(GEMM_N, GEMM_T, j->CKK, s->OC, j->P, 1.0f, col, j->P, dyn, j->P, beta, dw, s->OC);
        else
            gemm(GEMM_N, GEMM_T, s->OC, j->CKK, j->P, 1.0f, dyn, j->P, col, j->P, beta, dw, j->CKK);
        if (db)
            for (int o = 0; o < s->OC; o++) {
                float acc = eltwise_sum(dyn + (size_t)o * j->P, (size_t)j->P);
                db[o] = n == n0 ? acc : db[o] + acc;
            }
    }
}

/* This thread's col buffer (NULL for pointwise convolutions, which need none). */
static float *col_buffer(const ConvJob *j, int thread)
{
    return j->cols ? j->cols + (size_t)thread * j->col_len : NULL;
}

static void forward_task(void *ctx, int n, int thread)
{
    forward_image(ctx, n, col_buffer(ctx, thread));
}

static void backward_input_task(void *ctx, int n, int thread)
{
    backward_input_image(ctx, n, col_buffer(ctx, thread));
}

static void backward_weight_task(void *ctx, int g, int thread)
{
    backward_weight_group(ctx, g, col_buffer(ctx, thread));
}

/* Runs fn over `count` items. With at least as many items as threads, items
 * go to threads (each GEMM single-threaded inside its task); otherwise items
 * run one after the other and each GEMM uses all threads. Either way every
 * item is computed identically. Allocates the col buffers. */
static int run_items(ConvJob *j, int count, ThreadpoolFn fn, const char *what)
{
    int T = threadpool_threads();
    int parallel_items = count >= T && T > 1;
    int bufs = parallel_items ? T : 1;
    j->cols = NULL;
    if (!is_pointwise(j->s)) {
        j->cols = meld_aligned_alloc((size_t)bufs * j->col_len * sizeof(float), what);
        if (!j->cols) return MELD_ERR;
    }
    if (parallel_items) threadpool_parallel_for(count, fn, j);
    else
        for (int i = 0; i < count; i++) fn(j, i, 0);
    free(j->cols);
    return MELD_OK;
}

static void job_init(ConvJob *j, const Conv2dShape *s)
{
    memset(j, 0, sizeof *j);
    j->s = s;
    j->P = conv2d_out_h(s) * conv2d_out_w(s);
    j->CKK = s->C * s->KH * s->KW;
    j->col_len = (size_t)j->CKK * j->P;
}

int conv2d_forward(const Conv2dShape *s, const float *x, const float *w, const float *b,
                   float *y)
{
    if (conv2d_check(s)) return meld_error_context("conv2d_forward");
    ConvJob j;
    job_init(&j, s);
    j.x = x, j.w = w, j.b = b, j.y = y;
    return run_items(&j, s->N, forward_task, "conv2d im2col buffers");
}

int conv2d_backward_input(const Conv2dShape *s, const float *dy, const float *w, float *dx)
{
    if (conv2d_check(s)) return meld_error_context("conv2d_backward_input");
    ConvJob j;
    job_init(&j, s);
    j.dy = dy, j.w = w, j.dx = dx;
    return run_items(&j, s->N, backward_input_task, "conv2d col2im buffers");
}

int conv2d_backward_weight(const Conv2dShape *s, const float *x, const float *dy, float *dw,
                           float *db)
{
    if (conv2d_check(s)) return meld_error_context("conv2d_backward_weight");
    ConvJob j;
    job_init(&j, s);
    j.x = x, j.dy = dy;
    j.n_groups = s->N < WGRAD_GROUPS ? s->N : WGRAD_GROUPS;
    size_t wlen = (size_t)s->OC * j.CKK;
    j.dw_parts = meld_aligned_alloc((size_t)j.n_groups * (wlen + (size_t)s->OC) * sizeof(float),
                                    "conv2d weight-gradient partials");
    if (!j.dw_parts) return MELD_ERR;
    j.db_parts = db ? j.dw_parts + (size_t)j.n_groups * wlen : NULL;
    j.dw_transposed = s->OC <= GEMM_A_IN_PLACE_MAX_N && j.CKK > GEMM_A_IN_PLACE_MAX_N;
    int rc = run_items(&j, j.n_groups, backward_weight_task, "conv2d im2col buffers");
    if (rc == MELD_OK) {
        /* fixed order: group 0, 1, ... */
        for (int g = 0; g < j.n_groups; g++) {
            const float *part = j.dw_parts + (size_t)g * wlen;
            if (j.dw_transposed)
                for (int o = 0; o < s->OC; o++)
                    for (int k = 0; k < j.CKK; k++) dw[(size_t)o * j.CKK + k] += part[(size_t)k * s->OC + o];
            else
                eltwise_add(dw, part, wlen);
            if (db) eltwise_add(db, j.db_parts + (size_t)g * s->OC, (size_t)s->OC);
        }
    }
    free(j.dw_parts);
    return rc;
}

/* ---- direct-loop references ---------------------------------------------- */

/* Input value seen by tap (p,q) at output (i,j), or 0 in the padding. */
static float tap(const Conv2dShape *s, const float *xc, int i, int jj, int p, int q)
{
    int ih = i * s->stride_h + p - s->pad_top, iw = jj * s->stride_w + q - s->pad_left;
    if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) return 0.0f;
    return xc[(size_t)ih * s->W + iw];
}

int conv2d_forward_naive(const Conv2dShape *s, const float *x, const float *w, const float *b,
                         float *y)
{
    if (conv2d_check(s)) return meld_error_context("conv2d_forward_naive");
    const int OH = conv2d_out_h(s), OW = conv2d_out_w(s);
    for (int n = 0; n < s->N; n++)
        for (int o = 0; o < s->OC; o++)
            for (int i = 0; i < OH; i++)
                for (int jj = 0; jj < OW; jj++) {
                    double acc = b ? b[o] : 0.0;
                    for (int c = 0; c < s->C; c++) {
                        const float *xc = x + ((size_t)n * s->C + c) * s->H * s->W;
                        const float *wc = w + ((size_t)o * s->C + c) * s->KH * s->KW;
                        for (int p = 0; p < s->KH; p++)
                            for (int q = 0; q < s->KW; q++)
                                acc += (double)wc[p * s->KW + q] * tap(s, xc, i, jj, p, q);
                    }
                    y[(((size_t)n * s->OC + o) * OH + i) * OW + jj] = (float)acc;
                }
    return MELD_OK;
}

int conv2d_backward_input_naive(const Conv2dShape *s, const float *dy, const float *w,
                                float *dx)
{
    if (conv2d_check(s)) return meld_error_context("conv2d_backward_input_naive");
    const int OH = conv2d_out_h(s), OW = conv2d_out_w(s);
    for (int n = 0; n < s->N; n++)
        for (int o = 0; o < s->OC; o++)
            for (int i = 0; i < OH; i++)
                for (int jj = 0; jj < OW; jj++) {
                    float g = dy[(((size_t)n * s->OC + o) * OH + i) * OW + jj];
                    for (int c = 0; c < s->C; c++)
                        for (int p = 0; p < s->KH; p++)
                            for (int q = 0; q < s->KW; q++) {
                                int ih = i * s->stride_h + p - s->pad_top;
                                int iw = jj * s->stride_w + q - s->pad_left;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) continue;
                                dx[(((size_t)n * s->C + c) * s->H + ih) * s->W + iw] +=
                                    g * w[(((size_t)o * s->C + c) * s->KH + p) * s->KW + q];
                            }
                }
    return MELD_OK;
}

int conv2d_backward_weight_naive(const Conv2dShape *s, const float *x, const float *dy,
                                 float *dw, float *db)
{
    if (conv2d_check(s)) return meld_error_context("conv2d_backward_weight_naive");
    const int OH = conv2d_out_h(s), OW = conv2d_out_w(s);
    for (int o = 0; o < s->OC; o++) {
        for (int c = 0; c < s->C; c++)
            for (int p = 0; p < s->KH; p++)
                for (int q = 0; q < s->KW; q++) {
                    double acc = 0;
                    for (int n = 0; n < s->N; n++) {
                        const float *xc = x + ((size_t)n * s->C + c) * s->H * s->W;
                        const float *g = dy + ((size_t)n * s->OC + o) * OH * OW;
                        for (int i = 0; i < OH; i++)
                            for (int jj = 0; jj < OW; jj++)
                                acc += (double)g[(size_t)i * OW + jj] * tap(s, xc, i, jj, p, q);
                    }
                    dw[(((size_t)o * s->C + c) * s->KH + p) * s->KW + q] += (float)acc;
                }
        if (db) {
            double acc = 0;
            for (int n = 0; n < s->N; n++)
                for (int t = 0; t < OH * OW; t++) acc += dy[((size_t)n * s->OC + o) * OH * OW + t];
            db[o] += (float)acc;
        }
    }
    return MELD_OK;
}

/* ---- max pooling --------------------------------------------------------- */

int pool2d_out_h(const Pool2dShape *s) { return (s->H + 2 * s->pad_h - s->KH) / s->stride_h + 1; }
int pool2d_out_w(const Pool2dShape *s) { return (s->W + 2 * s->pad_w - s->KW) / s->stride_w + 1; }

int pool2d_check(const Pool2dShape *s)
{
    if (s->N < 1 || s->C < 1 || s->H < 1 || s->W < 1 || s->KH < 1 || s->KW < 1 ||
        s->stride_h < 1 || s->stride_w < 1)
        return meld_errorf("maxpool2d: sizes and strides must be positive (N=%d C=%d H=%d "
                           "W=%d kernel %dx%d stride %dx%d)", s->N, s->C, s->H, s->W, s->KH,
                           s->KW, s->stride_h, s->stride_w);
    if (s->pad_h < 0 || s->pad_w < 0 || 2 * s->pad_h > s->KH || 2 * s->pad_w > s->KW)
        return meld_errorf("maxpool2d: padding %dx%d must be in [0, kernel/2] for a %dx%d "
                           "kernel", s->pad_h, s->pad_w, s->KH, s->KW);
    if (s->H > 1 << 20 || s->W > 1 << 20 || s->KH > s->H + 2 * s->pad_h ||
        s->KW > s->W + 2 * s->pad_w)
        return meld_errorf("maxpool2d: %dx%d window does not fit the %dx%d input (pad %dx%d)",
                           s->KH, s->KW, s->H, s->W, s->pad_h, s->pad_w);
    if ((size_t)s->H * s->W >= ((size_t)1 << 31) ||
        prod((size_t)s->N, (size_t)s->C, (size_t)s->H, (size_t)s->W) >= MAX_ELEMS)
        return meld_errorf("maxpool2d: tensor too large (N=%d C=%d %dx%d)", s->N, s->C, s->H,
                           s->W);
    return MELD_OK;
}

/* The frame CNN's pool: 2x2 windows, stride 2, no padding (SIMD paths). */
static int is_2x2s2(const Pool2dShape *s)
{
    return s->KH == 2 && s->KW == 2 && s->stride_h == 2 && s->stride_w == 2 && s->pad_h == 0 && s->pad_w == 0;
}

/* One (n,c) plane: window maxima and their flat indices. */
static void pool_plane(const Pool2dShape *s, const float *x, float *y, int32_t *arg)
{
    const int OH = pool2d_out_h(s), OW = pool2d_out_w(s);
    const ConvKernels *k = KERNELS[cpu_isa()];
    if (is_2x2s2(s) && k->maxpool2x2s2_plane) {
        k->maxpool2x2s2_plane(x, s->H, s->W, y, arg);
        return;
    }
    for (int i = 0; i < OH; i++) {
        int h0 = i * s->stride_h - s->pad_h, h1 = h0 + s->KH;
        if (h0 < 0) h0 = 0;
        if (h1 > s->H) h1 = s->H;
        for (int jj = 0; jj < OW; jj++) {
            int w0 = jj * s->stride_w - s->pad_w, w1 = w0 + s->KW;
            if (w0 < 0) w0 = 0;
            if (w1 > s->W) w1 = s->W;
            /* pad <= kernel/2 guarantees a non-empty window. As PyTorch:
             * start from -inf at the first position, take v when v > best
             * or v is NaN. Written without branches (the comparisons of
             * random data are unpredictable): the compiler emits selects. */
            int best_i = h0 * s->W + w0;
            float best = -INFINITY;
            for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++) {
                    float v = x[h * s->W + w];
                    int take = (v > best) | (v != v);
                    best = take ? v : best;
                    best_i = take ? h * s->W + w : best_i;
                }
            y[i * OW + jj] = best;
            arg[i * OW + jj] = best_i;
        }
    }
}

typedef struct {
    const Pool2dShape *s;
    const float *x, *dy;
    float *y, *dx;
    const int32_t *arg_in;
    int32_t *arg;
    int planes_per_task, planes;
    bool assign;            /* backward: dx uninitialised, write (=) */
} PoolJob;

static void pool_fwd_task(void *ctx, int task, int thread)
{
    (void)thread;
    const PoolJob *j = ctx;
    const Pool2dShape *s = j->s;
    size_t in = (size_t)s->H * s->W, out = (size_t)pool2d_out_h(s) * pool2d_out_w(s);
    int p1 = (task + 1) * j->planes_per_task;
    for (int p = task * j->planes_per_task; p < p1 && p < j->planes; p++)
        pool_plane(s, j->x + p * in, j->y + p * out, j->arg + p * out);
}

static void pool_bwd_task(void *ctx, int task, int thread)
{
    (void)thread;
    const PoolJob *j = ctx;
    const Pool2dShape *s = j->s;
    size_t in = (size_t)s->H * s->W, out = (size_t)pool2d_out_h(s) * pool2d_out_w(s);
    int p1 = (task + 1) * j->planes_per_task;
    for (int p = task * j->planes_per_task; p < p1 && p < j->planes; p++) {
        float *dx = j->dx + p * in;
        const float *dy = j->dy + p * out;
        const int32_t *a = j->arg_in + p * out;
        const ConvKernels *k = KERNELS[cpu_isa()];
        if (is_2x2s2(s) && k->maxpool2x2s2_backward_plane) {
            k->maxpool2x2s2_backward_plane(dy, a, s->H, s->W, dx, j->assign);
            continue;
        }
        if (j->assign) memset(dx, 0, in * sizeof(float));
        for (size_t t = 0; t < out; t++) dx[a[t]] += dy[t];
    }
}

/* Planes per task: about 64K input elements each, so tiny planes are batched. */
static void pool_split(PoolJob *j, const Pool2dShape *s)
{
    j->s = s;
    j->planes = s->N * s->C;
    size_t in = (size_t)s->H * s->W;
    j->planes_per_task = in >= 65536 ? 1 : (int)(65536 / in);
}

static int n_tasks(const PoolJob *j) { return (j->planes + j->planes_per_task - 1) / j->planes_per_task; }

int maxpool2d_forward(const Pool2dShape *s, const float *x, float *y, int32_t *argmax)
{
    if (pool2d_check(s)) return meld_error_context("maxpool2d_forward");
    PoolJob j = {0};
    pool_split(&j, s);
    j.x = x, j.y = y, j.arg = argmax;
    threadpool_parallel_for(n_tasks(&j), pool_fwd_task, &j);
    return MELD_OK;
}

static int pool_backward(const Pool2dShape *s, const float *dy, const int32_t *argmax, float *dx,
                         bool assign)
{
    if (pool2d_check(s)) return meld_error_context("maxpool2d_backward");
    const size_t in = (size_t)s->H * s->W, out = (size_t)pool2d_out_h(s) * pool2d_out_w(s);
    /* one branch-free pass (vectorised); the error path finds the culprit */
    const size_t total = (size_t)s->N * s->C * out;
    int bad = 0;
    for (size_t t = 0; t < total; t++) bad |= (uint32_t)argmax[t] >= (uint32_t)in;
    for (size_t t = 0; bad && t < total; t++)
        if (argmax[t] < 0 || (size_t)argmax[t] >= in)
            return meld_errorf("maxpool2d_backward: argmax %d at %zu is outside the %dx%d plane",
                               argmax[t], t, s->H, s->W);
    PoolJob j = {0};
    pool_split(&j, s);
    j.dy = dy, j.dx = dx, j.arg_in = argmax, j.assign = assign;
    threadpool_parallel_for(n_tasks(&j), pool_bwd_task, &j);
    return MELD_OK;
}

int maxpool2d_backward(const Pool2dShape *s, const float *dy, const int32_t *argmax, float *dx)
{
    return pool_backward(s, dy, argmax, dx, false);
}

int maxpool2d_backward_assign(const Pool2dShape *s, const float *dy, const int32_t *argmax, float *dx)
{
    return pool_backward(s, dy, argmax, dx, true);
}

int maxpool2d_forward_naive(const Pool2dShape *s, const float *x, float *y, int32_t *argmax)
{
    if (pool2d_check(s)) return meld_error_context("maxpool2d_forward_naive");
    const int OH = pool2d_out_h(s), OW = pool2d_out_w(s);
    for (int pl = 0; pl < s->N * s->C; pl++)
        for (int i = 0; i < OH; i++)
            for (int jj = 0; jj < OW; jj++) {
                float best = -INFINITY;
                int best_i = -1;
                for (int p = 0; p < s->KH; p++)
                    for (int q = 0; q < s->KW; q++) {
                        int h = i * s->stride_h - s->pad_h + p, w = jj * s->stride_w - s->pad_w + q;
                        if (h < 0 || h >= s->H || w < 0 || w >= s->W) continue;
                        float v = x[(size_t)pl * s->H * s->W + (size_t)h * s->W + w];
                        if (best_i < 0) best_i = h * s->W + w;
                        if (v > best || isnan(v)) best = v, best_i = h * s->W + w;
                    }
                size_t o = ((size_t)pl * OH + i) * OW + jj;
                y[o] = best;
                argmax[o] = best_i;
            }
    return MELD_OK;
}
