/* Blocked, packed, multi-threaded SGEMM (contract in tensor/gemm.h).
 *
 * The design is BLIS's (Van Zee & van de Geijn, "BLIS: A Framework for
 * Rapidly Instantiating BLAS Functionality", 2015), transposed for row-major
 * C: the register tile has NR columns (vector lanes) and MR rows
 * (broadcasts), see tensor/gemm_impl.h. Around the micro-kernel, five loops
 * move blocks of the operands into the cache level where they are reused:
 *
 *   for ic in M by MC:               A panel  op(A)[ic.., pc..]  mc x kc  (L3 / memory)
 *     for pc in K by KC:             pack it once: slivers of MR rows, k-major
 *       for jc in N by NC:           B block  op(B)[pc.., jc..]  kc x nc  (L2)
 *         pack it: slivers of NR columns, k-major (both packings may be
 *         fused into the first tiles that read them, see below)
 *         for each A sliver (MR x kc, 24 KiB, reused by every B sliver):
 *           for each B sliver (kc x NR, streamed from L2, prefetched):
 *             micro-kernel: C tile (MR x NR, registers) += A sliver * B sliver
 *
 * Block sizes, from the cache sizes (sysconf; fallbacks 32 KiB / 1 MiB):
 *   KC = L1d / 2 / (4 MR): an A sliver fills half of L1, the other half
 *        holds the B and C lines streaming past (e.g. L1d 48 KiB, MR 14:
 *        KC = 438 -> 432 after rounding to a multiple of 16, capped at 512).
 *   NC = L2 / 2 / (4 KC): a packed B block fills half of L2 (2 MiB, KC 432:
 *        NC = 606 -> 576, a multiple of NR).
 *   MC = 1 Mi floats / KC: the A panel (4 MiB) only needs to live in L3; a
 *        big MC means B is packed once per K block for most M.
 * KC depends only on the cache size and the kernel, never on the thread
 * count, and every C element is accumulated over k in the same order
 * whatever the thread split, so results are bitwise identical for any
 * number of threads (and with OpenMP).
 *
 * Packing. op(A) and op(B) are copied into the k-major slivers the kernel
 * reads contiguously, which also turns every transpose case (NN, NT, TN, TT)
 * into the same kernel. In the NN case of A and the NT case of B the copy is
 * a transpose, done VL x VL in vector registers (the pack_transpose of
 * tensor/gemm_kernel_body.inc; the scalar path copies element by element).
 * A copy pays off only if the copied element is used many times, so two
 * operands are read in place instead:
 *   - B, when op(B) = B and the A panel is short (mc <= B_DIRECT_MAX_M):
 *     each B element would serve only a few rows (M = 50 in the RNNs) and
 *     the copy would cost as much as the arithmetic; the row k of a B tile
 *     is contiguous in a row-major B anyway, and the kernel prefetches it.
 *   - A, when C is narrow (N <= GEMM_A_IN_PLACE_MAX_N): each A element meets only
 *     one or two B slivers (the conv GEMMs, N = 32 or 64); the kernel then
 *     broadcasts from A's rows (NN) or columns (TN) through strides. Also
 *     when A is short (M <= A_DIRECT_MAX_M, the RNNs' per-step products):
 *     its slivers stay in L1 anyway, and the packing copy and its buffer
 *     cost more than they save (32x128x512: 0.033 -> 0.028 ms).
 * Fused packing (the SIMD paths; for B when op(B) = B): an
 * operand is not packed in a pass of its own but by the first tile that
 * needs it, which reads it in place and stores what it loads into the
 * packed buffer (kernel_copy; sliver_tiles below): the first A
 * sliver of a task packs each B block, the first tile of each A sliver
 * packs that sliver. The copies ride on load and store ports the FMA-bound
 * kernel leaves idle, and the operand is read from memory once instead of
 * twice. Measured on AVX-512 (Xeon): fusing B: 512^3 on 2 threads 1.26 -> 1.01 ms, 1 thread +1-4 % on
 * the square shapes; then fusing A: 1650x1200x1611 39.9 -> 38.7 ms on 1
 * thread, 20.2 -> 19.7 on 2 (best of 3-4 alternating runs). In the TN
 * case each k step's 14 floats of A sit on another row of the stored A, a
 * stream the hardware prefetcher does not follow (fused without help: 7 %
 * slower); the copying tile asks for the row 16 steps ahead into L2, and
 * then fusing wins there too (1611x1200x1650 TN 34.6 -> 33.7 ms, 512^3 TN
 * 1.61 -> 1.57, medians of 15-21 alternating in one process). The
 * column-split threads share the A panel, so they pack it in a pass of
 * its own first.
 * The kernels prefetch the B row 8 steps ahead and the C tile before the k
 * loop, which matters most for B read in place (2x on the M = 50 shapes).
 *
 * Threads (tensor/threadpool.h). Per A panel and K block, C is split into
 * parts (plan_parts): tall products with packed B by rows, one part per
 * thread (each thread packs its own A slivers and B blocks); the others by
 * columns, 1 or 4 parts per thread (each thread packs the B blocks of its
 * parts into its own L2 and shares the packed A panel), and by rows too
 * when N is narrower than the thread count. Problems under
 * GEMM_MT_MIN_FLOPS run on one thread: waking a worker costs microseconds.
 *
 * Edges: A slivers have heights as equal as possible (mc = 50 with MR = 14
 * gives 13,13,12,12 rather than 14,14,14,8); the kernels take any mr <= MR
 * and nr <= NR and touch only the valid part of C and B.
 */
