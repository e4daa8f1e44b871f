#include "video/haar.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensor/error.h"
#include "tensor/input_file.h"
#include "video/color.h"

#define HAAR_MAX_FILE (64L << 20)
#define HAAR_MAX_WINDOW 256   /* trained windows are 20..60 pixels */
#define XML_MAX_DEPTH 32

/* ====================================================================== */
/* A minimal XML reader: enough for OpenCV's FileStorage output (elements,  */
/* text, attributes skipped, comments, <?xml ?>). Builds a tree of nodes in */
/* one array; names and text point into the caller's buffer.               */
/* ====================================================================== */

typedef struct {
    const char *name;
    size_t name_len;
    const char *text;          /* first non-blank text inside, or NULL */
    size_t text_len;
    int first_child, next_sibling, last_child;   /* -1: none */
} XmlNode;

typedef struct {
    XmlNode *nodes;
    int n, cap;
    const char *src;           /* for messages */
} XmlDoc;

static int xml_new_node(XmlDoc *d, int parent, const char *name, size_t len)
{
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 1024;
        XmlNode *grown = realloc(d->nodes, sizeof(XmlNode) * (size_t)cap);
        if (!grown) return meld_errorf("%s: out of memory for XML nodes", d->src);
        d->nodes = grown;
        d->cap = cap;
    }
    int id = d->n++;
    d->nodes[id] = (XmlNode){name, len, NULL, 0, -1, -1, -1};
    if (parent >= 0) {
        XmlNode *p = &d->nodes[parent];
        if (p->last_child >= 0) d->nodes[p->last_child].next_sibling = id;
        else p->first_child = id;
        p->last_child = id;
    }
    return id;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
}

/* Skips to just past the first occurrence of `end` from p; NULL if absent. */
static const char *skip_past(const char *p, const char *stop, const char *end)
{
    size_t k = strlen(end);
    for (; p + k <= stop; p++)
        if (!memcmp(p, end, k)) return p + k;
    return NULL;
}

