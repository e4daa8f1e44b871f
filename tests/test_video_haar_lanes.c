/* The face detector's lane kernels (video/haar_lanes.h): every ISA path,
 * chosen the way the detector chooses it (cpu_set_isa, then
 * haar_lanes_kernels), against the scalar reference, bit for bit. MELD_ISA
 * lowers the paths tested, as for every other kernel. Random integral images, random
 * stump cascades, and thresholds placed exactly on some lane's value, so
 * that a path one ulp off the reference (a fused multiply-add, a sum in
 * another order, <= for <) flips a decision and fails here even where real
 * images would not show it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/cpu.h"
#include "tensor/rng.h"
#include "video/haar_lanes.h"

enum { W = 80, H = 48, STRIDE = W + 1, WIN = 24, MAX_STUMPS = 64 };

#if defined(__x86_64__)
static const CpuIsa ISAS[] = {CPU_ISA_SCALAR, CPU_ISA_AVX2, CPU_ISA_AVX512};
enum { N_ISAS = 3 };
#else
/* No SIMD lanes on this architecture yet: the scalar reference alone. */
static const CpuIsa ISAS[] = {CPU_ISA_SCALAR};
enum { N_ISAS = 1 };
#endif

/* Integral images of a random image with flat patches (for the variance
 * gate), padded as the detector pads them. */
static void integrals(Rng *r, uint32_t *sum, uint32_t *sq)
{
    uint8_t img[H][W];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) img[y][x] = (x / 8 + y / 8) % 3 == 0 ? 100 : (uint8_t)rng_u32(r);
    memset(sum, 0, sizeof(uint32_t) * (STRIDE * (H + 1) + HAAR_LANES));
    memset(sq, 0, sizeof(uint32_t) * (STRIDE * (H + 1) + HAAR_LANES));
    for (int y = 0; y < H; y++) {
        uint32_t rs = 0, rq = 0;
        for (int x = 0; x < W; x++) {
            rs += img[y][x];
            rq += (uint32_t)img[y][x] * img[y][x];
            sum[(y + 1) * STRIDE + x + 1] = sum[y * STRIDE + x + 1] + rs;
            sq[(y + 1) * STRIDE + x + 1] = sq[y * STRIDE + x + 1] + rq;
        }
    }
}

/* A random 2- or 3-rect feature inside the 24x24 window. */
static HaarFeat random_feature(Rng *r)
{
    /* OpenCV's usual weights (products with a rect sum exact in float),
     * and two whose products round (where a fused multiply-add differs) */
    static const float weights[] = {-1.0f, 2.0f, 3.0f, -0.5f, 0.33333334f, -1.7182818f};
    HaarFeat f;
    memset(&f, 0, sizeof f);
    int rects = 2 + (int)rng_below(r, 2);
    for (int k = 0; k < rects; k++) {
        int w = 1 + (int)rng_below(r, WIN - 1), h = 1 + (int)rng_below(r, WIN - 1);
        int x = (int)rng_below(r, (uint32_t)(WIN - w + 1)), y = (int)rng_below(r, (uint32_t)(WIN - h + 1));
        f.o[k][0] = (y + h) * STRIDE + x + w;
        f.o[k][1] = (y + h) * STRIDE + x;
        f.o[k][2] = y * STRIDE + x + w;
        f.o[k][3] = y * STRIDE + x;
        f.w[k] = weights[rng_below(r, 6)];
    }
    return f;
}

/* Leaves: dyadic (sums exact, so a stage threshold can equal a sum) or any float. */
static float random_leaf(Rng *r, int dyadic)
{
    if (dyadic) return (float)((int)rng_below(r, 2049) - 1024) / 1024.0f;
    return (float)rng_uniform(r) * 2.0f - 1.0f;
}

static int lane_of(Rng *r, uint32_t mask)
{
    int k = (int)rng_below(r, (uint32_t)__builtin_popcount(mask));
    for (int l = 0; l < HAAR_LANES; l++)
        if (mask >> l & 1 && k-- == 0) return l;
    return 0;
}

