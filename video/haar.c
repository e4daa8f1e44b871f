/* Detection: the image pyramid, the window scan, grouping (see haar.h for
 * the maths and for what matches OpenCV). The cascade itself comes from
 * video/haar_cascade.c, already validated. */
#include "video/haar.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/threadpool.h"
#include "video/color.h"
#include "video/haar_impl.h"
#include "video/haar_lanes.h"

HaarOptions haar_default_options(void)
{
    return (HaarOptions){.scale_factor = 1.1f, .min_neighbours = 3, .min_size = 0, .max_size = 0};
}

/* ---- what one call shares between its threads ------------------------------ */

typedef struct {
    float scale;           /* pyramid factor, float as OpenCV keeps it */
    int width, height;     /* the level image */
    int step;              /* window step: 2 below scale 2, else 1 */
    int rows;              /* window rows y < rows are scanned (see stripe_rows) */
    ImageRect box;         /* the window at (0, 0) in input pixels */
} Level;

typedef struct {
    ImageRect *r;
    int n, cap;
} RectList;

/* Per-thread buffers: the level image and its two integral images. */
typedef struct {
    Image level;
    uint32_t *sum, *sq;
} Scratch;

typedef struct {
    const HaarCascade *c;
    const Image *grey;
    const Level *levels;
    int n_levels;
    int order[1024];       /* tasks: levels by decreasing work */
    int stride;            /* integral image row length for every level, and
                              the offsets of the features placed at it: */
    size_t cells;          /* integral image entries per buffer */
    HaarFeat *feats;
    HaarStump *stumps;     /* NULL for tree cascades */
    HaarLanes lanes;
    const HaarLaneKernels *kernels;
    Scratch *scratch;      /* one per thread */
    RectList *found;       /* one per level */
    int *failed;           /* one per level: out of memory */
} Scan;

/* ---- the pyramid ------------------------------------------------------------- */

#define MAX_LEVELS ((int)(sizeof((Scan *)0)->order / sizeof(int)))

/* OpenCV splits each level's window rows into ceil(W0 / 32) stripes (W0:
 * window columns of the first level) of
 *     stripe = max(ceil((rows / step) / stripes), 1) * step
 * rows, with an integer division inside, and scans y < stripes * stripe:
 * when that falls short of the level, its last window row is never looked
 * at. Reproduced, so the windows are OpenCV's. */
static void stripe_rows(const HaarCascade *c, Level *lv, int n)
{
    if (n == 0) return;
    const int cols0 = lv[0].width + 1 - c->win_w;
    const int stripes = cols0 > 0 ? (cols0 + 31) / 32 : 0;
    for (int i = 0; i < n; i++) {
        int rows = lv[i].height + 1 - c->win_h;
        if (rows < 0) rows = 0;
        int per = (rows / lv[i].step + stripes - 1) / (stripes > 0 ? stripes : 1);
        int stripe = (per > 1 ? per : 1) * lv[i].step;
        lv[i].rows = stripes * stripe < rows ? stripes * stripe : rows;
    }
}

/* OpenCV's scale list: factor = f^k (double) while the window fits the
 * image and max_size; windows below min_size skipped. The level is the
 * image divided by (float)factor, rounded. At most MAX_LEVELS (1.01^1024
 * spans a 26,000-fold range of face sizes). */
static int pyramid(const HaarCascade *c, int width, int height, const HaarOptions *o, Level *lv)
{
    int n = 0;
    const int max_w = o->max_size > 0 ? o->max_size : width, max_h = o->max_size > 0 ? o->max_size : height;
    for (double factor = 1; n < MAX_LEVELS; factor *= o->scale_factor) {
        long ww = lrint(c->win_w * factor), wh = lrint(c->win_h * factor);
        if (ww > max_w || wh > max_h || ww > width || wh > height) break;
        if (ww < o->min_size || wh < o->min_size) continue;
        const float s = (float)factor;
        Level l = {s, (int)lrintf((float)width / s), (int)lrintf((float)height / s), s >= 2 ? 1 : 2, 0,
                   {0, 0, (int)lrintf((float)c->win_w * s), (int)lrintf((float)c->win_h * s)}};
        lv[n++] = l;
    }
    stripe_rows(c, lv, n);
    return n;
}