/* Parses buf[0..n). Node 0 is a virtual root holding the top elements. */
static int xml_parse(XmlDoc *d, const char *buf, size_t n)
{
    const char *p = buf, *end = buf + n;
    int stack[XML_MAX_DEPTH + 1], depth = 0;
    if (xml_new_node(d, -1, "", 0) < 0) return MELD_ERR;
    stack[0] = 0;
    while (p < end) {
        if (*p != '<') {
            /* text: remember the first non-blank run of the current element */
            const char *t = p;
            while (p < end && *p != '<') p++;
            while (t < p && (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t')) t++;
            XmlNode *cur = &d->nodes[stack[depth]];
            if (t < p && !cur->text) {
                cur->text = t;
                cur->text_len = (size_t)(p - t);
            }
            continue;
        }
        if (p + 1 >= end) return meld_errorf("%s: XML truncated at byte %zu", d->src, (size_t)(p - buf));
        if (p[1] == '?' || p[1] == '!') {
            /* <?xml ...?>, <!-- comment -->, <!DOCTYPE ...> */
            const char *q = (p + 4 <= end && !memcmp(p, "<!--", 4)) ? skip_past(p + 4, end, "-->")
                                                                     : skip_past(p, end, ">");
            if (!q) return meld_errorf("%s: XML comment or declaration not closed", d->src);
            p = q;
            continue;
        }
        if (p[1] == '/') {
            /* closing tag: must match the open element */
            const char *name = p + 2, *q = name;
            while (q < end && is_name_char(*q)) q++;
            const XmlNode *open = &d->nodes[stack[depth]];
            if (depth == 0 || (size_t)(q - name) != open->name_len || memcmp(name, open->name, open->name_len))
                return meld_errorf("%s: XML closing tag </%.*s> does not match at byte %zu", d->src,
                                   (int)(q - name > 40 ? 40 : q - name), name, (size_t)(p - buf));
            q = skip_past(q, end, ">");
            if (!q) return meld_errorf("%s: XML truncated in a closing tag", d->src);
            depth--;
            p = q;
            continue;
        }
        /* opening tag, attributes skipped (quoted values may hold '>') */
        const char *name = p + 1, *q = name;
        while (q < end && is_name_char(*q)) q++;
        if (q == name) return meld_errorf("%s: XML bad tag at byte %zu", d->src, (size_t)(p - buf));
        int self_closing = 0;
        while (q < end && *q != '>') {
            if (*q == '"' || *q == '\'') {
                const char *close = memchr(q + 1, *q, (size_t)(end - q - 1));
                if (!close) return meld_errorf("%s: XML attribute quote not closed", d->src);
                q = close;
            }
            q++;
        }
        if (q >= end) return meld_errorf("%s: XML truncated in a tag", d->src);
        if (q[-1] == '/') self_closing = 1;
        const char *ne = name;
        while (ne < q && is_name_char(*ne)) ne++;
        int id = xml_new_node(d, stack[depth], name, (size_t)(ne - name));
        if (id < 0) return MELD_ERR;
        if (!self_closing) {
            if (depth == XML_MAX_DEPTH) return meld_errorf("%s: XML nested deeper than %d", d->src, XML_MAX_DEPTH);
            stack[++depth] = id;
        }
        p = q + 1;
    }
    if (depth != 0) return meld_errorf("%s: XML truncated: %d elements not closed", d->src, depth);
    return MELD_OK;
}

/* First child of node `id` called `name`, or -1. */
static int xml_child(const XmlDoc *d, int id, const char *name)
{
    if (id < 0) return -1;
    size_t len = strlen(name);
    for (int c = d->nodes[id].first_child; c >= 0; c = d->nodes[c].next_sibling)
        if (d->nodes[c].name_len == len && !memcmp(d->nodes[c].name, name, len)) return c;
    return -1;
}

static int xml_count_children(const XmlDoc *d, int id)
{
    int n = 0;
    for (int c = id >= 0 ? d->nodes[id].first_child : -1; c >= 0; c = d->nodes[c].next_sibling) n++;
    return n;
}

/* Parses up to `max` numbers from a node's text; returns the count or -1. */
static int xml_numbers(const XmlDoc *d, int id, double *out, int max, const char *what)
{
    if (id < 0) return meld_errorf("%s: cascade lacks <%s>", d->src, what);
    const XmlNode *nd = &d->nodes[id];
    const char *p = nd->text, *end = nd->text ? nd->text + nd->text_len : NULL;
    int n = 0;
    while (p && p < end) {
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
        if (p >= end) break;
        /* strtod stops at the '<' that follows every text run */
        char *stop;
        errno = 0;
        double v = strtod(p, &stop);
        if (stop == p || stop > end || errno == ERANGE || !isfinite(v))
            return meld_errorf("%s: bad number in <%s>", d->src, what);
        if (n == max) return meld_errorf("%s: too many numbers in <%s> (max %d)", d->src, what, max);
        out[n++] = v;
        p = stop;
    }
    return n;
}

static int xml_int(const XmlDoc *d, int id, const char *what, long lo, long hi, int *out)
{
    double v;
    int n = xml_numbers(d, id, &v, 1, what);
    if (n < 0) return MELD_ERR;
    if (n != 1 || v != floor(v) || v < lo || v > hi)
        return meld_errorf("%s: <%s> must be an integer in [%ld, %ld]", d->src, what, lo, hi);
    *out = (int)v;
    return MELD_OK;
}

static int xml_text_is(const XmlDoc *d, int id, const char *value)
{
    if (id < 0 || !d->nodes[id].text) return 0;
    size_t len = d->nodes[id].text_len;
    while (len && (d->nodes[id].text[len - 1] == ' ' || d->nodes[id].text[len - 1] == '\n')) len--;
    return len == strlen(value) && !memcmp(d->nodes[id].text, value, len);
}

/* ====================================================================== */
/* The cascade                                                              */
/* ====================================================================== */

typedef struct {
    int x, y, w, h;
    float weight;
} HaarRect;

typedef struct {
    HaarRect r[3];
    int n;
} HaarFeature;

typedef struct {
    int feature;
    float threshold;
    int left, right;           /* > 0: node index in this tree, <= 0: leaf -value */
} HaarNode;

typedef struct {
    int first_node, n_nodes;   /* into nodes[] */
    int first_leaf, n_leaves;  /* into leaves[] */
} HaarWeak;

typedef struct {
    int first_weak, n_weak;
    float threshold;
} HaarStage;

struct HaarCascade {
    int win_w, win_h;
    HaarStage *stages;
    int n_stages;
    HaarWeak *weak;
    int n_weak;
    HaarNode *nodes;
    int n_nodes;
    float *leaves;
    int n_leaves;
    HaarFeature *features;
    int n_features;
};

void haar_free(HaarCascade *c)
{
    if (!c) return;
    free(c->stages);
    free(c->weak);
    free(c->nodes);
    free(c->leaves);
    free(c->features);
    free(c);
}

void haar_info(const HaarCascade *c, int *win_width, int *win_height, int *n_stages)
{
    if (win_width) *win_width = c->win_w;
    if (win_height) *win_height = c->win_h;
    if (n_stages) *n_stages = c->n_stages;
}

static int load_features(HaarCascade *c, const XmlDoc *d, int features)
{
    c->n_features = xml_count_children(d, features);
    if (c->n_features < 1) return meld_errorf("%s: cascade has no <features>", d->src);
    c->features = meld_calloc((size_t)c->n_features, sizeof(HaarFeature), "Haar features");
    if (!c->features) return MELD_ERR;
    int i = 0;
    for (int f = d->nodes[features].first_child; f >= 0; f = d->nodes[f].next_sibling, i++) {
        int tilted = 0;
        int t = xml_child(d, f, "tilted");
        if (t >= 0 && xml_int(d, t, "tilted", 0, 1, &tilted)) return MELD_ERR;
        if (tilted) return meld_errorf("%s: feature %d is tilted (45-degree features are not supported)", d->src, i);
        int rects = xml_child(d, f, "rects");
        HaarFeature *hf = &c->features[i];
        for (int r = rects >= 0 ? d->nodes[rects].first_child : -1; r >= 0; r = d->nodes[r].next_sibling) {
            double v[5];
            int n = xml_numbers(d, r, v, 5, "rects");
            if (n < 0) return MELD_ERR;
            if (n != 5) return meld_errorf("%s: feature %d: a rect needs x y w h weight", d->src, i);
            if (hf->n == 3) return meld_errorf("%s: feature %d has more than 3 rects", d->src, i);
            HaarRect hr = {(int)v[0], (int)v[1], (int)v[2], (int)v[3], (float)v[4]};
            if (hr.x < 0 || hr.y < 0 || hr.w < 1 || hr.h < 1 || hr.x + hr.w > c->win_w || hr.y + hr.h > c->win_h)
                return meld_errorf("%s: feature %d: rect %dx%d+%d+%d outside the %dx%d window", d->src, i, hr.w, hr.h,
                                   hr.x, hr.y, c->win_w, c->win_h);
            hf->r[hf->n++] = hr;
        }
        if (hf->n < 1) return meld_errorf("%s: feature %d has no rects", d->src, i);
    }
    return MELD_OK;
}

/* Reads one weak classifier's tree; checks every index so evaluation can
 * never leave the arrays or loop (children must come after their parent). */
static int load_weak(HaarCascade *c, const XmlDoc *d, int wnode, int s, int j, int *node_cap, int *leaf_cap)
{
    double buf[4 * 64];
    int n = xml_numbers(d, xml_child(d, wnode, "internalNodes"), buf, 4 * 64, "internalNodes");
    if (n < 0) return MELD_ERR;
    if (n == 0 || n % 4) return meld_errorf("%s: stage %d classifier %d: internalNodes not in groups of 4", d->src, s, j);
    double leaves[65];
    int nl = xml_numbers(d, xml_child(d, wnode, "leafValues"), leaves, 65, "leafValues");
    if (nl < 0) return MELD_ERR;
    int nn = n / 4;
    while (c->n_nodes + nn > *node_cap || c->n_leaves + nl > *leaf_cap) {
        int ncap = *node_cap * 2, lcap = *leaf_cap * 2;
        HaarNode *gn = realloc(c->nodes, sizeof(HaarNode) * (size_t)ncap);
        if (gn) c->nodes = gn;
        float *gl = realloc(c->leaves, sizeof(float) * (size_t)lcap);
        if (gl) c->leaves = gl;
        if (!gn || !gl) return meld_errorf("%s: out of memory for the cascade", d->src);
        *node_cap = ncap;
        *leaf_cap = lcap;
    }
    HaarWeak *w = &c->weak[c->n_weak++];
    *w = (HaarWeak){c->n_nodes, nn, c->n_leaves, nl};
    for (int k = 0; k < nn; k++) {
        const double *g = buf + 4 * k;
        HaarNode hn = {(int)g[2], (float)g[3], (int)g[0], (int)g[1]};
        int bad_feature = g[2] != floor(g[2]) || hn.feature < 0 || hn.feature >= c->n_features;
        int bad_child = 0;
        for (int side = 0; side < 2; side++) {
            double ch = g[side];
            if (ch != floor(ch) || ch > nn - 1 || ch < -(nl - 1) || (ch > 0 && ch <= k)) bad_child = 1;
        }
        if (bad_feature || bad_child)
            return meld_errorf("%s: stage %d classifier %d node %d: bad feature or child index", d->src, s, j, k);
        c->nodes[c->n_nodes++] = hn;
    }
    for (int k = 0; k < nl; k++) c->leaves[c->n_leaves++] = (float)leaves[k];
    return MELD_OK;
}

static int load_stages(HaarCascade *c, const XmlDoc *d, int stages)
{
    c->n_stages = xml_count_children(d, stages);
    if (c->n_stages < 1) return meld_errorf("%s: cascade has no <stages>", d->src);
    c->stages = meld_calloc((size_t)c->n_stages, sizeof(HaarStage), "Haar stages");
    if (!c->stages) return MELD_ERR;
    int total_weak = 0;
    for (int s = d->nodes[stages].first_child; s >= 0; s = d->nodes[s].next_sibling)
        total_weak += xml_count_children(d, xml_child(d, s, "weakClassifiers"));
    c->weak = meld_calloc((size_t)(total_weak ? total_weak : 1), sizeof(HaarWeak), "Haar classifiers");
    int node_cap = total_weak + 16, leaf_cap = 2 * total_weak + 16;
    c->nodes = meld_malloc(sizeof(HaarNode) * (size_t)node_cap, "Haar nodes");
    c->leaves = meld_malloc(sizeof(float) * (size_t)leaf_cap, "Haar leaves");
    if (!c->weak || !c->nodes || !c->leaves) return MELD_ERR;
    int i = 0;
    for (int s = d->nodes[stages].first_child; s >= 0; s = d->nodes[s].next_sibling, i++) {
        double thr;
        int n = xml_numbers(d, xml_child(d, s, "stageThreshold"), &thr, 1, "stageThreshold");
        if (n < 0) return MELD_ERR;
        if (n != 1) return meld_errorf("%s: stage %d: stageThreshold must be one number", d->src, i);
        int wc = xml_child(d, s, "weakClassifiers");
        c->stages[i] = (HaarStage){c->n_weak, 0, (float)thr};
        int j = 0;
        for (int w = wc >= 0 ? d->nodes[wc].first_child : -1; w >= 0; w = d->nodes[w].next_sibling, j++)
            if (load_weak(c, d, w, i, j, &node_cap, &leaf_cap)) return MELD_ERR;
        if (j == 0) return meld_errorf("%s: stage %d has no weak classifiers", d->src, i);
        c->stages[i].n_weak = j;
    }
    return MELD_OK;
}

static int load_cascade(HaarCascade *c, const XmlDoc *d)
{
    int root = xml_child(d, 0, "opencv_storage");
    int cas = xml_child(d, root, "cascade");
    if (cas < 0) {
        int old = root >= 0 ? d->nodes[root].first_child : -1;
        if (old >= 0)
            return meld_errorf("%s: old-style cascade <%.*s> (pre-OpenCV-2.0 layout) not supported; use e.g. "
                               "haarcascade_frontalface_default.xml from opencv-data", d->src,
                               (int)(d->nodes[old].name_len > 60 ? 60 : d->nodes[old].name_len), d->nodes[old].name);
        return meld_errorf("%s: not an OpenCV cascade (no <opencv_storage><cascade>)", d->src);
    }
    int st = xml_child(d, cas, "stageType"), ft = xml_child(d, cas, "featureType");
    if (st >= 0 && !xml_text_is(d, st, "BOOST")) return meld_errorf("%s: stageType is not BOOST", d->src);
    if (!xml_text_is(d, ft, "HAAR")) return meld_errorf("%s: featureType is not HAAR (LBP/HOG cascades are not supported)", d->src);
    if (xml_int(d, xml_child(d, cas, "width"), "width", 3, HAAR_MAX_WINDOW, &c->win_w) ||
        xml_int(d, xml_child(d, cas, "height"), "height", 3, HAAR_MAX_WINDOW, &c->win_h))
        return MELD_ERR;
    if (load_features(c, d, xml_child(d, cas, "features"))) return MELD_ERR;
    return load_stages(c, d, xml_child(d, cas, "stages"));
}

HaarCascade *haar_load_memory(const char *xml, size_t size, const char *name)
{
    XmlDoc d = {NULL, 0, 0, name};
    /* a NUL-terminated copy, so strtod always stops inside the buffer */
    char *buf = meld_malloc(size + 1, "cascade XML");
    if (!buf) return NULL;
    memcpy(buf, xml, size);
    buf[size] = '\0';
    HaarCascade *c = meld_calloc(1, sizeof *c, "Haar cascade");
    int rc = c ? xml_parse(&d, buf, size) : MELD_ERR;
    if (rc == MELD_OK) rc = load_cascade(c, &d);
    free(d.nodes);
    free(buf);
    if (rc != MELD_OK) {
        haar_free(c);
        return NULL;
    }
    return c;
}

HaarCascade *haar_load(const char *path)
{
    FILE *fp = input_file_fopen(path);
    if (!fp) return NULL;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > HAAR_MAX_FILE) {
        fclose(fp);
        meld_errorf("%s: not a regular file of at most %ld bytes", path, HAAR_MAX_FILE);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    char *data = meld_malloc(size, "cascade file");
    if (!data) {
        fclose(fp);
        return NULL;
    }
    size_t got = fread(data, 1, size, fp);
    fclose(fp);
    HaarCascade *c = NULL;
    if (got != size) meld_errorf("%s: read error", path);
    else c = haar_load_memory(data, size, path);
    free(data);
    return c;
}

const char *haar_default_cascade_path(void)
{
    static const char *const places[] = {
        "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
        "/usr/share/opencv/haarcascades/haarcascade_frontalface_default.xml",
        "/usr/local/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
        "/usr/local/share/opencv/haarcascades/haarcascade_frontalface_default.xml",
    };
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
        if (access(places[i], R_OK) == 0) return places[i];
    return NULL;
}

/* ====================================================================== */
/* Detection                                                                */
/* ====================================================================== */

HaarOptions haar_default_options(void)
{
    return (HaarOptions){.scale_factor = 1.1f, .min_neighbours = 3, .min_size = 0, .max_size = 0, .min_std = 4.0f};
}

/* Integral images of one pyramid level, (w + 1) x (h + 1), row 0 and
 * column 0 zero. Stored as uint32 on purpose: totals of a large image
 * overflow, but arithmetic is modulo 2^32 and a window's true sum (at most
 * 256 * 256 * 255^2 < 2^32) comes out exact from the wrapped corners. */
typedef struct {
    uint32_t *sum, *sq;
    int stride;
} Integral;

static void integral_build(const Image *g, Integral *ii)
{
    const int w = g->width, h = g->height, st = w + 1;
    ii->stride = st;
    memset(ii->sum, 0, sizeof(uint32_t) * (size_t)st);
    memset(ii->sq, 0, sizeof(uint32_t) * (size_t)st);
    for (int y = 0; y < h; y++) {
        uint32_t rs = 0, rq = 0;
        const uint8_t *row = g->pixels + (size_t)y * w;
        uint32_t *s = ii->sum + (size_t)(y + 1) * st, *q = ii->sq + (size_t)(y + 1) * st;
        const uint32_t *s_up = s - st, *q_up = q - st;
        s[0] = q[0] = 0;
        for (int x = 0; x < w; x++) {
            rs += row[x];
            rq += (uint32_t)row[x] * row[x];
            s[x + 1] = s_up[x + 1] + rs;
            q[x + 1] = q_up[x + 1] + rq;
        }
    }
}

/* Corner offsets of each feature rectangle in one level's integral image:
 * rectsum = I[o0] - I[o1] - I[o2] + I[o3], relative to the window origin. */
typedef struct {
    int o[3][4];
    float weight[3];
    int n;
} FeatureOffsets;

static void feature_offsets(const HaarCascade *c, int stride, FeatureOffsets *fo)
{
    for (int i = 0; i < c->n_features; i++) {
        const HaarFeature *f = &c->features[i];
        fo[i].n = f->n;
        for (int k = 0; k < f->n; k++) {
            const HaarRect *r = &f->r[k];
            fo[i].o[k][0] = (r->y + r->h) * stride + r->x + r->w;
            fo[i].o[k][1] = (r->y + r->h) * stride + r->x;
            fo[i].o[k][2] = r->y * stride + r->x + r->w;
            fo[i].o[k][3] = r->y * stride + r->x;
            fo[i].weight[k] = r->weight;
        }
    }
}

static inline uint32_t rect_sum(const uint32_t *p, const int o[4])
{
    return p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]];
}