#include "tensor/gemm.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tensor/error.h"
#include "tensor/gemm_impl.h"
#include "tensor/threadpool.h"

void gemm_reference(GemmTrans ta, GemmTrans tb, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb, float beta,
                    float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++) {
                float a = ta == GEMM_N ? A[(size_t)i * lda + k] : A[(size_t)k * lda + i];
                float b = tb == GEMM_N ? B[(size_t)k * ldb + j] : B[(size_t)j * ldb + k];
                acc += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = alpha * acc + (beta == 0.0f ? 0.0f : beta * *c);
        }
    }
}

/* ---- parameters ---------------------------------------------------------- */

enum {
    A_PANEL_FLOATS = 1 << 20,   /* MC * KC budget */
    B_DIRECT_MAX_M = 128,       /* read B in place when the A panel is this short */
    A_DIRECT_MAX_M = 32,        /* read A in place when it is this short (or C narrow, gemm.h) */
    ROWS_PER_THREAD_MIN = 128,  /* split a packed-B product by rows from this many per thread */
};
#define GEMM_MT_MIN_FLOPS 4.0e6 /* below this, one thread */

static const GemmKernels *const KERNELS[CPU_ISA_COUNT] = CPU_ISA_TABLE(gemm_kernels);

static long cache_size(int name, long fallback)
{
    long v = sysconf(name);
    return v > 0 ? v : fallback;
}

static int round_down(int x, int m) { return x / m * m; }
static int clampi(int x, int lo, int hi) { return x < lo ? lo : x > hi ? hi : x; }

/* KC and NC for a kernel (see the header comment). */
static void block_sizes(const GemmKernels *kr, int *KC, int *NC)
{
    long l1 = cache_size(_SC_LEVEL1_DCACHE_SIZE, 32 << 10);
    long l2 = cache_size(_SC_LEVEL2_CACHE_SIZE, 1 << 20);
    int kc = clampi(round_down((int)(l1 / 2 / (4 * kr->MR)), 16), 64, 512);
    int nc = clampi(round_down((int)(l2 / 2 / (4L * kc)), kr->NR), kr->NR, 4096);
    *KC = kc;
    *NC = nc;
}

/* ---- the job shared by the tasks ------------------------------------------ */

typedef struct {
    /* the problem */
    GemmTrans ta, tb;
    int M, N, K;
    float alpha;
    const float *A, *B;
    int lda, ldb;
    float *C;
    int ldc;
    const GemmKernels *kr;
    int KC, NC;
    /* current A panel: rows [ic, ic+mc), k in [pc, pc+kc) */
    int ic, mc, pc, kc;
    float beta;         /* beta for this K block: the caller's, then 1 */
    int n_sliv;         /* A slivers in the panel */
    float *Ap;          /* packed panel, sliver q at Ap + q*MR*kc */
    int pack_a_in_task; /* tasks pack their own slivers (columns not split) */
    int direct_a;       /* read op(A) in place instead of packing */
    int direct_b;       /* read op(B) in place instead of packing */
    int fuse_b;         /* pack B during the first A sliver's pass (see the top) */
    int fuse_a;         /* pack each A sliver during its first tile */
    /* task grid: m_parts x n_parts */
    int m_parts, n_parts, part_cols;
    float *Bp;          /* per-thread B block buffers, b_stride floats apart */
    size_t b_stride;
} GemmJob;

/* Rows of sliver q: [ic + sliver_row(q), ic + sliver_row(q+1)). */
static int sliver_row(const GemmJob *g, int q) { return (int)((long)q * g->mc / g->n_sliv); }