static double stage_total(const HaarLanes *t, int si, const uint32_t *s, const float *inv, int l)
{
    const HaarStage *st = &t->c->stages[si];
    double total = 0;
    for (int k = st->first_weak; k < st->first_weak + st->n_weak; k++) {
        const HaarStump *p = &t->stumps[k];
        total += haar_feature_value(&p->f, s + l) * inv[l] < p->threshold ? p->left : p->right;
    }
    return total;
}

/* The kernels haar_lanes_kernels picks under the active ISA (t->stumps set)
 * against the reference; name is the ISA's, for messages. */
static void compare_path(const char *name)
{
    Rng r;
    rng_seed(&r, 17, 3);
    static uint32_t sum[STRIDE * (H + 1) + HAAR_LANES], sq[STRIDE * (H + 1) + HAAR_LANES];
    HaarStump stumps[MAX_STUMPS];
    HaarStage stage_list[4];
    HaarCascade c;
    memset(&c, 0, sizeof c);
    c.stages = stage_list;
    c.n_stages = 4;
    HaarLanes t = {&c, NULL, stumps, {(WIN - 1) * STRIDE + WIN - 1, (WIN - 1) * STRIDE + 1, STRIDE + WIN - 1, STRIDE + 1},
                   (double)(WIN - 2) * (WIN - 2)};
    const HaarLaneKernels *kernels = haar_lanes_kernels(&t);
    int decisions = 0;
    for (int trial = 0; trial < 400; trial++) {
        integrals(&r, sum, sq);
        const int x0 = (int)rng_below(&r, W - WIN - HAAR_LANES + 2), y = (int)rng_below(&r, H - WIN + 1);
        const uint32_t *s = sum + y * STRIDE + x0, *q = sq + y * STRIDE + x0;
        float inv_ref[HAAR_LANES], inv[HAAR_LANES];
        uint32_t keep_ref = haar_norms_scalar(&t, s, q, inv_ref), keep = kernels->norms(&t, s, q, inv);
        if (keep != keep_ref || memcmp(inv, inv_ref, sizeof inv))
            fail_msg("%s: norms differ from the reference (trial %d)", name, trial);
        if (!keep_ref) continue;
        /* stumps whose thresholds sit exactly on one lane's value */
        const int dyadic = trial % 2;
        int n = 0;
        for (int si = 0; si < 4; si++) {
            stage_list[si] = (HaarStage){n, 1 + (int)rng_below(&r, 12), 0};
            for (int k = 0; k < stage_list[si].n_weak; k++, n++) {
                stumps[n] = (HaarStump){random_feature(&r), 0, random_leaf(&r, dyadic), random_leaf(&r, dyadic)};
                int l = lane_of(&r, keep_ref);
                stumps[n].threshold = haar_feature_value(&stumps[n].f, s + l) * inv_ref[l];
            }
            /* the stage threshold: exactly one lane's sum (dyadic leaves), or
             * the float next to it */
            double total = stage_total(&t, si, s, inv_ref, lane_of(&r, keep_ref));
            float thr = (float)total;
            stage_list[si].threshold = dyadic ? thr : rng_below(&r, 2) ? nextafterf(thr, 10) : thr;
        }
        for (int run = 0; run < 8; run++) {
            uint32_t alive = (uint32_t)rng_u32(&r) & keep_ref;
            int first = (int)rng_below(&r, 4), last = first + 1 + (int)rng_below(&r, (uint32_t)(4 - first));
            uint32_t want = haar_stages_scalar(&t, s, inv_ref, alive, first, last);
            uint32_t got = kernels->stages(&t, s, inv_ref, alive, first, last);
            if (got != want)
                fail_msg("%s: stages %d..%d on lanes %04x: %04x, reference %04x (trial %d)", name, first, last - 1,
                         alive, got, want, trial);
            decisions += __builtin_popcount(alive);
        }
    }
    assert_true(decisions > 1000);
}

