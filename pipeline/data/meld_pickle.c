/* MELD's released feature pickles matched with the CSVs (meld_pickle.h). */
#include "pipeline/data/meld_pickle.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/data/pickle.h"
#include "tensor/error.h"

const int MELD_PICKLE_RELEASED_DIM[N_FEATURE_PICKLES] = {1611, 1422};

enum { IDS_IN_WARNINGS = 8 };

/* "D_U" with D, U decimal. */
static bool parse_key(const PickleValue *k, int *dialogue, int *utterance)
{
    if (k->kind != PICKLE_BYTES && k->kind != PICKLE_TEXT) return false;
    const uint8_t *s = k->u.s;
    size_t n = k->len, i = 0;
    long v[2];
    for (int part = 0; part < 2; part++) {
        if (i == n || s[i] < '0' || s[i] > '9') return false;
        long x = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if ((x = 10 * x + (s[i] - '0')) > INT_MAX) return false;
        v[part] = x;
        if (part == 0 && (i == n || s[i++] != '_')) return false;
    }
    *dialogue = (int)v[0];
    *utterance = (int)v[1];
    return i == n;
}

/* A key for messages: its printable ASCII, or its kind. */
static const char *key_text(const PickleValue *k, char *buf, size_t cap)
{
    if (k->kind != PICKLE_BYTES && k->kind != PICKLE_TEXT) {
        snprintf(buf, cap, "<a %s>", pickle_kind_name(k->kind));
        return buf;
    }
    size_t n = k->len < cap - 1 ? k->len : cap - 1;
    for (size_t i = 0; i < n; i++) buf[i] = k->u.s[i] >= 0x20 && k->u.s[i] < 0x7f ? (char)k->u.s[i] : '?';
    buf[n] = '\0';
    return buf;
}

/* Index of utterance (d, u) in sp->utts (sorted by dialogue, utterance), or -1. */
static long find_utterance(const Split *sp, int d, int u)
{
    size_t lo = 0, hi = sp->n_utts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const Utterance *x = &sp->utts[mid];
        if (x->dialogue_id < d || (x->dialogue_id == d && x->utterance_id < u)) lo = mid + 1;
        else hi = mid;
    }
    return lo < sp->n_utts && sp->utts[lo].dialogue_id == d && sp->utts[lo].utterance_id == u ? (long)lo : -1;
}

/* Appends "text" to a ", "-separated list in buf (kept NUL-terminated). */
static void list_add(char *buf, size_t cap, const char *text)
{
    size_t n = strlen(buf);
    if (n < cap) snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", text);
}

/* Pass 1 over one split's dict: every key and vector length is checked;
 * row[i] is set to the dict index of CSV utterance i's vector. */
static int match_split(const char *name, const PickleValue *dict, int s, const Split *sp, MeldFeatures *f)
{
    char key[32], orphans[200] = "";
    f->n_vectors[s] = pickle_len(dict);
    for (size_t i = 0; i < f->n_vectors[s]; i++) {
        const PickleValue *k = pickle_key(dict, i);
        int d, u;
        size_t n;
        if (!parse_key(k, &d, &u))
            return meld_errorf("%s: %s key '%s' is not \"<dialogue>_<utterance>\"", name, split_name(s),
                               key_text(k, key, sizeof key));
        if (pickle_vector_len(pickle_value(dict, i), &n))
            return meld_error_context("%s: %s['%s']", name, split_name(s), key_text(k, key, sizeof key));
        if (f->dim == 0) {
            if (n == 0 || n > INT_MAX / sizeof(float))
                return meld_errorf("%s: %s['%s'] has %zu values", name, split_name(s), key_text(k, key, sizeof key), n);
            f->dim = (int)n;
        } else if (n != (size_t)f->dim) {
            return meld_errorf("%s: %s['%s'] has %zu values, the vectors before it %d", name, split_name(s),
                               key_text(k, key, sizeof key), n, f->dim);
        }
        long at = find_utterance(sp, d, u);
        if (at < 0) {
            if (f->n_orphans[s]++ < IDS_IN_WARNINGS) list_add(orphans, sizeof orphans, key_text(k, key, sizeof key));
            continue;
        }
        if (f->row[s][at] >= 0)
            return meld_errorf("%s: %s['%s'] is utterance %d_%d a second time", name, split_name(s),
                               key_text(k, key, sizeof key), d, u);
        f->row[s][at] = (int)i;
        f->n_present[s]++;
    }
    f->n_missing[s] = sp->n_utts - f->n_present[s];
    if (f->n_orphans[s])
        meld_warnf("%s: %s vectors with no CSV row, unused: %zu (%s%s)", name, split_name(s), f->n_orphans[s], orphans,
                   f->n_orphans[s] > IDS_IN_WARNINGS ? ", ..." : "");
    return MELD_OK;
}

/* Pass 2: the vectors of split s in CSV order, as float32; row[] becomes
 * the row number. */