/* op(A) read in place from row r0 of the panel: op(A)[r0 + i][pc + k] =
 * a[i*rs + k*cs]: along A's rows (NN) or down its columns (TN). */
static const float *a_in_place(const GemmJob *g, int r0, size_t *rs, size_t *cs)
{
    if (g->ta == GEMM_N) {
        *rs = (size_t)g->lda, *cs = 1;
        return g->A + (size_t)r0 * g->lda + g->pc;
    }
    *rs = 1, *cs = (size_t)g->lda;
    return g->A + (size_t)g->pc * g->lda + r0;
}

/* Packs A sliver q: dst[k*MR + i] = op(A)[row0 + i][pc + k]. */
static void pack_a_sliver(const GemmJob *g, int q)
{
    const int MR = g->kr->MR, r0 = g->ic + sliver_row(g, q);
    const int h = g->ic + sliver_row(g, q + 1) - r0;
    float *dst = g->Ap + (size_t)q * MR * g->kc;
    const GemmKernels *kr = g->kr;
    if (g->ta == GEMM_N && kr->pack_transpose) {   /* VL rows at a time */
        for (int i = 0; i < h; i += kr->VL)
            kr->pack_transpose(g->A + (size_t)(r0 + i) * g->lda + g->pc, (size_t)g->lda,
                               h - i < kr->VL ? h - i : kr->VL, g->kc, dst + i, (size_t)MR);
    } else if (g->ta == GEMM_N) {   /* A is M x K: row i is contiguous in k */
        for (int i = 0; i < h; i++) {
            const float *src = g->A + (size_t)(r0 + i) * g->lda + g->pc;
            for (int k = 0; k < g->kc; k++) dst[(size_t)k * MR + i] = src[k];
        }
    } else if (kr->pack_rows) {     /* A is K x M: vectors with a tail per k */
        kr->pack_rows(g->A + (size_t)g->pc * g->lda + r0, (size_t)g->lda, g->kc, h, dst,
                      (size_t)MR);
    } else {                        /* A is K x M: column k of op(A) is contiguous */
        for (int k = 0; k < g->kc; k++)
            memcpy(dst + (size_t)k * MR, g->A + (size_t)(g->pc + k) * g->lda + r0,
                   (size_t)h * sizeof(float));
    }
}

/* Packs op(B)[pc.., j0 .. j0+nc) into NR-column slivers:
 * dst[s*NR*kc + k*NR + j] = op(B)[pc + k][j0 + s*NR + j]. */
static void pack_b_block(const GemmJob *g, int j0, int nc, float *dst)
{
    const GemmKernels *kr = g->kr;
    const int NR = kr->NR, VL = kr->VL;
    for (int s = 0; s * NR < nc; s++, dst += (size_t)NR * g->kc) {
        int c0 = j0 + s * NR, w = nc - s * NR < NR ? nc - s * NR : NR;
        if (g->tb == GEMM_N && kr->pack_rows) {
            kr->pack_rows(g->B + (size_t)g->pc * g->ldb + c0, (size_t)g->ldb, g->kc, w, dst,
                          (size_t)NR);
        } else if (g->tb == GEMM_N) {   /* B is K x N: row k contiguous in j */
            for (int k = 0; k < g->kc; k++)
                memcpy(dst + (size_t)k * NR, g->B + (size_t)(g->pc + k) * g->ldb + c0,
                       (size_t)w * sizeof(float));
        } else if (kr->pack_transpose) {   /* VL columns of op(B) at a time */
            for (int j0 = 0; j0 < w; j0 += VL)
                kr->pack_transpose(g->B + (size_t)(c0 + j0) * g->ldb + g->pc, (size_t)g->ldb,
                                   w - j0 < VL ? w - j0 : VL, g->kc, dst + j0, (size_t)NR);
        } else {                    /* B is N x K: column j of op(B) contiguous in k */
            for (int j = 0; j < w; j++) {
                const float *src = g->B + (size_t)(c0 + j) * g->ldb + g->pc;
                for (int k = 0; k < g->kc; k++) dst[(size_t)k * NR + j] = src[k];
            }
        }
    }
}

static void pack_a_task(void *ctx, int q, int thread)
{
    (void)thread;
    pack_a_sliver(ctx, q);
}

/* The tiles of A sliver q against the B block of columns [jc, jc + nc)
 * (packed in Bp unless B is read in place). With fused packing, the tile
 * that first needs a packed operand reads it in place and packs it as it
 * goes: the sliver's first tile packs A (copy_a), the first sliver's tiles
 * pack B (copy_b). */