/* Runs the cascade on the window whose top-left integral entry is `base`.
 * Returns 1 if it passes every stage. */
static int window_passes(const HaarCascade *c, const FeatureOffsets *fo, const Integral *ii, size_t base,
                         const int norm[4], double area, double min_nf)
{
    const uint32_t *s = ii->sum + base, *q = ii->sq + base;
    double sum = rect_sum(s, norm), sq = rect_sum(q, norm);
    double nf2 = area * sq - sum * sum;          /* = (A * std)^2 */
    if (nf2 <= min_nf * min_nf) return 0;        /* flat: no face here */
    float nf = (float)sqrt(nf2);
    for (int si = 0; si < c->n_stages; si++) {
        const HaarStage *st = &c->stages[si];
        float stage_sum = 0;
        for (int wi = st->first_weak; wi < st->first_weak + st->n_weak; wi++) {
            const HaarWeak *w = &c->weak[wi];
            const HaarNode *nodes = c->nodes + w->first_node;
            int idx = 0;
            do {
                const HaarNode *nd = &nodes[idx];
                const FeatureOffsets *f = &fo[nd->feature];
                /* rect sums are exact integers; weights are small, so float is enough */
                float v = f->weight[0] * (float)rect_sum(s, f->o[0]) + f->weight[1] * (float)rect_sum(s, f->o[1]);
                if (f->n == 3) v += f->weight[2] * (float)rect_sum(s, f->o[2]);
                idx = v < nd->threshold * nf ? nd->left : nd->right;
            } while (idx > 0);
            stage_sum += c->leaves[w->first_leaf - idx];
        }
        if (stage_sum < st->threshold) return 0;
    }
    return 1;
}

