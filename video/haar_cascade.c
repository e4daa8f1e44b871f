/* Loading an OpenCV Haar cascade (see video/haar.h for the format) into the
 * structure of video/haar_impl.h.
 *
 * A cascade file is untrusted input. Every number is checked as the double
 * the XML reader gives before it is converted (a value outside int or float
 * range never reaches a cast), and every rectangle, count and index against
 * what it refers to, so that the detector can walk the arrays without a
 * single check. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensor/error.h"
#include "tensor/input_file.h"
#include "video/haar_impl.h"
#include "video/xml.h"

#define HAAR_MAX_FILE (16L << 20)

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

/* v is an integer in [lo, hi]: then *out = v. */
static int int_in(double v, long lo, long hi, int *out)
{
    if (!(v >= (double)lo && v <= (double)hi && v == floor(v))) return 0;
    *out = (int)v;
    return 1;
}

/* v fits a float (finite after rounding): then *out = (float)v. */
static int float_of(double v, float *out)
{
    if (!(fabs(v) <= FLT_MAX)) return 0;
    *out = (float)v;
    return 1;
}

/* One "x y w h weight" rectangle, inside the window. */
static int load_rect(const XmlDoc *d, int node, int feature, int win_w, int win_h, HaarRect *out)
{
    double v[5];
    int n = xml_numbers(d, node, v, 5, "rects");
    if (n < 0) return MELD_ERR;
    if (n != 5) return meld_errorf("%s: feature %d: a rect needs x y w h weight", d->name, feature);
    HaarRect r;
    /* bounds first, in doubles, so no sum below can overflow */
    if (!int_in(v[0], 0, win_w - 1, &r.x) || !int_in(v[1], 0, win_h - 1, &r.y) ||
        !int_in(v[2], 1, win_w - r.x, &r.w) || !int_in(v[3], 1, win_h - r.y, &r.h))
        return meld_errorf("%s: feature %d: rect %gx%g+%g+%g is empty or outside the %dx%d window", d->name,
                           feature, v[2], v[3], v[0], v[1], win_w, win_h);
    if (!float_of(v[4], &r.weight)) return meld_errorf("%s: feature %d: rect weight out of range", d->name, feature);
    *out = r;
    return MELD_OK;
}

static int load_features(HaarCascade *c, const XmlDoc *d, int features)
{
    c->n_features = xml_count_children(d, features);
    if (c->n_features < 1) return meld_errorf("%s: cascade has no <features>", d->name);
    c->features = meld_calloc((size_t)c->n_features, sizeof(HaarFeature), "Haar features");
    if (!c->features) return MELD_ERR;
    int i = 0;
    for (int f = d->nodes[features].first_child; f >= 0; f = d->nodes[f].next_sibling, i++) {
        int tilted = 0, t = xml_child(d, f, "tilted");
        if (t >= 0 && xml_int(d, t, "tilted", 0, 1, &tilted)) return MELD_ERR;
        if (tilted) return meld_errorf("%s: feature %d is tilted (45-degree features are not supported)", d->name, i);
        int rects = xml_child(d, f, "rects"), n = 0;
        /* calloc left every rect empty with weight 0, OpenCV's padding */
        for (int r = rects >= 0 ? d->nodes[rects].first_child : -1; r >= 0; r = d->nodes[r].next_sibling, n++) {
            if (n == 3) return meld_errorf("%s: feature %d has more than 3 rects", d->name, i);
            if (load_rect(d, r, i, c->win_w, c->win_h, &c->features[i].r[n])) return MELD_ERR;
        }
        if (n < 1) return meld_errorf("%s: feature %d has no rects", d->name, i);
    }
    return MELD_OK;
}

/* Grows nodes[] and leaves[] to hold `nodes` and `leaves` more. */
static int reserve_tree(HaarCascade *c, int nodes, int leaves, int *node_cap, int *leaf_cap, const char *name)
{
    while (c->n_nodes + nodes > *node_cap || c->n_leaves + leaves > *leaf_cap) {
        int ncap = *node_cap * 2, lcap = *leaf_cap * 2;
        HaarNode *gn = realloc(c->nodes, sizeof(HaarNode) * (size_t)ncap);
        if (gn) c->nodes = gn;
        float *gl = realloc(c->leaves, sizeof(float) * (size_t)lcap);
        if (gl) c->leaves = gl;
        if (!gn || !gl) return meld_errorf("%s: out of memory for the cascade", name);
        *node_cap = ncap;
        *leaf_cap = lcap;
    }
    return MELD_OK;
}

/* Node k of a tree of nn nodes and nn + 1 leaves: the feature must exist
 * and each child must be a later node (so every walk ends) or a leaf. */
static int load_node(const HaarCascade *c, const double g[4], int k, int nn, HaarNode *out)
{
    HaarNode hn;
    if (!int_in(g[0], -nn, nn - 1, &hn.left) || !int_in(g[1], -nn, nn - 1, &hn.right) ||
        !int_in(g[2], 0, c->n_features - 1, &hn.feature) || !float_of(g[3], &hn.threshold))
        return MELD_ERR;
    if ((hn.left > 0 && hn.left <= k) || (hn.right > 0 && hn.right <= k)) return MELD_ERR;
    *out = hn;
    return MELD_OK;
}