/* Integral images, (h + 1) rows of `stride` entries, row 0 and column 0
 * zero. uint32 on purpose: a large image's totals wrap, but arithmetic is
 * modulo 2^32 and a window's true sums (at most 256^2 * 255^2 < 2^32) come
 * out exact from the wrapped corners, as with OpenCV's int32 buffers. */
static void integrals(const Image *g, int stride, uint32_t *sum, uint32_t *sq)
{
    memset(sum, 0, sizeof(uint32_t) * (size_t)(g->width + 1));
    memset(sq, 0, sizeof(uint32_t) * (size_t)(g->width + 1));
    for (int y = 0; y < g->height; y++) {
        const uint8_t *row = g->pixels + (size_t)y * g->width;
        uint32_t *s = sum + (size_t)(y + 1) * stride, *q = sq + (size_t)(y + 1) * stride;
        const uint32_t *su = s - stride, *qu = q - stride;
        uint32_t rs = 0, rq = 0;
        s[0] = q[0] = 0;
        for (int x = 0; x < g->width; x++) {
            rs += row[x];
            rq += (uint32_t)row[x] * row[x];
            s[x + 1] = su[x + 1] + rs;
            q[x + 1] = qu[x + 1] + rq;
        }
    }
}

/* ---- one level --------------------------------------------------------------- */

static int rect_push(RectList *l, ImageRect r)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        ImageRect *g = realloc(l->r, sizeof(ImageRect) * (size_t)cap);
        if (!g) return MELD_ERR;
        l->r = g;
        l->cap = cap;
    }
    l->r[l->n++] = r;
    return MELD_OK;
}

/* One row of windows, 16 at a time (haar_lanes.h). OpenCV decides along
 * the row: window x is looked at unless the one looked at before it
 * (x - step) was rejected by the first stage (its neighbour is almost surely
 * no face either), and flat windows are passed over. Which windows are
 * looked at thus depends on the first stage alone: it runs on the 16 lanes,
 * the walk picks the real windows, and the other stages run on those of
 * them that passed. */
static int scan_row(const Scan *sc, const Level *lv, const uint32_t *srow, const uint32_t *qrow, int y, int nx,
                    RectList *out)
{
    const HaarLaneKernels *k = sc->kernels;
    const int step = lv->step, n_stages = sc->c->n_stages;
    const uint32_t parity = step == 2 ? 0x5555u : 0xffffu;   /* x0 is a multiple of 16 */
    int next = 0;   /* the next window the walk looks at */
    for (int x0 = 0; x0 < nx; x0 += HAAR_LANES) {
        const int n = nx - x0 < HAAR_LANES ? nx - x0 : HAAR_LANES;
        float inv[HAAR_LANES];
        const uint32_t searchable = k->norms(&sc->lanes, srow + x0, qrow + x0, inv) & ((1u << n) - 1) & parity;
        const uint32_t first = k->stages(&sc->lanes, srow + x0, inv, searchable, 0, 1);
        uint32_t looked = 0;
        while (next < x0 + n) {
            const uint32_t bit = 1u << (next - x0);
            if (!(searchable & bit)) {
                next += step;           /* flat */
            } else if (first & bit) {
                looked |= bit;
                next += step;
            } else {
                next += 2 * step;       /* rejected by the first stage: skip one */
            }
        }
        uint32_t faces = looked ? k->stages(&sc->lanes, srow + x0, inv, looked, 1, n_stages) : 0;
        for (; faces; faces &= faces - 1) {
            const int x = x0 + __builtin_ctz(faces);
            ImageRect box = {(int)lrintf((float)x * lv->scale), (int)lrintf((float)y * lv->scale), lv->box.width,
                             lv->box.height};
            if (rect_push(out, box)) return MELD_ERR;
        }
    }
    return MELD_OK;
}

/* Slides the window over the level, rows `step` apart. */
static int scan_windows(const Scan *sc, const Level *lv, const Scratch *s, RectList *out)
{
    const int nx = lv->width + 1 - sc->c->win_w;
    for (int y = 0; y < lv->rows; y += lv->step) {
        const size_t row = (size_t)y * sc->stride;
        if (scan_row(sc, lv, s->sum + row, s->sq + row, y, nx, out)) return MELD_ERR;
    }
    return MELD_OK;
}

