/* Provenance of runs and reports (see provenance.h). */
#include "pipeline/train/provenance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"
#include "tensor/utf8.h"

void provenance_init(Provenance *p)
{
    memset(p, 0, sizeof *p);
    p->seed = -1;
}

void provenance_free(Provenance *p)
{
    free(p->corpus), free(p->data), free(p->cache), free(p->model), free(p->command), free(p->version);
    provenance_init(p);
}

int provenance_set(char **field, const char *value)
{
    char *copy = NULL;
    if (value) {
        copy = meld_malloc(strlen(value) + 1, "provenance");
        if (!copy) return MELD_ERR;
        strcpy(copy, value);
    }
    free(*field);
    *field = copy;
    return MELD_OK;
}

int provenance_copy(Provenance *dst, const Provenance *src)
{
    Provenance p;
    provenance_init(&p);
    p.seed = src->seed;
    p.cache_hash = src->cache_hash;
    if (provenance_set(&p.corpus, src->corpus) || provenance_set(&p.data, src->data) ||
        provenance_set(&p.cache, src->cache) || provenance_set(&p.model, src->model) ||
        provenance_set(&p.command, src->command) || provenance_set(&p.version, src->version)) {
        provenance_free(&p);
        return MELD_ERR;
    }
    provenance_free(dst);
    *dst = p;
    return MELD_OK;
}

bool provenance_synthetic(const Provenance *p)
{
    return p->corpus && !strcmp(p->corpus, "synthetic");
}

/* The string fields with their metadata keys. */
typedef struct {
    const char *key;
    size_t offset;
} Field;
static const Field FIELDS[] = {
    {"provenance.corpus", offsetof(Provenance, corpus)}, {"provenance.data", offsetof(Provenance, data)},
    {"provenance.cache", offsetof(Provenance, cache)},   {"provenance.model", offsetof(Provenance, model)},
    {"provenance.command", offsetof(Provenance, command)}, {"provenance.version", offsetof(Provenance, version)},
};
enum { N_FIELDS = sizeof FIELDS / sizeof FIELDS[0] };

static char **field_of(Provenance *p, int k) { return (char **)(void *)((char *)p + FIELDS[k].offset); }
static const char *field_value(const Provenance *p, int k)
{
    return *(char *const *)(const void *)((const char *)p + FIELDS[k].offset);
}

/* Metadata must be UTF-8; a path that is not gets U+FFFD for its bad bytes. */
static int set_meta_utf8(SafeTensors *st, const char *key, const char *value)
{
    size_t need = utf8_sanitize(value, NULL, 0) + 1;
    char *clean = meld_malloc(need, "provenance");
    if (!clean) return MELD_ERR;
    utf8_sanitize(value, clean, need);
    int rc = st_set_meta(st, key, clean);
    free(clean);
    return rc;
}

int provenance_export(const Provenance *p, SafeTensors *st)
{
    for (int k = 0; k < N_FIELDS; k++)
        if (field_value(p, k) && set_meta_utf8(st, FIELDS[k].key, field_value(p, k))) return MELD_ERR;
    char num[32];
    if (p->seed >= 0) {
        snprintf(num, sizeof num, "%lld", p->seed);
        if (st_set_meta(st, "provenance.seed", num)) return MELD_ERR;
    }
    if (p->cache_hash) {
        snprintf(num, sizeof num, "%016" PRIx64, p->cache_hash);
        if (st_set_meta(st, "provenance.cache_hash", num)) return MELD_ERR;
    }
    return MELD_OK;
}

int provenance_import(Provenance *p, const SafeTensors *st)
{
    Provenance q;
    provenance_init(&q);
    for (int k = 0; k < N_FIELDS; k++)
        if (provenance_set(field_of(&q, k), st_get_meta(st, FIELDS[k].key))) {
            provenance_free(&q);
            return MELD_ERR;
        }
    const char *seed = st_get_meta(st, "provenance.seed"), *hash = st_get_meta(st, "provenance.cache_hash");
    char *end;
    if (seed) {
        q.seed = strtoll(seed, &end, 10);
        if (end == seed || *end || q.seed < 0) q.seed = -1;
    }
    if (hash && sscanf(hash, "%" SCNx64, &q.cache_hash) != 1) q.cache_hash = 0;
    provenance_free(p);
    *p = q;
    return MELD_OK;
}

void provenance_json(JsonWriter *j, const char *key, const Provenance *p)
{
    char hash[20];
    snprintf(hash, sizeof hash, "%016" PRIx64, p->cache_hash);
    json_begin_object(j, key);
    json_string(j, "corpus", p->corpus);
    json_string(j, "data", p->data);
    if (p->seed >= 0) json_int(j, "seed", p->seed);
    else json_null(j, "seed");
    json_string(j, "cache", p->cache);
    json_string(j, "cache_hash", p->cache_hash ? hash : NULL);
    json_string(j, "model", p->model);
    json_string(j, "command", p->command);
    json_string(j, "version", p->version);
    json_end_object(j);
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

uint64_t provenance_cache_hash(const Cache *const *caches, int n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int s = 0; s < n; s++) {
        const Cache *c = caches[s];
        if (!c) continue;
        h = fnv1a(h, c->cfg.config, strlen(c->cfg.config));
        for (int i = 0; i < c->n; i++) {
            const CacheEntry *e = &c->entries[i];
            int32_t v[6] = {e->dialogue_id, e->utterance_id, e->emotion, e->sentiment, e->speaker, e->n_mel_frames};
            h = fnv1a(h, v, sizeof v);
        }
    }
    return h;
}

void model_variant_name(const char *kind, const MeldModelConfig *cfg, char *buf, size_t cap)
{
    bool fusion = !strcmp(kind, "fusion");
    snprintf(buf, cap, "%s%s%s%s", kind, fusion && cfg->context ? "-context" : "",
             fusion && !cfg->audio_functionals ? "-mel" : "",
             cfg->task == TASK_EMOTION ? "-emotion" : cfg->task == TASK_SENTIMENT ? "-sentiment" : "");
}
