/* Plans and the single-transform (scalar) FFT; see fft.h and fft_core.inc. */
#include "audio/fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/fft_internal.h"
#include "tensor/error.h"

typedef float V;
#define KFN(name) name##_scalar
#include "audio/fft_core.inc"
#undef KFN

enum { FFT_MAX_N = 1 << 26 };

/* exp(-2 pi i num / den) in double, with num reduced mod den first so the
 * angle stays small and exact. */
static void unit_root(long long num, long long den, float *re, float *im)
{
    double a = -2.0 * M_PI * (double)(num % den) / (double)den;
    *re = (float)cos(a);
    *im = (float)sin(a);
}

/* Splits n into radices: 4s first (fewest passes), then 2, 3, 5, then other
 * primes. Returns the number of stages, or -1 if a prime factor exceeds
 * FFT_MAX_DIRECT_PRIME. */
static int factorize(int n, int *radix)
{
    int k = 0;
    while (n % 4 == 0) { radix[k++] = 4; n /= 4; }
    if (n % 2 == 0) { radix[k++] = 2; n /= 2; }
    for (int f = 3; n > 1; f += 2) {
        if (f > FFT_MAX_DIRECT_PRIME) return -1;
        while (n % f == 0) { radix[k++] = f; n /= f; }
    }
    return k;
}

void fft_plan_free(FftPlan *p)
{
    if (!p) return;
    for (int i = 0; i < p->n_stages; i++) {
        free(p->tw_re[i]);
        free(p->tw_im[i]);
        free(p->rot_re[i]);
        free(p->rot_im[i]);
    }
    fft_plan_free(p->conv);
    free(p->chirp_re);
    free(p->chirp_im);
    free(p->bk_re);
    free(p->bk_im);
    free(p);
}

/* Twiddle tables of every stage (see fft_internal.h for the layout). */
static int make_stages(FftPlan *p, const int *radix, int n_stages)
{
    int len = p->n;
    p->n_stages = n_stages;
    for (int st = 0; st < n_stages; st++) {
        int r = radix[st], m = len / r;
        size_t count = (size_t)m * (size_t)(r - 1);
        p->radix[st] = r;
        p->m[st] = m;
        p->tw_re[st] = meld_malloc(count * sizeof(float), "FFT twiddles");
        p->tw_im[st] = meld_malloc(count * sizeof(float), "FFT twiddles");
        if (!p->tw_re[st] || !p->tw_im[st]) return MELD_ERR;
        for (int q = 0; q < m; q++)
            for (int k = 1; k < r; k++)
                unit_root((long long)q * k, len, &p->tw_re[st][q * (r - 1) + k - 1],
                          &p->tw_im[st][q * (r - 1) + k - 1]);
        if (r > 5) {
            p->rot_re[st] = meld_malloc((size_t)r * sizeof(float), "FFT roots");
            p->rot_im[st] = meld_malloc((size_t)r * sizeof(float), "FFT roots");
            if (!p->rot_re[st] || !p->rot_im[st]) return MELD_ERR;
            for (int t = 0; t < r; t++) unit_root(t, r, &p->rot_re[st][t], &p->rot_im[st][t]);
        }
        len = m;
    }
    return MELD_OK;
}

/* Bluestein: with n j k = (j^2 + k^2 - (k - j)^2) / 2,
 *   X[k] = c_k sum_j (x_j c_j) conj(c_{k-j}),   c_j = exp(-i pi j^2 / n),
 * a linear convolution of a_j = x_j c_j with b_j = conj(c_j) (|j| < n),
 * done as a circular one of length L >= 2n - 1 (a power of two). B = FFT(b)
 * is computed once here. */
static int make_bluestein(FftPlan *p)
{
    int n = p->n, L = 1;
    while (L < 2 * n - 1) L *= 2;
    p->conv = fft_plan_create(L);
    if (!p->conv) return MELD_ERR;
    p->chirp_re = meld_malloc((size_t)n * sizeof(float), "Bluestein chirp");
    p->chirp_im = meld_malloc((size_t)n * sizeof(float), "Bluestein chirp");
    p->bk_re = meld_calloc((size_t)L, sizeof(float), "Bluestein kernel");
    p->bk_im = meld_calloc((size_t)L, sizeof(float), "Bluestein kernel");
    float *work = meld_malloc(fft_work_floats(p->conv) * sizeof(float), "Bluestein work");
    if (!p->chirp_re || !p->chirp_im || !p->bk_re || !p->bk_im || !work) {
        free(work);
        return MELD_ERR;
    }
    for (int j = 0; j < n; j++) {
        /* pi j^2 / n = 2 pi (j^2 mod 2n) / (2n): reduce in integers. */
        long long jj = (long long)j * j % (2LL * n);
        unit_root(jj, 2LL * n, &p->chirp_re[j], &p->chirp_im[j]);
        p->bk_re[j] = p->chirp_re[j];
        p->bk_im[j] = -p->chirp_im[j];
        if (j > 0) {
            p->bk_re[L - j] = p->bk_re[j];
            p->bk_im[L - j] = p->bk_im[j];
        }
    }
    fft_execute(p->conv, p->bk_re, p->bk_im, work, 0);
    free(work);
    return MELD_OK;
}