static void level_task(void *ctx, int task, int thread)
{
    Scan *sc = ctx;
    const int li = sc->order[task];
    const Level *lv = &sc->levels[li];
    Scratch *s = &sc->scratch[thread];
    if (!s->sum) {
        /* zeroed, and HAAR_LANES entries longer: the last lanes of a row
         * read past the level (their results are masked off) */
        s->sum = calloc(sc->cells + HAAR_LANES, sizeof(uint32_t));
        s->sq = calloc(sc->cells + HAAR_LANES, sizeof(uint32_t));
    }
    sc->failed[li] = 0;
    if (lv->rows <= 0 || lv->width < sc->c->win_w) return;   /* no window fits */
    const Image *src = sc->grey;
    int rc = s->sum && s->sq ? MELD_OK : MELD_ERR;
    if (rc == MELD_OK && (lv->width != sc->grey->width || lv->height != sc->grey->height)) {
        rc = image_resize_bilinear(sc->grey, lv->width, lv->height, &s->level);
        src = &s->level;
    }
    if (rc == MELD_OK) {
        integrals(src, sc->stride, s->sum, s->sq);
        rc = scan_windows(sc, lv, s, &sc->found[li]);
    }
    sc->failed[li] = rc != MELD_OK;
}

/* ---- the call ------------------------------------------------------------------ */

static void place_feature(const HaarFeature *hf, int stride, HaarFeat *f)
{
    for (int k = 0; k < 3; k++) {
        const HaarRect *r = &hf->r[k];
        f->o[k][0] = (r->y + r->h) * stride + r->x + r->w;
        f->o[k][1] = (r->y + r->h) * stride + r->x;
        f->o[k][2] = r->y * stride + r->x + r->w;
        f->o[k][3] = r->y * stride + r->x;
        f->w[k] = r->weight;
    }
}

/* The cascade at this call's row stride: every level uses it, so the
 * offsets are computed once per call. */
static int place_cascade(Scan *sc)
{
    const HaarCascade *c = sc->c;
    sc->feats = meld_malloc(sizeof(HaarFeat) * (size_t)c->n_features, "Haar feature offsets");
    if (!sc->feats) return MELD_ERR;
    for (int i = 0; i < c->n_features; i++) place_feature(&c->features[i], sc->stride, &sc->feats[i]);
    if (c->stumps) {
        sc->stumps = meld_malloc(sizeof(HaarStump) * (size_t)c->n_weak, "Haar stumps");
        if (!sc->stumps) return MELD_ERR;
        for (int i = 0; i < c->n_weak; i++) {
            const HaarNode *nd = &c->nodes[c->weak[i].first_node];
            const float *leaf = c->leaves + c->weak[i].first_leaf;
            sc->stumps[i] = (HaarStump){sc->feats[nd->feature], nd->threshold, leaf[-nd->left], leaf[-nd->right]};
        }
    }
    const int st = sc->stride, w = c->win_w, h = c->win_h;
    sc->lanes = (HaarLanes){c, sc->feats, sc->stumps, {(h - 1) * st + w - 1, (h - 1) * st + 1, st + w - 1, st + 1},
                            (double)(w - 2) * (h - 2)};
    sc->kernels = haar_lanes_kernels(&sc->lanes);
    return MELD_OK;
}

/* Levels by decreasing work (windows scanned), so the big ones start first
 * and the small ones fill the gaps. */
static void order_levels(Scan *sc)
{
    for (int i = 0; i < sc->n_levels; i++) sc->order[i] = i;
    for (int i = 1; i < sc->n_levels; i++) {
        int k = sc->order[i], j = i;
        const Level *a = &sc->levels[k];
        double wa = (double)a->width * a->height / (a->step * a->step);
        while (j > 0) {
            const Level *b = &sc->levels[sc->order[j - 1]];
            if ((double)b->width * b->height / (b->step * b->step) >= wa) break;
            sc->order[j] = sc->order[j - 1];
            j--;
        }
        sc->order[j] = k;
    }
}

static int by_area_desc(const void *a, const void *b)
{
    const HaarDetection *x = a, *y = b;
    long ax = (long)x->box.width * x->box.height, ay = (long)y->box.width * y->box.height;
    if (ax != ay) return ax > ay ? -1 : 1;
    if (x->neighbours != y->neighbours) return y->neighbours - x->neighbours;
    if (x->box.y != y->box.y) return x->box.y - y->box.y;
    return x->box.x - y->box.x;
}