static void sliver_tiles(const GemmJob *g, int q, int first_sliver, int first_block, int jc,
                         int nc, float *Bp)
{
    const int MR = g->kr->MR, NR = g->kr->NR;
    int r0 = g->ic + sliver_row(g, q), h = g->ic + sliver_row(g, q + 1) - r0;
    /* the A sliver: op(A)[i][k] = a[i*a_rs + k*a_cs] */
    float *a_pack = g->Ap + (size_t)q * MR * g->kc;
    const float *a = a_pack;
    size_t a_rs = 1, a_cs = (size_t)MR, ip_rs, ip_cs;
    const float *a_ip = a_in_place(g, r0, &ip_rs, &ip_cs);
    if (g->direct_a) a = a_ip, a_rs = ip_rs, a_cs = ip_cs;
    float *crow = g->C + (size_t)r0 * g->ldc;
    for (int jr = 0; jr < nc; jr += NR) {
        int w = nc - jr < NR ? nc - jr : NR;
        float *b_pack = Bp + (size_t)jr * g->kc, *c = crow + jc + jr;
        int copy_a = g->fuse_a && first_block && jr == 0;
        int copy_b = g->fuse_b && first_sliver;
        int b_in_place = copy_b || g->direct_b;
        const float *b = b_in_place ? g->B + (size_t)g->pc * g->ldb + jc + jr : b_pack;
        size_t ldb_k = b_in_place ? (size_t)g->ldb : (size_t)NR;
        if (copy_a || copy_b)
            g->kr->kernel_copy(h, w, g->kc, copy_a ? a_ip : a, copy_a ? ip_rs : a_rs,
                                    copy_a ? ip_cs : a_cs, copy_a ? a_pack : NULL, b, ldb_k,
                                    copy_b ? b_pack : NULL, c, (size_t)g->ldc, g->alpha,
                                    g->beta);
        else
            g->kr->kernel(h, w, g->kc, a, a_rs, a_cs, b, ldb_k, c, (size_t)g->ldc, g->alpha,
                          g->beta);
    }
}

/* One part of C: A slivers [q0, q1) x columns [j0, j1), for the current panel. */
static void gemm_task(void *ctx, int task, int thread)
{
    const GemmJob *g = ctx;
    int mp = task / g->n_parts, np = task % g->n_parts;
    int q0 = (int)((long)mp * g->n_sliv / g->m_parts);
    int q1 = (int)((long)(mp + 1) * g->n_sliv / g->m_parts);
    int j0 = np * g->part_cols, j1 = j0 + g->part_cols < g->N ? j0 + g->part_cols : g->N;
    if (g->pack_a_in_task && !g->direct_a && !g->fuse_a)
        for (int q = q0; q < q1; q++) pack_a_sliver(g, q);
    float *Bp = g->Bp + (size_t)thread * g->b_stride;
    for (int jc = j0; jc < j1; jc += g->NC) {
        int nc = j1 - jc < g->NC ? j1 - jc : g->NC;
        if (!g->direct_b && !g->fuse_b) pack_b_block(g, jc, nc, Bp);
        for (int q = q0; q < q1; q++) sliver_tiles(g, q, q == q0, jc == j0, jc, nc, Bp);
    }
}

/* C = beta * C (the whole product vanishes: K == 0 or alpha == 0). */
static void scale_c(int M, int N, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f) memset(c, 0, (size_t)N * sizeof(float));
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) c[j] *= beta;
    }
}

/* How the panel's rows and columns are split over T threads.
 * B packed and at least ROWS_PER_THREAD_MIN rows per thread: rows only, one
 * part per thread. Each thread then packs its own A slivers (no shared
 * panel to wait for) and its own copy of each B block, and streams only its
 * share of the A panel per B block (2 threads, best of 4 runs against one
 * column part per thread: 1024^3 7.28 -> 6.94 ms, 256^3 0.131 -> 0.124;
 * but 200x1200x1611, 100 rows each, 2.67 -> 2.90: every thread reading all
 * of B costs more than it saves).
 * Otherwise columns first, at least 4 B slivers per part: up to 4 parts per
 * thread when B is read in place, so that a thread slowed down by another
 * process on its core does not hold the others up (tasks are handed out
 * dynamically); one per thread when B is packed, since each part streams
 * the whole A panel once per B block and a wide part reuses each A sliver
 * over more B slivers. Rows too when there are fewer column slivers than
 * threads. */
