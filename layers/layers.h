/* The built-in feed-forward layers (the recurrent ones are in their own
 * headers). Each constructor returns a heap Layer (free it with layer_free,
 * or hand it to a Model, which then owns it) or NULL with the error set.
 * Run a layer with layer_forward(l, g, x, mask) (layer.h); these layers have
 * no time axis and ignore the mask.
 *
 * Layouts are PyTorch's: images are NCHW, [batch, channels, height, width];
 * a Dense layer acts on the last axis of any [..., in] tensor.
 *
 * Parameter names and shapes are exactly torch.nn's, so a checkpoint loads
 * into the equivalent module with load_state_dict():
 *     Dense       "<name>.weight" [out, in], "<name>.bias" [out]
 *     Conv2D      "<name>.weight" [out_ch, in_ch, kh, kw], "<name>.bias" [out_ch]
 *     BatchNorm   "<name>.weight" [C] (gamma), "<name>.bias" [C] (beta);
 *                 buffers "<name>.running_mean" [C], "<name>.running_var" [C],
 *                 "<name>.num_batches_tracked" [] (a float count here; torch
 *                 keeps an int64, convert when loading into torch)
 *
 * Initialisation (PyTorch defaults, drawn from the Rng in the order listed):
 *     Dense, Conv2D  weight then bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 *                    fan_in = in (Dense) or in_ch*kh*kw (Conv2D); this is
 *                    torch's kaiming_uniform_(a=sqrt(5)) for the weight and
 *                    its bias rule. Same distribution as torch, but not the
 *                    same numbers (torch has its own generator).
 *     BatchNorm      gamma = 1, beta = 0, running_mean = 0, running_var = 1,
 *                    num_batches_tracked = 0 (no randomness).
 */
#ifndef MELD_LAYERS_H
#define MELD_LAYERS_H

#include <stdbool.h>

#include "layers/layer.h"

/* ---- Dense (torch.nn.Linear): y = x W^T + b over the last axis ---------- */
Layer *dense_new(const char *name, int in, int out, bool bias, Rng *r);

/* ---- activations (no parameters) ------------------------------------------ */
Layer *relu_new(const char *name);
/* y = x for x > 0, slope * x otherwise. torch's default slope is 0.01,
 * Keras's LeakyReLU default alpha is 0.3. */
Layer *leaky_relu_new(const char *name, float slope);
Layer *tanh_new(const char *name);

/* ---- Flatten (torch.nn.Flatten()): [N, d1, d2, ...] -> [N, d1*d2*...] ---- */
Layer *flatten_new(const char *name);

/* ---- Dropout ---------------------------------------------------------------
 * dropout: each element is zeroed with probability p in training (kept ones
 * scaled by 1/(1-p)); identity in eval (Graph.training false).
 * dropout2d (torch.nn.Dropout2d, Keras SpatialDropout): x is [N, C, ...]
 * (rank >= 3) and whole channels are zeroed: one draw per (n, c), shared by
 * every position of that feature map. Masks come from the Graph's Rng. */
Layer *dropout_new(const char *name, float p);
Layer *dropout2d_new(const char *name, float p);

/* ---- Conv2D (torch.nn.Conv2d, groups = dilation = 1) -----------------------
 * x [N, C_in, H, W] -> y [N, C_out, OH, OW], zero padding; the kernels are
 * tensor/conv.h's (im2col + GEMM). Padding modes:
 *   CONV2D_VALID     no padding: OH = (H - kh) / sh + 1
 *   CONV2D_SAME      Keras/TensorFlow 'same': OH = ceil(H / sh); the total
 *                    padding max((OH-1)*sh + kh - H, 0) is split with the
 *                    odd pixel at the bottom/right. For stride 1 this equals
 *                    torch's padding='same'. Computed per input size.
 *   CONV2D_EXPLICIT  pad_h rows above and below, pad_w columns left and
 *                    right (torch's padding=(pad_h, pad_w)); 0 <= pad < kernel.
 * Strides of 0 mean 1. */
typedef enum { CONV2D_VALID = 0, CONV2D_SAME, CONV2D_EXPLICIT } Conv2dPadding;

typedef struct {
    int kh, kw;              /* kernel size (> 0) */
    int stride_h, stride_w;
    Conv2dPadding padding;
    int pad_h, pad_w;        /* CONV2D_EXPLICIT only */
    bool bias;
} Conv2dSpec;

Layer *conv2d_new(const char *name, int in_ch, int out_ch, Conv2dSpec spec, Rng *r);

/* ---- MaxPool2D (torch.nn.MaxPool2d, dilation 1, floor mode) ----------------
 * x [N, C, H, W] -> [N, C, OH, OW], OH = (H + 2*pad_h - kh) / stride_h + 1.
 * Padding counts as -infinity (never chosen); torch requires pad <= k/2.
 * Strides of 0 mean the kernel size (torch's default). */
Layer *maxpool2d_new(const char *name, int kh, int kw, int stride_h, int stride_w,
                     int pad_h, int pad_w);

/* ---- BatchNorm (torch.nn.BatchNorm1d / BatchNorm2d, affine, tracked) -------
 * Normalises each channel c (axis 1) over every other axis:
 *     1d: x [N, C] or [N, C, L];   2d: x [N, C, H, W].
 * Training: batch mean and biased variance, and the running statistics move
 *     running = (1 - momentum) * running + momentum * batch_stat
 * with the *unbiased* variance for running_var (torch's rule). Eval: the
 * running statistics. eps is added to the variance. torch defaults:
 * eps 1e-5, momentum 0.1 (Keras's BatchNormalization: momentum 0.99 there
 * means 0.01 here, epsilon 1e-3). */
#define BN_DEFAULT_EPS 1e-5f
#define BN_DEFAULT_MOMENTUM 0.1f
Layer *batchnorm1d_new(const char *name, int channels, float eps, float momentum);
Layer *batchnorm2d_new(const char *name, int channels, float eps, float momentum);

/* ---- TimeDistributed --------------------------------------------------------
 * Applies `inner` to every time step of x [B, T, ...] by folding time into
 * the batch: [B*T, ...] -> inner -> [B*T, ...out] -> [B, T, ...out]. Takes
 * ownership of inner (also on failure). Its parameters *are* inner's, under
 * inner's names (in torch the equivalent is usually the inner module applied
 * to the [B, T, ...] tensor directly, e.g. nn.Linear). The mask is not
 * passed to inner: every step is computed, padded ones included (as Keras
 * does); the loss masks them out. */
Layer *time_distributed_new(Layer *inner);

#endif