/* OpenCV's clipObjects: each box cut to the image, empty ones dropped. */
static int clip_boxes(HaarDetection *d, int n, int width, int height)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        ImageRect b = d[i].box;
        int x0 = b.x > 0 ? b.x : 0, y0 = b.y > 0 ? b.y : 0;
        int x1 = b.x + b.width < width ? b.x + b.width : width, y1 = b.y + b.height < height ? b.y + b.height : height;
        if (x1 > x0 && y1 > y0) d[k++] = (HaarDetection){{x0, y0, x1 - x0, y1 - y0}, d[i].neighbours};
    }
    return k;
}

/* Raw windows of every level, in level order, grouped, clipped, sorted. */
static int collect(const Scan *sc, const HaarOptions *opt, HaarDetection **dets, int *n)
{
    int total = 0;
    for (int i = 0; i < sc->n_levels; i++) total += sc->found[i].n;
    if (total == 0) return MELD_OK;
    ImageRect *raw = meld_malloc(sizeof(ImageRect) * (size_t)total, "detections");
    HaarDetection *g = meld_malloc(sizeof(HaarDetection) * (size_t)total, "detections");
    if (!raw || !g) {
        free(raw);
        free(g);
        return MELD_ERR;
    }
    int k = 0;
    for (int i = 0; i < sc->n_levels; i++)
        for (int j = 0; j < sc->found[i].n; j++) raw[k++] = sc->found[i].r[j];
    k = haar_group(raw, total, opt->min_neighbours, 0.2, g);
    free(raw);
    if (k > 0) k = clip_boxes(g, k, sc->grey->width, sc->grey->height);
    if (k <= 0) {
        free(g);
        return k < 0 ? MELD_ERR : MELD_OK;
    }
    qsort(g, (size_t)k, sizeof *g, by_area_desc);
    *dets = g;
    *n = k;
    return MELD_OK;
}

static int check_options(const HaarOptions *o)
{
    if (!(o->scale_factor >= 1.01f && o->scale_factor <= 4.0f))
        return meld_errorf("haar_detect: scale_factor %g must be in [1.01, 4]", o->scale_factor);
    if (o->min_neighbours < 0 || o->min_size < 0 || o->max_size < 0)
        return meld_errorf("haar_detect: negative option");
    return MELD_OK;
}

static void scan_free(Scan *sc, int threads)
{
    for (int t = 0; sc->scratch && t < threads; t++) {
        image_free(&sc->scratch[t].level);
        free(sc->scratch[t].sum);
        free(sc->scratch[t].sq);
    }
    for (int i = 0; sc->found && i < sc->n_levels; i++) free(sc->found[i].r);
    free(sc->scratch);
    free(sc->found);
    free(sc->failed);
    free(sc->feats);
    free(sc->stumps);
}

int haar_detect(const HaarCascade *c, const Image *im, const HaarOptions *opt, HaarDetection **dets, int *n)
{
    *dets = NULL;
    *n = 0;
    if (check_options(opt)) return MELD_ERR;
    Level levels[MAX_LEVELS];
    Scan sc = {.c = c, .levels = levels};
    sc.n_levels = pyramid(c, im->width, im->height, opt, levels);
    if (sc.n_levels == 0) return MELD_OK;
    Image grey = {0};
    if (image_to_grey(im, &grey)) return MELD_ERR;
    sc.grey = &grey;
    /* the first level is the largest: its row length serves every level */
    sc.stride = levels[0].width + 1;
    sc.cells = (size_t)sc.stride * (size_t)(levels[0].height + 1);
    const int threads = threadpool_threads();
    sc.scratch = meld_calloc((size_t)threads, sizeof(Scratch), "detection buffers");
    sc.found = meld_calloc((size_t)sc.n_levels, sizeof(RectList), "detections");
    sc.failed = meld_calloc((size_t)sc.n_levels, sizeof(int), "detections");
    int rc = sc.scratch && sc.found && sc.failed ? place_cascade(&sc) : MELD_ERR;
    if (rc == MELD_OK) {
        order_levels(&sc);
        threadpool_parallel_for(sc.n_levels, level_task, &sc);
        for (int i = 0; i < sc.n_levels; i++)
            if (sc.failed[i]) rc = meld_errorf("haar_detect: out of memory for a %dx%d level", levels[i].width,
                                               levels[i].height);
    }
    if (rc == MELD_OK) rc = collect(&sc, opt, dets, n);
    scan_free(&sc, threads);
    image_free(&grey);
    return rc;
}

