/* LSTM / GRU cell element-wise updates: scalar references and dispatch.
 * The maths (forward equations and derivatives) is in tensor/rnn_cell.h. */
#include "tensor/rnn_cell.h"

#include <math.h>
#include <stddef.h>

#include "tensor/cpu.h"
#include "tensor/eltwise_impl.h"

/* s(x) = 1 / (1 + e^-x); for x << 0 expf(-x) overflows to inf and the
 * quotient is an exact 0, so no special case is needed. */
static float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

void lstm_cell_forward_scalar(int B, int H, const float *G, const float *c_prev,
                              float *c, float *h, float *acts, float *tc)
{
    for (int b = 0; b < B; b++) {
        const float *g = G + (size_t)b * 4 * H;
        float *a = acts + (size_t)b * 4 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j++) {
            float i_ = sigmoidf(g[j]), f_ = sigmoidf(g[H + j]);
            float g_ = tanhf(g[2 * H + j]), o_ = sigmoidf(g[3 * H + j]);
            float cp = c_prev ? c_prev[r + j] : 0.0f;
            float cn = f_ * cp + i_ * g_;
            float t = tanhf(cn);
            a[j] = i_, a[H + j] = f_, a[2 * H + j] = g_, a[3 * H + j] = o_;
            c[r + j] = cn;
            tc[r + j] = t;
            h[r + j] = o_ * t;
        }
    }
}

void lstm_cell_backward_scalar(int B, int H, const float *dh, const float *dc,
                               const float *acts, const float *tc,
                               const float *c_prev, float *dG, float *dc_prev)
{
    for (int b = 0; b < B; b++) {
        const float *a = acts + (size_t)b * 4 * H;
        float *d = dG + (size_t)b * 4 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j++) {
            float i_ = a[j], f_ = a[H + j], g_ = a[2 * H + j], o_ = a[3 * H + j];
            float t = tc[r + j], cp = c_prev ? c_prev[r + j] : 0.0f;
            float dhj = dh[r + j];
            float dct = (dc ? dc[r + j] : 0.0f) + dhj * o_ * (1.0f - t * t);
            d[j] = dct * g_ * i_ * (1.0f - i_);
            d[H + j] = dct * cp * f_ * (1.0f - f_);
            d[2 * H + j] = dct * i_ * (1.0f - g_ * g_);
            d[3 * H + j] = dhj * t * o_ * (1.0f - o_);
            if (dc_prev) dc_prev[r + j] = dct * f_;
        }
    }
}

void gru_cell_forward_scalar(int B, int H, const float *gx, const float *gh,
                             const float *h_prev, float *h, float *save)
{
    for (int b = 0; b < B; b++) {
        const float *x = gx + (size_t)b * 3 * H, *y = gh + (size_t)b * 3 * H;
        float *s = save + (size_t)b * 4 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j++) {
            float r_ = sigmoidf(x[j] + y[j]);
            float z_ = sigmoidf(x[H + j] + y[H + j]);
            float ghn = y[2 * H + j];
            float n_ = tanhf(x[2 * H + j] + r_ * ghn);
            float hp = h_prev ? h_prev[r + j] : 0.0f;
            s[j] = r_, s[H + j] = z_, s[2 * H + j] = n_, s[3 * H + j] = ghn;
            h[r + j] = (1.0f - z_) * n_ + z_ * hp;
        }
    }
}

void gru_cell_backward_scalar(int B, int H, const float *dh, const float *save,
                              const float *h_prev, float *dgx, float *dgh,
                              float *dh_prev)
{
    for (int b = 0; b < B; b++) {
        const float *s = save + (size_t)b * 4 * H;
        float *dx = dgx + (size_t)b * 3 * H, *dy = dgh + (size_t)b * 3 * H;
        size_t r = (size_t)b * H;
        for (int j = 0; j < H; j++) {
            float r_ = s[j], z_ = s[H + j], n_ = s[2 * H + j], ghn = s[3 * H + j];
            float hp = h_prev ? h_prev[r + j] : 0.0f, d = dh[r + j];
            float dan = d * (1.0f - z_) * (1.0f - n_ * n_);
            float dar = dan * ghn * r_ * (1.0f - r_);
            float daz = d * (hp - n_) * z_ * (1.0f - z_);
            dx[j] = dy[j] = dar;
            dx[H + j] = dy[H + j] = daz;
            dx[2 * H + j] = dan;
            dy[2 * H + j] = dan * r_;
            dh_prev[r + j] = d * z_;
        }
    }
}

/* ---- dispatch ---------------------------------------------------------- */

const RnnCellKernels rnn_cell_kernels_scalar = {
    lstm_cell_forward_scalar, lstm_cell_backward_scalar,
    gru_cell_forward_scalar,  gru_cell_backward_scalar,
};

static const RnnCellKernels *const KERNELS[CPU_ISA_COUNT] = CPU_ISA_TABLE(rnn_cell_kernels);

void lstm_cell_forward(int B, int H, const float *G, const float *c_prev,
                       float *c, float *h, float *acts, float *tc)
{
    KERNELS[cpu_isa()]->lstm_forward(B, H, G, c_prev, c, h, acts, tc);
}

void lstm_cell_backward(int B, int H, const float *dh, const float *dc,
                        const float *acts, const float *tc, const float *c_prev,
                        float *dG, float *dc_prev)
{
    KERNELS[cpu_isa()]->lstm_backward(B, H, dh, dc, acts, tc, c_prev, dG, dc_prev);
}

void gru_cell_forward(int B, int H, const float *gx, const float *gh,
                      const float *h_prev, float *h, float *save)
{
    KERNELS[cpu_isa()]->gru_forward(B, H, gx, gh, h_prev, h, save);
}

void gru_cell_backward(int B, int H, const float *dh, const float *save,
                       const float *h_prev, float *dgx, float *dgh, float *dh_prev)
{
    KERNELS[cpu_isa()]->gru_backward(B, H, dh, save, h_prev, dgx, dgh, dh_prev);
}