static void plan_parts(GemmJob *g, int T)
{
    const int NR = g->kr->NR;
    int col_slivers = (g->N + NR - 1) / NR;
    if (T > 1 && !g->direct_b && g->mc >= ROWS_PER_THREAD_MIN * T) {
        g->m_parts = T < g->n_sliv ? T : g->n_sliv;
        g->n_parts = 1;
    } else {
        int parts = T > 1 ? (g->direct_b ? 4 : 1) * T : 1;
        if (parts > col_slivers / 4) parts = col_slivers / 4;
        int at_least = T < col_slivers ? T : col_slivers;
        g->n_parts = parts > at_least ? parts : at_least;
        g->m_parts = T / g->n_parts;
        if (g->m_parts > g->n_sliv) g->m_parts = g->n_sliv;
        if (g->m_parts < 1) g->m_parts = 1;
    }
    int per = (col_slivers + g->n_parts - 1) / g->n_parts;
    g->part_cols = per * NR;
    g->pack_a_in_task = g->n_parts == 1;
}

void gemm_isa(CpuIsa isa, GemmTrans ta, GemmTrans tb, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    isa = cpu_isa_clamp(isa);
    GemmJob g = {.ta = ta, .tb = tb, .M = M, .N = N, .K = K, .alpha = alpha, .A = A,
                 .B = B, .lda = lda, .ldb = ldb, .C = C, .ldc = ldc, .kr = KERNELS[isa]};
    const int MR = g.kr->MR;
    block_sizes(g.kr, &g.KC, &g.NC);
    int kc0 = K < g.KC ? K : g.KC;
    int MC = round_down(A_PANEL_FLOATS / kc0, MR);
    if (MC > M) MC = M;

    int T = threadpool_threads();
    if (2.0 * M * N * K < GEMM_MT_MIN_FLOPS) T = 1;

    /* Packing buffers: the A panel unless A is read in place, one B block
     * per thread unless B is read in place (short panels, see the top). */
    g.direct_a = N <= GEMM_A_IN_PLACE_MAX_N || M <= A_DIRECT_MAX_M;
    int all_direct_b = tb == GEMM_N && MC <= B_DIRECT_MAX_M;
    int ncols = (N + g.kr->NR - 1) / g.kr->NR * g.kr->NR;
    size_t a_floats = g.direct_a ? 0 : (size_t)((MC + MR - 1) / MR) * MR * kc0;
    size_t b_floats = all_direct_b ? 0 : (size_t)kc0 * (ncols < g.NC ? ncols : g.NC);
    float *buf = NULL;
    if (a_floats + b_floats > 0) {
        buf = meld_aligned_alloc((a_floats + (size_t)T * b_floats) * sizeof(float),
                                 "gemm packing buffers");
        if (!buf) {
            /* gemm cannot fail by contract: fall back to the loop that needs no memory */
            meld_warnf("gemm %dx%dx%d: no memory for packing buffers, using the reference loop",
                       M, N, K);
            gemm_reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
            return;
        }
    }
    g.Ap = buf;
    g.Bp = buf ? buf + a_floats : NULL;
    g.b_stride = b_floats;

    for (g.ic = 0; g.ic < M; g.ic += MC) {
        g.mc = M - g.ic < MC ? M - g.ic : MC;
        g.n_sliv = (g.mc + MR - 1) / MR;
        g.direct_b = tb == GEMM_N && g.mc <= B_DIRECT_MAX_M;
        g.fuse_b = tb == GEMM_N && !g.direct_b && !g.direct_a && g.kr->kernel_copy;
        plan_parts(&g, T);
        g.fuse_a = g.pack_a_in_task && !g.direct_a && g.kr->kernel_copy;
        for (g.pc = 0; g.pc < K; g.pc += g.KC) {
            g.kc = K - g.pc < g.KC ? K - g.pc : g.KC;
            g.beta = g.pc == 0 ? beta : 1.0f;
            if (!g.pack_a_in_task && !g.direct_a) {
                /* the column parts share the panel: pack it first */
                int big = (size_t)g.mc * g.kc >= 65536;
                threadpool_parallel_for_n(g.n_sliv, big ? T : 1, pack_a_task, &g);
            }
            threadpool_parallel_for_n(g.m_parts * g.n_parts, T, gemm_task, &g);
        }
    }
    free(buf);
}

void gemm(GemmTrans ta, GemmTrans tb, int M, int N, int K, float alpha,
          const float *A, int lda, const float *B, int ldb, float beta,
          float *C, int ldc)
{
    gemm_isa(cpu_isa(), ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