typedef struct {
    ImageRect *r;
    int n, cap;
} RectList;

static int rect_push(RectList *l, ImageRect r)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        ImageRect *g = realloc(l->r, sizeof(ImageRect) * (size_t)cap);
        if (!g) return meld_errorf("haar_detect: out of memory for detections");
        l->r = g;
        l->cap = cap;
    }
    l->r[l->n++] = r;
    return MELD_OK;
}

/* Scans one pyramid level (grey image shrunk by `scale`). */
static int scan_level(const HaarCascade *c, const Image *level, double scale, const HaarOptions *opt,
                      Integral *ii, FeatureOffsets *fo, RectList *out)
{
    integral_build(level, ii);
    feature_offsets(c, ii->stride, fo);
    /* variance is measured on the window minus a 1-pixel border */
    const int st = ii->stride;
    const int norm[4] = {(c->win_h - 1) * st + c->win_w - 1, (c->win_h - 1) * st + 1, 1 * st + c->win_w - 1,
                         1 * st + 1};
    const double area = (double)(c->win_w - 2) * (c->win_h - 2);
    const double min_nf = opt->min_std * area;
    /* small scales: every other position (neighbouring windows overlap
     * almost fully); large scales: every position of the shrunk image */
    const int step = scale > 2.0 ? 1 : 2;
    const int bw = (int)lround(c->win_w * scale), bh = (int)lround(c->win_h * scale);
    for (int y = 0; y + c->win_h <= level->height; y += step) {
        for (int x = 0; x + c->win_w <= level->width; x += step) {
            if (!window_passes(c, fo, ii, (size_t)y * st + x, norm, area, min_nf)) continue;
            ImageRect r = {(int)lround(x * scale), (int)lround(y * scale), bw, bh};
            if (rect_push(out, r)) return MELD_ERR;
        }
    }
    return MELD_OK;
}