static int convert_split(const char *name, const PickleValue *dict, int s, const Split *sp, MeldFeatures *f)
{
    size_t dim = (size_t)f->dim;
    f->vectors[s] = meld_malloc(sizeof(float) * f->n_present[s] * dim, "feature vectors");
    if (!f->vectors[s]) return MELD_ERR;
    char key[32];
    int k = 0;
    for (size_t i = 0; i < sp->n_utts; i++) {
        if (f->row[s][i] < 0) continue;
        const PickleValue *v = pickle_value(dict, (size_t)f->row[s][i]);
        float *x = f->vectors[s] + (size_t)k * dim;
        const char *key_shown = key_text(pickle_key(dict, (size_t)f->row[s][i]), key, sizeof key);
        if (pickle_vector(v, x, dim)) return meld_error_context("%s: %s['%s']", name, split_name(s), key_shown);
        for (size_t j = 0; j < dim; j++)
            if (!isfinite(x[j]))
                return meld_errorf("%s: %s['%s'] value %zu is %s in float32", name, split_name(s), key_shown, j,
                                   isnan(x[j]) ? "NaN" : "infinite");
        f->row[s][i] = k++;
    }
    if (f->n_missing[s]) {
        char ids[200];
        meld_features_missing_ids(f, sp, s, IDS_IN_WARNINGS, ids, sizeof ids);
        meld_warnf("%s: %s utterances without a vector, masked (no input, loss or score): %zu of %zu (%s)", name,
                   split_name(s), f->n_missing[s], sp->n_utts, ids);
    }
    return MELD_OK;
}

static int match(const char *name, const Pickle *p, const Dataset *ds, MeldFeatures *f)
{
    const PickleValue *root = &p->root;
    if ((root->kind != PICKLE_TUPLE && root->kind != PICKLE_LIST) || pickle_len(root) != 3)
        return meld_errorf("%s: expected (train, dev, test), three dicts of \"<dialogue>_<utterance>\": vector; "
                           "found a %s of %zu",
                           name, pickle_kind_name(root->kind), pickle_len(root));
    for (int s = 0; s < N_SPLITS; s++) {
        const PickleValue *dict = pickle_item(root, (size_t)s);
        if (dict->kind != PICKLE_DICT)
            return meld_errorf("%s: item %d (%s) is a %s, not a dict", name, s, split_name(s),
                               pickle_kind_name(dict->kind));
        const Split *sp = &ds->split[s];
        f->row[s] = meld_malloc(sizeof(int) * sp->n_utts, "feature rows");
        if (!f->row[s]) return MELD_ERR;
        for (size_t i = 0; i < sp->n_utts; i++) f->row[s][i] = -1;
        if (match_split(name, dict, s, sp, f)) return MELD_ERR;
    }
    if (f->dim == 0) return meld_errorf("%s: the three dicts are empty", name);
    uint64_t values = 0;
    for (int s = 0; s < N_SPLITS; s++) values += (uint64_t)f->n_present[s] * (uint64_t)f->dim;
    if (values > p->size)
        return meld_errorf("%s: the vectors hold %llu values, more than the file's %zu bytes: it shares vectors "
                           "between keys, which MELD's files do not",
                           name, (unsigned long long)values, p->size);
    for (int s = 0; s < N_SPLITS; s++)
        if (convert_split(name, pickle_item(root, (size_t)s), s, &ds->split[s], f)) return MELD_ERR;
    return MELD_OK;
}

int meld_features_parse(const uint8_t *data, size_t len, const char *name, const Dataset *ds, MeldFeatures *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", name);
    Pickle p;
    if (pickle_parse(data, len, name, &p)) return MELD_ERR;
    int rc = match(name, &p, ds, out);
    pickle_free(&p);
    if (rc != MELD_OK) meld_features_free(out);
    return rc;
}

int meld_features_read(const char *path, const Dataset *ds, MeldFeatures *out)
{
    memset(out, 0, sizeof *out);
    Pickle p;
    if (pickle_read_file(path, &p)) return MELD_ERR;
    snprintf(out->path, sizeof out->path, "%s", path);
    int rc = match(path, &p, ds, out);
    pickle_free(&p);
    if (rc != MELD_OK) meld_features_free(out);
    return rc;
}

void meld_features_free(MeldFeatures *f)
{
    for (int s = 0; s < N_SPLITS; s++) {
        free(f->row[s]);
        free(f->vectors[s]);
    }
    memset(f, 0, sizeof *f);
}

void meld_features_missing_ids(const MeldFeatures *f, const Split *sp, int s, size_t max, char *buf, size_t cap)
{
    buf[0] = '\0';
    size_t shown = 0;
    for (size_t i = 0; i < sp->n_utts && f->row[s]; i++) {
        if (f->row[s][i] >= 0) continue;
        if (shown++ == max) {
            list_add(buf, cap, "...");
            return;
        }
        char id[32];
        snprintf(id, sizeof id, "%d_%d", sp->utts[i].dialogue_id, sp->utts[i].utterance_id);
        list_add(buf, cap, id);
    }
}
