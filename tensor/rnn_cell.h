/* Fused element-wise part of one LSTM / GRU time step, forward and backward.
 *
 * The matrix products of a recurrent step (x W_ih^T, h W_hh^T) are GEMMs done
 * by the caller; what is left per step is a chain of cheap element-wise ops
 * (sigmoids, tanhs, products). Fusing them into one pass over the gate
 * buffer reads each value once instead of once per op. Gate orders and
 * equations are PyTorch's (torch.nn.LSTM / torch.nn.GRU), so weights and
 * gradients can be compared with it directly.
 *
 * Layout: every buffer is row-major and contiguous, one row per batch item.
 * B = batch rows, H = hidden size. A "[B x 4H]" gate buffer holds, per row,
 * four blocks of H values in the order given below. s(x) = 1/(1+e^-x) is the
 * logistic sigmoid; s' = s(1-s), tanh' = 1 - tanh^2.
 *
 * Dispatch: the plain functions pick the AVX-512 / AVX2 / scalar kernel from
 * cpu_isa() (tensor/cpu.h); the *_scalar versions are the references the
 * tests compare them with (libm expf/tanhf). The vector versions use the
 * exp/tanh/sigmoid of tensor/eltwise.h (error bounds stated there).
 *
 * None of these can fail (no allocation); B == 0 or H == 0 is a no-op.
 *
 * ---------------------------------------------------------------- LSTM ----
 * Gate order i, f, g, o. The caller computes the pre-activations
 *     G = x W_ih^T + b_ih + h_prev W_hh^T + b_hh          [B x 4H]
 * and the cell computes
 *     i = s(G_i)   f = s(G_f)   g = tanh(G_g)   o = s(G_o)
 *     c = f * c_prev + i * g
 *     h = o * tanh(c)
 * Saved for backward: acts = (i, f, g, o) [B x 4H] and tc = tanh(c) [B x H]
 * (plus c_prev, which the caller keeps anyway).
 *
 * Backward, given dh = dL/dh [B x H] (from the output and the next step's
 * recurrent GEMM) and dc = dL/dc [B x H] from the next step (NULL = zero,
 * the last step). h depends on c through tanh, so the total gradient on c is
 *     dct     = dc + dh * o * (1 - tc^2)
 * and, by the chain rule through each line of the forward,
 *     dG_o    = dh  * tc     * o(1-o)
 *     dG_i    = dct * g      * i(1-i)
 *     dG_f    = dct * c_prev * f(1-f)
 *     dG_g    = dct * i      * (1 - g^2)
 *     dc_prev = dct * f
 * dG is then both db_ih and db_hh (summed over rows), and feeds the caller's
 * GEMMs: dW_ih += dG^T x, dW_hh += dG^T h_prev, dx = dG W_ih, dh_prev = dG W_hh.
 *
 * ----------------------------------------------------------------- GRU ----
 * Gate order r, z, n. The caller computes, separately because the hidden
 * part of n is gated by r,
 *     gx = x W_ih^T + b_ih          [B x 3H]
 *     gh = h_prev W_hh^T + b_hh     [B x 3H]
 * and the cell computes
 *     r  = s(gx_r + gh_r)
 *     z  = s(gx_z + gh_z)
 *     n  = tanh(gx_n + r * gh_n)
 *     h' = (1 - z) * n + z * h_prev
 * Saved for backward: save = (r, z, n, gh_n) [B x 4H].
 *
 * Backward, given dh' [B x H]:
 *     dn       = dh' * (1 - z)
 *     dz       = dh' * (h_prev - n)
 *     da_n     = dn * (1 - n^2)            (a_n = gx_n + r*gh_n)
 *     dgx_n    = da_n
 *     dgh_n    = da_n * r
 *     dr       = da_n * gh_n
 *     dgx_r    = dgh_r = dr * r(1-r)
 *     dgx_z    = dgh_z = dz * z(1-z)
 *     dh_prev  = dh' * z                   (the direct path only)
 * The caller adds the path through the recurrent GEMM, dh_prev += dgh W_hh,
 * and forms dW_ih += dgx^T x, dW_hh += dgh^T h_prev, db_ih = sum dgx,
 * db_hh = sum dgh, dx = dgx W_ih.
 */
#ifndef MELD_RNN_CELL_H
#define MELD_RNN_CELL_H

/* LSTM step. G: [B x 4H] pre-activations (i,f,g,o); c_prev, c, h, tc: [B x H];
 * acts: [B x 4H] receives (i,f,g,o) and may be the same pointer as G
 * (in place). c_prev may be NULL for a zero initial state. */
void lstm_cell_forward(int B, int H, const float *G, const float *c_prev,
                       float *c, float *h, float *acts, float *tc);
/* LSTM step backward. dh: [B x H]; dc: [B x H] or NULL (zero); acts, tc,
 * c_prev (NULL = zero) as saved/used by the forward. Writes dG [B x 4H]
 * (may alias acts: each row of acts is read before that row of dG is
 * written) and dc_prev [B x H] (may be NULL when not needed, may alias dc). */
void lstm_cell_backward(int B, int H, const float *dh, const float *dc,
                        const float *acts, const float *tc, const float *c_prev,
                        float *dG, float *dc_prev);

/* GRU step. gx, gh: [B x 3H] (r,z,n); h_prev: [B x H] or NULL (zero);
 * h: [B x H] (may alias h_prev); save: [B x 4H] receives (r, z, n, gh_n). */
void gru_cell_forward(int B, int H, const float *gx, const float *gh,
                      const float *h_prev, float *h, float *save);
/* GRU step backward. dh: [B x H]; save and h_prev as in the forward.
 * Writes dgx, dgh [B x 3H] and dh_prev [B x H] (direct path only, see
 * above; may alias dh). */
void gru_cell_backward(int B, int H, const float *dh, const float *save,
                       const float *h_prev, float *dgx, float *dgh,
                       float *dh_prev);

/* Scalar references (libm), same contracts. */
void lstm_cell_forward_scalar(int B, int H, const float *G, const float *c_prev,
                              float *c, float *h, float *acts, float *tc);
void lstm_cell_backward_scalar(int B, int H, const float *dh, const float *dc,
                               const float *acts, const float *tc,
                               const float *c_prev, float *dG, float *dc_prev);
void gru_cell_forward_scalar(int B, int H, const float *gx, const float *gh,
                             const float *h_prev, float *h, float *save);
void gru_cell_backward_scalar(int B, int H, const float *dh, const float *save,
                              const float *h_prev, float *dgx, float *dgh,
                              float *dh_prev);

#endif