static int check_options(const HaarOptions *o)
{
    if (!(o->scale_factor > 1.0f && o->scale_factor <= 4.0f))
        return meld_errorf("haar_detect: scale_factor %g must be in (1, 4]", o->scale_factor);
    if (o->min_neighbours < 0 || o->min_size < 0 || o->max_size < 0 || !(o->min_std >= 0))
        return meld_errorf("haar_detect: negative option");
    return MELD_OK;
}

static int by_area_desc(const void *a, const void *b)
{
    const HaarDetection *x = a, *y = b;
    long ax = (long)x->box.width * x->box.height, ay = (long)y->box.width * y->box.height;
    if (ax != ay) return ax > ay ? -1 : 1;
    return y->neighbours - x->neighbours;
}

int haar_detect(const HaarCascade *c, const Image *im, const HaarOptions *opt, HaarDetection **dets, int *n)
{
    *dets = NULL;
    *n = 0;
    if (check_options(opt)) return MELD_ERR;
    Image grey = {0}, level = {0};
    if (image_to_grey(im, &grey)) return MELD_ERR;
    /* buffers sized for the largest (first) level */
    size_t cells = (size_t)(grey.width + 1) * (grey.height + 1);
    Integral ii = {meld_malloc(sizeof(uint32_t) * cells, "integral image"),
                   meld_malloc(sizeof(uint32_t) * cells, "integral image of squares"), 0};
    FeatureOffsets *fo = meld_malloc(sizeof(FeatureOffsets) * (size_t)c->n_features, "feature offsets");
    RectList raw = {0};
    int rc = (ii.sum && ii.sq && fo) ? MELD_OK : MELD_ERR;
    const int min_side = opt->min_size > 0 ? opt->min_size : 0;
    for (double scale = 1.0; rc == MELD_OK; scale *= opt->scale_factor) {
        int lw = (int)lround(grey.width / scale), lh = (int)lround(grey.height / scale);
        if (lw < c->win_w || lh < c->win_h) break;
        int face_w = (int)lround(c->win_w * scale), face_h = (int)lround(c->win_h * scale);
        if (opt->max_size > 0 && (face_w > opt->max_size || face_h > opt->max_size)) break;
        if (face_w < min_side || face_h < min_side) continue;
        const Image *src = &grey;
        if (scale > 1.0) {
            rc = image_resize(&grey, lw, lh, &level);
            src = &level;
        }
        if (rc == MELD_OK) rc = scan_level(c, src, scale, opt, &ii, fo, &raw);
    }
    if (rc == MELD_OK && raw.n > 0) {
        HaarDetection *g = meld_malloc(sizeof(HaarDetection) * (size_t)raw.n, "detections");
        if (!g) {
            rc = MELD_ERR;
        } else {
            int k = haar_group(raw.r, raw.n, opt->min_neighbours, 0.2f, g);
            if (k < 0) rc = MELD_ERR;
            if (k > 0) {
                qsort(g, (size_t)k, sizeof *g, by_area_desc);
                *dets = g;
                *n = k;
            } else {
                free(g);
            }
        }
    }
    free(raw.r);
    free(fo);
    free(ii.sum);
    free(ii.sq);
    image_free(&grey);
    image_free(&level);
    return rc;
}