FftPlan *fft_plan_create(int n)
{
    if (n < 1 || n > FFT_MAX_N) {
        meld_errorf("fft: length %d outside [1, %d]", n, FFT_MAX_N);
        return NULL;
    }
    FftPlan *p = meld_calloc(1, sizeof *p, "FFT plan");
    if (!p) return NULL;
    p->n = n;
    int radix[FFT_MAX_STAGES];
    int k = factorize(n, radix);
    int rc = k >= 0 ? make_stages(p, radix, k) : make_bluestein(p);
    if (rc) {
        fft_plan_free(p);
        return NULL;
    }
    return p;
}

int fft_plan_size(const FftPlan *p) { return p->n; }
int fft_plan_uses_bluestein(const FftPlan *p) { return p->conv != NULL; }

size_t fft_work_floats(const FftPlan *p)
{
    if (p->conv) return 2 * (size_t)p->conv->n + fft_work_floats(p->conv);
    return 2 * (size_t)p->n;
}

static void bluestein_forward(const FftPlan *p, float *re, float *im, float *work)
{
    int n = p->n, L = p->conv->n;
    float *ar = work, *ai = work + L, *sub = work + 2 * (size_t)L;
    for (int j = 0; j < n; j++) { /* a_j = x_j c_j */
        ar[j] = re[j] * p->chirp_re[j] - im[j] * p->chirp_im[j];
        ai[j] = re[j] * p->chirp_im[j] + im[j] * p->chirp_re[j];
    }
    for (int j = n; j < L; j++) ar[j] = ai[j] = 0;
    fft_execute(p->conv, ar, ai, sub, 0);
    for (int k = 0; k < L; k++) { /* A B */
        float r = ar[k] * p->bk_re[k] - ai[k] * p->bk_im[k];
        ai[k] = ar[k] * p->bk_im[k] + ai[k] * p->bk_re[k];
        ar[k] = r;
    }
    fft_execute(p->conv, ar, ai, sub, 1);
    for (int k = 0; k < n; k++) { /* X_k = c_k (a * b)_k */
        re[k] = ar[k] * p->chirp_re[k] - ai[k] * p->chirp_im[k];
        im[k] = ar[k] * p->chirp_im[k] + ai[k] * p->chirp_re[k];
    }
}

void fft_execute(const FftPlan *p, float *re, float *im, float *work, int inverse)
{
    int n = p->n;
    /* Inverse via the forward transform: IDFT(X) = conj(DFT(conj X)) / n. */
    if (inverse)
        for (int i = 0; i < n; i++) im[i] = -im[i];
    if (p->conv)
        bluestein_forward(p, re, im, work);
    else
        fft_stages_scalar(p, re, im, work, work + n);
    if (inverse) {
        float scale = 1.0f / (float)n;
        for (int i = 0; i < n; i++) {
            re[i] *= scale;
            im[i] = -im[i] * scale;
        }
    }
}

/* ---- real input -------------------------------------------------------- */

RfftPlan *rfft_plan_create(int n)
{
    if (n < 1 || n > FFT_MAX_N) {
        meld_errorf("rfft: length %d outside [1, %d]", n, FFT_MAX_N);
        return NULL;
    }
    RfftPlan *p = meld_calloc(1, sizeof *p, "real FFT plan");
    if (!p) return NULL;
    p->n = n;
    p->half = n % 2 == 0 && n >= 2;
    p->c = fft_plan_create(p->half ? n / 2 : n);
    if (!p->c) goto fail;
    if (p->half) {
        int M = n / 2;
        p->w_re = meld_malloc((size_t)(M + 1) * sizeof(float), "real FFT twiddles");
        p->w_im = meld_malloc((size_t)(M + 1) * sizeof(float), "real FFT twiddles");
        if (!p->w_re || !p->w_im) goto fail;
        for (int k = 0; k <= M; k++) unit_root(k, n, &p->w_re[k], &p->w_im[k]);
    }
    return p;
fail:
    rfft_plan_free(p);
    return NULL;
}

void rfft_plan_free(RfftPlan *p)
{
    if (!p) return;
    fft_plan_free(p->c);
    free(p->w_re);
    free(p->w_im);
    free(p);
}

int rfft_plan_size(const RfftPlan *p) { return p->n; }

size_t rfft_work_floats(const RfftPlan *p) { return 2 * (size_t)p->c->n + fft_work_floats(p->c); }

void rfft_forward(const RfftPlan *p, const float *x, float *re, float *im, float *work)
{
    int nc = p->c->n;
    float *zr = work, *zi = work + nc, *sub = work + 2 * (size_t)nc;
    if (!p->half) {
        for (int j = 0; j < nc; j++) {
            zr[j] = x[j];
            zi[j] = 0;
        }
        fft_execute(p->c, zr, zi, sub, 0);
        for (int k = 0; k <= p->n / 2; k++) {
            re[k] = zr[k];
            im[k] = zi[k];
        }
        return;
    }
    for (int j = 0; j < nc; j++) {
        zr[j] = x[2 * j];
        zi[j] = x[2 * j + 1];
    }
    fft_execute(p->c, zr, zi, sub, 0);
    rfft_untangle_scalar(nc, zr, zi, re, im, p->w_re, p->w_im);
}