/* ---- grouping: OpenCV's groupRectangles ---------------------------------------- */

/* Two raw windows see the same face when every edge is within delta. */
static int similar(ImageRect a, ImageRect b, double eps)
{
    double delta = eps * ((a.width < b.width ? a.width : b.width) + (a.height < b.height ? a.height : b.height)) * 0.5;
    return abs(a.x - b.x) <= delta && abs(a.y - b.y) <= delta && abs(a.x + a.width - b.x - b.width) <= delta &&
           abs(a.y + a.height - b.y - b.height) <= delta;
}

static int find_root(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];   /* path halving */
        i = parent[i];
    }
    return i;
}

/* The mean of a cluster, rounded as OpenCV rounds it (sum * (1/n) in
 * float, then to nearest even). */
static int mean_of(long sum, int count)
{
    return (int)lrintf((float)sum * (1.0f / (float)count));
}

/* Drops cluster i when it lies inside a stronger cluster j (within eps of
 * j's size): a face's own windows form one cluster, and a weaker one inside
 * it is usually a false hit on an eye or the mouth. */
static int inside_stronger(const HaarDetection *out, int k, int i, double eps)
{
    const ImageRect a = out[i].box;
    const int n1 = out[i].neighbours;
    for (int j = 0; j < k; j++) {
        if (j == i) continue;
        const ImageRect b = out[j].box;
        const int n2 = out[j].neighbours;
        const int dx = (int)lrint(b.width * eps), dy = (int)lrint(b.height * eps);
        if (a.x >= b.x - dx && a.y >= b.y - dy && a.x + a.width <= b.x + b.width + dx &&
            a.y + a.height <= b.y + b.height + dy && (n2 > (n1 > 3 ? n1 : 3) || n1 < 3))
            return 1;
    }
    return 0;
}

int haar_group(const ImageRect *raw, int n_raw, int min_neighbours, double eps, HaarDetection *out)
{
    if (n_raw <= 0) return 0;
    if (min_neighbours <= 0) {
        for (int i = 0; i < n_raw; i++) out[i] = (HaarDetection){raw[i], 1};
        return n_raw;
    }
    /* union-find over "similar": clusters are its connected parts, which is
     * what OpenCV's partition() computes */
    int *parent = meld_malloc(sizeof(int) * 3 * (size_t)n_raw, "detection grouping");
    long *acc = meld_malloc(sizeof(long) * 4 * (size_t)n_raw, "detection grouping");
    if (!parent || !acc) {
        free(parent);
        free(acc);
        return MELD_ERR;
    }
    int *count = parent + n_raw, *keep = parent + 2 * n_raw;
    for (int i = 0; i < n_raw; i++) parent[i] = i;
    for (int i = 0; i < n_raw; i++)
        for (int j = i + 1; j < n_raw; j++)
            if (similar(raw[i], raw[j], eps)) {
                int a = find_root(parent, i), b = find_root(parent, j);
                if (a != b) parent[b] = a;
            }
    memset(acc, 0, sizeof(long) * 4 * (size_t)n_raw);
    memset(count, 0, sizeof(int) * (size_t)n_raw);
    for (int i = 0; i < n_raw; i++) {
        int r = find_root(parent, i);
        acc[4 * r] += raw[i].x;
        acc[4 * r + 1] += raw[i].y;
        acc[4 * r + 2] += raw[i].width;
        acc[4 * r + 3] += raw[i].height;
        count[r]++;
    }
    /* the mean rectangle of each cluster with more than min_neighbours */
    int k = 0;
    for (int r = 0; r < n_raw; r++) {
        if (count[r] <= min_neighbours) continue;
        out[k++] = (HaarDetection){{mean_of(acc[4 * r], count[r]), mean_of(acc[4 * r + 1], count[r]),
                                    mean_of(acc[4 * r + 2], count[r]), mean_of(acc[4 * r + 3], count[r])},
                                   count[r]};
    }
    for (int i = 0; i < k; i++) keep[i] = !inside_stronger(out, k, i, eps);
    int kept = 0;
    for (int i = 0; i < k; i++)
        if (keep[i]) out[kept++] = out[i];
    free(parent);
    free(acc);
    return kept;
}
