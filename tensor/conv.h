/* 2-D convolution and max pooling on NCHW float tensors, forward and
 * backward, via im2col + GEMM.
 *
 * Shapes (all row-major, contiguous):
 *   x  [N, C, H, W]        input
 *   w  [OC, C, KH, KW]     filters (PyTorch's Conv2d layout)
 *   b  [OC]                bias (optional)
 *   y  [N, OC, OH, OW]     output, OH = (H + pad_top + pad_bottom - KH) / stride_h + 1
 *
 *   y[n,o,i,j] = b[o] + sum_{c,p,q} w[o,c,p,q] * x[n, c, i*sh + p - pad_top, j*sw + q - pad_left]
 * with x = 0 outside the image (zero padding).
 *
 * im2col. For one image, col is the [C*KH*KW, OH*OW] matrix whose row
 * (c,p,q) holds, for every output pixel (i,j), the input value that filter
 * tap (c,p,q) sees there. The whole convolution of that image is then one
 * GEMM with the filters seen as a [OC, C*KH*KW] matrix:
 *     y_n [OC, OH*OW]  = W [OC, CKK] * col_n [CKK, OH*OW]            (+ b)
 * and the backward pass is two more GEMMs and the adjoint of im2col:
 *     dcol_n [CKK, P]  = W^T * dy_n               dx_n = col2im(dcol_n)
 *     dW [OC, CKK]    += dy_n [OC, P] * col_n^T   db[o] += sum_P dy_n[o,:]
 * col2im adds every dcol entry back onto the input pixel it was copied
 * from (pixels seen by several taps receive the sum; padding receives
 * nothing). With stride 1, a row of col is a shifted row segment of the
 * image, so im2col is a memcpy per (tap, output row) and col2im a
 * vectorised add (eltwise_add).
 *
 * Threads: images are processed in parallel (tensor/threadpool.h), each
 * with its own col buffer and a single-threaded GEMM. The weight gradient
 * sums per-group partials in a fixed order (groups of images fixed by N, not
 * by the thread count), so every result is the same for any thread count.
 *
 * Gradients ACCUMULATE (+=) into dx, dw, db, as autograd expects; zero them
 * first for a plain gradient.
 *
 * Max pooling: y[n,c,i,j] = max over the KH x KW window at (i*sh - pad_h,
 * j*sw - pad_w) (positions outside the image are skipped, as if -inf);
 * argmax[n,c,i,j] = index ih*W + iw of the winner inside its (n,c) plane
 * (as PyTorch: the first one on ties, the last NaN if any; a window of
 * -inf only gives its first position). Backward:
 * dx[n,c, argmax] += dy[n,c,i,j].
 *
 * Every function validates the shape (positive sizes, the window fits,
 * element counts that fit in memory) and returns MELD_ERR with a message
 * instead of touching memory for a bad one; MELD_ERR also on allocation
 * failure. The *_naive functions are the direct loops the tests compare
 * with (single-threaded, no GEMM).
 */
#ifndef MELD_CONV_H
#define MELD_CONV_H

#include <stdint.h>

typedef struct {
    int N, C, H, W;           /* input batch, channels, height, width */
    int OC, KH, KW;           /* output channels, kernel height, width */
    int stride_h, stride_w;
    int pad_top, pad_left, pad_bottom, pad_right;
} Conv2dShape;

typedef enum {
    CONV_PAD_VALID,   /* no padding: OH = (H - KH) / sh + 1 */
    CONV_PAD_SAME,    /* OH = ceil(H / sh); total padding max((OH-1) sh + KH - H, 0),
                       * the extra row/column (odd total) at the bottom/right,
                       * as TensorFlow, and as PyTorch's padding='same' (stride 1) */
} ConvPadding;

/* Sets the four pads of s from its H, W, KH, KW, strides. */
int conv2d_set_padding(Conv2dShape *s, ConvPadding mode);
int conv2d_out_h(const Conv2dShape *s);
int conv2d_out_w(const Conv2dShape *s);
/* MELD_OK if s describes a computable convolution, else MELD_ERR + message. */
int conv2d_check(const Conv2dShape *s);

/* y = conv(x, w) + b; b may be NULL. y is overwritten. */
int conv2d_forward(const Conv2dShape *s, const float *x, const float *w, const float *b,
                   float *y);
/* dx += dL/dx given dy = dL/dy. */
int conv2d_backward_input(const Conv2dShape *s, const float *dy, const float *w, float *dx);
/* dw += dL/dw; db += dL/db (db may be NULL). */
int conv2d_backward_weight(const Conv2dShape *s, const float *x, const float *dy, float *dw,
                           float *db);

/* im2col / col2im of one image (x: [C, H, W], col: [C*KH*KW, OH*OW]).
 * col2im accumulates into x. */
void conv2d_im2col(const Conv2dShape *s, const float *x, float *col);
void conv2d_col2im(const Conv2dShape *s, const float *col, float *x);

/* Direct-loop references, same contracts. */
int conv2d_forward_naive(const Conv2dShape *s, const float *x, const float *w, const float *b,
                         float *y);
int conv2d_backward_input_naive(const Conv2dShape *s, const float *dy, const float *w,
                                float *dx);
int conv2d_backward_weight_naive(const Conv2dShape *s, const float *x, const float *dy,
                                 float *dw, float *db);

typedef struct {
    int N, C, H, W;
    int KH, KW, stride_h, stride_w, pad_h, pad_w;
} Pool2dShape;

int pool2d_out_h(const Pool2dShape *s);   /* (H + 2 pad_h - KH) / stride_h + 1 */
int pool2d_out_w(const Pool2dShape *s);
int pool2d_check(const Pool2dShape *s);   /* also: pad <= kernel / 2, as PyTorch */

/* y, argmax: [N, C, OH, OW]; both overwritten. */
int maxpool2d_forward(const Pool2dShape *s, const float *x, float *y, int32_t *argmax);
/* dx [N, C, H, W] += scatter of dy through argmax. */
int maxpool2d_backward(const Pool2dShape *s, const float *dy, const int32_t *argmax, float *dx);
/* The same into an uninitialised dx: dx = the scatter (inputs no window
 * chose get 0). Saves zeroing dx first (autograd's first writer). */
int maxpool2d_backward_assign(const Pool2dShape *s, const float *dy, const int32_t *argmax, float *dx);
/* Direct-loop reference of the forward. */
int maxpool2d_forward_naive(const Pool2dShape *s, const float *x, float *y, int32_t *argmax);

#endif