/* The kernels the detector gets on each ISA: that ISA's own, and the
 * scalar tree walk for tree cascades (stumps NULL) on every ISA. */
static void expect_dispatch(CpuIsa isa)
{
    static const HaarStump one;
    HaarCascade c;
    memset(&c, 0, sizeof c);
    HaarLanes stumps = {&c, NULL, &one, {0, 0, 0, 0}, 1.0}, trees = {&c, NULL, NULL, {0, 0, 0, 0}, 1.0};
    const HaarLaneKernels *k = haar_lanes_kernels(&stumps), *kt = haar_lanes_kernels(&trees);
    switch (isa) {
#if defined(__x86_64__)
    case CPU_ISA_AVX512: assert_true(k->norms == haar_norms_avx512 && k->stages == haar_stages_avx512); break;
    case CPU_ISA_AVX2: assert_true(k->norms == haar_norms_avx2 && k->stages == haar_stages_avx2); break;
#endif
    default: assert_true(k->norms == haar_norms_scalar && k->stages == haar_stages_scalar); break;
    }
    assert_true(kt->norms == haar_norms_scalar && kt->stages == haar_stages_trees);
}

static void every_path_matches_the_reference(void **state)
{
    (void)state;
    const CpuIsa active = cpu_isa();
    int paths = 0;
    for (int i = 0; i < N_ISAS && ISAS[i] <= active; i++) {
        assert_int_equal(cpu_set_isa(ISAS[i]), ISAS[i]);
        expect_dispatch(ISAS[i]);
        compare_path(cpu_isa_name(ISAS[i]));
        paths++;
    }
    if (active < CPU_ISA_AVX512)
        print_message("haar lanes: paths above %s not tested (CPU or MELD_ISA)\n", cpu_isa_name(active));
    cpu_set_isa(active);
    assert_int_equal(paths, N_ISAS == 1 ? 1 : (int)active + 1);
}

/* The reference itself against a direct reading of OpenCV's rule on a
 * window whose numbers are easy: flat (inv 0), and one 2-rect stump. */
static void reference_follows_the_formula(void **state)
{
    (void)state;
    static uint32_t sum[STRIDE * (H + 1) + HAAR_LANES], sq[STRIDE * (H + 1) + HAAR_LANES];
    memset(sum, 0, sizeof sum);
    memset(sq, 0, sizeof sq);
    /* columns 0..11 dark, 12.. at 40 grey levels */
    for (int y = 0; y <= H; y++)
        for (int x = 0; x <= W; x++) {
            int bright = x > 12 ? x - 12 : 0;   /* columns 12.. are 40 */
            sum[y * STRIDE + x] = (uint32_t)(y * bright * 40);
            sq[y * STRIDE + x] = (uint32_t)(y * bright * 1600);
        }
    HaarCascade c;
    memset(&c, 0, sizeof c);
    HaarLanes t = {&c, NULL, NULL, {(WIN - 1) * STRIDE + WIN - 1, (WIN - 1) * STRIDE + 1, STRIDE + WIN - 1, STRIDE + 1},
                   (double)(WIN - 2) * (WIN - 2)};
    float inv[HAAR_LANES];
    uint32_t keep = haar_norms_scalar(&t, sum, sq, inv);
    /* lane 0: inner 22x22 columns 1..22, 11 dark and 11 bright (std 20):
     * N^2 = A * sum p^2 - (sum p)^2 = 484 * 22*11*1600 - (22*11*40)^2 */
    double nf = 484.0 * 22 * 11 * 1600 - (22.0 * 11 * 40) * (22.0 * 11 * 40);
    assert_true(keep & 1);
    assert_true(inv[0] == (float)(1.0 / sqrt(nf)));
    /* lane 12 onwards sees only the bright part: flat, skipped */
    assert_false(keep >> 12 & 1);
    assert_true(inv[12] == 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_path_matches_the_reference),
        cmocka_unit_test(reference_follows_the_formula),
    };
    return cmocka_run_group_tests_name("video: haar lanes", tests, NULL, NULL);
}