/* ---- grouping ------------------------------------------------------------ */

/* Two raw windows see the same face when every edge is within delta. */
static int similar(ImageRect a, ImageRect b, float eps)
{
    float delta = eps * (float)((a.width < b.width ? a.width : b.width) + (a.height < b.height ? a.height : b.height)) * 0.5f;
    return fabsf((float)(a.x - b.x)) <= delta && fabsf((float)(a.y - b.y)) <= delta &&
           fabsf((float)(a.x + a.width - b.x - b.width)) <= delta &&
           fabsf((float)(a.y + a.height - b.y - b.height)) <= delta;
}

static int find_root(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];   /* path halving */
        i = parent[i];
    }
    return i;
}

int haar_group(const ImageRect *raw, int n_raw, int min_neighbours, float eps, HaarDetection *out)
{
    if (n_raw <= 0) return 0;
    if (min_neighbours <= 0) {
        for (int i = 0; i < n_raw; i++) out[i] = (HaarDetection){raw[i], 1};
        return n_raw;
    }
    /* union-find over the "similar" relation: clusters are its connected parts */
    int *parent = meld_malloc(sizeof(int) * (size_t)n_raw * 3, "detection grouping");
    double *acc = meld_malloc(sizeof(double) * 4 * (size_t)n_raw, "detection grouping");
    if (!parent || !acc) {
        free(parent);
        free(acc);
        return MELD_ERR;
    }
    int *count = parent + n_raw, *drop = parent + 2 * n_raw;
    for (int i = 0; i < n_raw; i++) parent[i] = i;
    for (int i = 0; i < n_raw; i++)
        for (int j = i + 1; j < n_raw; j++)
            if (similar(raw[i], raw[j], eps)) {
                int a = find_root(parent, i), b = find_root(parent, j);
                if (a != b) parent[b] = a;
            }
    memset(acc, 0, sizeof(double) * 4 * (size_t)n_raw);
    memset(count, 0, sizeof(int) * (size_t)n_raw);
    for (int i = 0; i < n_raw; i++) {
        int r = find_root(parent, i);
        acc[4 * r] += raw[i].x;
        acc[4 * r + 1] += raw[i].y;
        acc[4 * r + 2] += raw[i].width;
        acc[4 * r + 3] += raw[i].height;
        count[r]++;
    }
    /* mean rectangle of each cluster big enough */
    int k = 0;
    for (int r = 0; r < n_raw; r++) {
        if (count[r] <= min_neighbours) continue;
        double m = count[r];
        out[k++] = (HaarDetection){{(int)lround(acc[4 * r] / m), (int)lround(acc[4 * r + 1] / m),
                                    (int)lround(acc[4 * r + 2] / m), (int)lround(acc[4 * r + 3] / m)},
                                   count[r]};
    }
    /* drop a cluster lying inside another one, unless it is itself strong
     * (a face's own windows form one cluster; a weaker cluster inside it
     * is usually a false hit on an eye or the mouth) */
    for (int i = 0; i < k; i++) {
        ImageRect a = out[i].box;
        drop[i] = 0;
        for (int j = 0; j < k && !drop[i]; j++) {
            if (j == i) continue;
            ImageRect b = out[j].box;
            int dx = (int)lround(b.width * eps), dy = (int)lround(b.height * eps);
            int within = a.x >= b.x - dx && a.y >= b.y - dy && a.x + a.width <= b.x + b.width + dx &&
                         a.y + a.height <= b.y + b.height + dy;
            int weaker = out[j].neighbours > (out[i].neighbours > 3 ? out[i].neighbours : 3) || out[i].neighbours < 3;
            drop[i] = within && weaker;
        }
    }
    int kept = 0;
    for (int i = 0; i < k; i++)
        if (!drop[i]) out[kept++] = out[i];
    free(parent);
    free(acc);
    return kept;
}