/* One weak classifier: internalNodes and leafValues. */
static int load_weak(HaarCascade *c, const XmlDoc *d, int wnode, int s, int j, int *node_cap, int *leaf_cap)
{
    double g[4 * HAAR_MAX_TREE], leaves[HAAR_MAX_TREE + 1];
    int n = xml_numbers(d, xml_child(d, wnode, "internalNodes"), g, 4 * HAAR_MAX_TREE, "internalNodes");
    if (n < 0) return MELD_ERR;
    if (n == 0 || n % 4) return meld_errorf("%s: stage %d classifier %d: internalNodes not in groups of 4", d->name, s, j);
    int nn = n / 4;
    int nl = xml_numbers(d, xml_child(d, wnode, "leafValues"), leaves, HAAR_MAX_TREE + 1, "leafValues");
    if (nl < 0) return MELD_ERR;
    if (nl != nn + 1)
        return meld_errorf("%s: stage %d classifier %d: %d nodes need %d leafValues, not %d", d->name, s, j, nn, nn + 1,
                           nl);
    if (reserve_tree(c, nn, nl, node_cap, leaf_cap, d->name)) return MELD_ERR;
    c->weak[c->n_weak++] = (HaarWeak){c->n_nodes, nn, c->n_leaves};
    for (int k = 0; k < nn; k++)
        if (load_node(c, g + 4 * k, k, nn, &c->nodes[c->n_nodes++]))
            return meld_errorf("%s: stage %d classifier %d node %d: bad feature or child index, or threshold", d->name,
                               s, j, k);
    for (int k = 0; k < nl; k++)
        if (!float_of(leaves[k], &c->leaves[c->n_leaves++]))
            return meld_errorf("%s: stage %d classifier %d: leaf value out of range", d->name, s, j);
    if (nn > 1) c->stumps = 0;
    return MELD_OK;
}

static int load_stages(HaarCascade *c, const XmlDoc *d, int stages)
{
    c->n_stages = xml_count_children(d, stages);
    if (c->n_stages < 1) return meld_errorf("%s: cascade has no <stages>", d->name);
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
    c->stumps = 1;
    int i = 0;
    for (int s = d->nodes[stages].first_child; s >= 0; s = d->nodes[s].next_sibling, i++) {
        double thr;
        int n = xml_numbers(d, xml_child(d, s, "stageThreshold"), &thr, 1, "stageThreshold");
        if (n < 0) return MELD_ERR;
        float t;
        if (n != 1 || !float_of(thr, &t)) return meld_errorf("%s: stage %d: stageThreshold must be one number", d->name, i);
        int wc = xml_child(d, s, "weakClassifiers"), j = 0;
        c->stages[i] = (HaarStage){c->n_weak, 0, t - 1e-5f};
        for (int w = wc >= 0 ? d->nodes[wc].first_child : -1; w >= 0; w = d->nodes[w].next_sibling, j++)
            if (load_weak(c, d, w, i, j, &node_cap, &leaf_cap)) return MELD_ERR;
        if (j == 0) return meld_errorf("%s: stage %d has no weak classifiers", d->name, i);
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
                               "haarcascade_frontalface_default.xml from opencv-data",
                               d->name, (int)(d->nodes[old].name_len > 60 ? 60 : d->nodes[old].name_len),
                               d->nodes[old].name);
        return meld_errorf("%s: not an OpenCV cascade (no <opencv_storage><cascade>)", d->name);
    }
    if (!xml_text_is(d, xml_child(d, cas, "stageType"), "BOOST"))
        return meld_errorf("%s: stageType is not BOOST", d->name);
    if (!xml_text_is(d, xml_child(d, cas, "featureType"), "HAAR"))
        return meld_errorf("%s: featureType is not HAAR (LBP/HOG cascades are not supported)", d->name);
    int cats = 0, mc = xml_child(d, xml_child(d, cas, "featureParams"), "maxCatCount");
    if (mc >= 0 && xml_int(d, mc, "maxCatCount", 0, 0, &cats)) return MELD_ERR;
    if (xml_int(d, xml_child(d, cas, "width"), "width", 3, HAAR_MAX_WINDOW, &c->win_w) ||
        xml_int(d, xml_child(d, cas, "height"), "height", 3, HAAR_MAX_WINDOW, &c->win_h))
        return MELD_ERR;
    if (load_features(c, d, xml_child(d, cas, "features"))) return MELD_ERR;
    return load_stages(c, d, xml_child(d, cas, "stages"));
}

HaarCascade *haar_load_memory(const char *xml, size_t size, const char *name)
{
    HaarCascade *c = meld_calloc(1, sizeof *c, "Haar cascade");
    if (!c) return NULL;
    XmlDoc d;
    int rc = xml_parse(&d, xml, size, name);
    if (rc == MELD_OK) rc = load_cascade(c, &d);
    xml_free(&d);
    if (rc != MELD_OK) {
        haar_free(c);
        return NULL;
    }
    return c;
}

/* Reads a whole regular file of at most HAAR_MAX_FILE bytes (a FIFO in
 * its place is refused, not waited on: tensor/input_file.h). */
static char *read_file(const char *path, size_t *size)
{
    int fd;
    if (input_file_open(path, &fd)) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size > HAAR_MAX_FILE) {
        close(fd);
        meld_errorf("%s: larger than the %ld bytes a cascade may have", path, HAAR_MAX_FILE);
        return NULL;
    }
    *size = (size_t)st.st_size;
    char *data = meld_malloc(*size ? *size : 1, "cascade file");
    size_t got = 0;
    while (data && got < *size) {
        ssize_t k = read(fd, data + got, *size - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            meld_errorf("%s: read error%s%s", path, k < 0 ? ": " : " (file shrank)", k < 0 ? strerror(errno) : "");
            free(data);
            data = NULL;
            break;
        }
        got += (size_t)k;
    }
    close(fd);
    return data;
}

HaarCascade *haar_load(const char *path)
{
    size_t size = 0;
    char *data = read_file(path, &size);
    if (!data) return NULL;
    HaarCascade *c = haar_load_memory(data, size, path);
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
