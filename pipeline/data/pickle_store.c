/* Where the pickle reader's values live: chunks of objects and decoded
 * strings, every byte counted against the memory bound of pickle.h; and
 * looking at the values once parsed. */
#include "pipeline/data/pickle_impl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Objects and decoded strings live in chunks, freed together. */
struct PickleChunk {
    PickleChunk *next;
    size_t used, cap;          /* bytes of data */
    max_align_t data[];
};

enum { OBJECTS_PER_CHUNK = 256, BLOB_CHUNK_BYTES = 1 << 16 };

int pickle_charge(PickleReader *r, size_t bytes)
{
    if (bytes > r->budget - r->out->memory)
        return pickle_fail(r, "the values would need more than %zu bytes of memory (%d x the file's size + %zu)",
                           r->budget, PICKLE_MEMORY_PER_BYTE, PICKLE_MEMORY_BASE);
    r->out->memory += bytes;
    return MELD_OK;
}

int pickle_grow(PickleReader *r, void **items, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return MELD_OK;
    size_t new_cap = 2 * *cap;   /* from 0: exactly what is needed (most containers stay small) */
    if (new_cap < need) new_cap = need;
    if (new_cap > SIZE_MAX / elem || pickle_charge(r, (new_cap - *cap) * elem)) return MELD_ERR;
    void *p = realloc(*items, new_cap * elem);
    if (!p) return pickle_fail(r, "out of memory");
    *items = p;
    *cap = new_cap;
    return MELD_OK;
}

static PickleChunk *chunk_new(PickleReader *r, size_t bytes)
{
    if (pickle_charge(r, sizeof(PickleChunk) + bytes)) return NULL;
    PickleChunk *c = malloc(sizeof *c + bytes);
    if (!c) {
        pickle_fail(r, "out of memory");
        return NULL;
    }
    c->next = NULL;
    c->used = 0;
    c->cap = bytes;
    return c;
}

PickleObject *pickle_new_object(PickleReader *r, PickleKind kind)
{
    PickleChunk *c = r->out->objects;
    if (!c || c->cap - c->used < sizeof(PickleObject)) {
        if (!(c = chunk_new(r, OBJECTS_PER_CHUNK * sizeof(PickleObject)))) return NULL;
        c->next = r->out->objects;
        r->out->objects = c;
    }
    PickleObject *o = (PickleObject *)(void *)((unsigned char *)c->data + c->used);
    c->used += sizeof *o;
    memset(o, 0, sizeof *o);
    o->kind = (uint8_t)kind;
    return o;
}

uint8_t *pickle_new_blob(PickleReader *r, size_t n)
{
    PickleChunk *head = r->out->blobs;
    if (head && head->cap - head->used >= n) {
        uint8_t *p = (uint8_t *)head->data + head->used;
        head->used += n;
        return p;
    }
    /* A large string gets a chunk of its own behind the head, so the
     * head's free space stays usable for the small ones. */
    bool own = n > BLOB_CHUNK_BYTES / 4;
    PickleChunk *c = chunk_new(r, own ? n : BLOB_CHUNK_BYTES);
    if (!c) return NULL;
    c->used = n;
    if (own && head) {
        c->next = head->next;
        head->next = c;
    } else {
        c->next = head;
        r->out->blobs = c;
    }
    return (uint8_t *)c->data;
}

int pickle_object_add(PickleReader *r, PickleObject *o, const PickleValue *v, size_t n)
{
    if (n == 0) return MELD_OK;
    if (n > UINT32_MAX - o->count) return pickle_fail(r, "a container of more than %u values", (unsigned)UINT32_MAX);
    size_t cap = o->cap;
    if (pickle_grow(r, (void **)&o->items, &cap, (size_t)o->count + n, sizeof *v)) return MELD_ERR;
    o->cap = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
    memcpy(o->items + o->count, v, n * sizeof *v);
    o->count += (uint32_t)n;
    return MELD_OK;
}

static void free_chunks(PickleChunk *c, bool objects)
{
    while (c) {
        PickleChunk *next = c->next;
        if (objects) {
            PickleObject *o = (PickleObject *)(void *)c->data;
            for (size_t i = 0; i < c->used / sizeof *o; i++) free(o[i].items);
        }
        free(c);
        c = next;
    }
}

void pickle_free(Pickle *p)
{
    free_chunks(p->objects, true);
    free_chunks(p->blobs, false);
    if (p->map) munmap(p->map, p->map_size);
    memset(p, 0, sizeof *p);
}

/* ---- looking at values ------------------------------------------------ */

const char *pickle_kind_name(int kind)
{
    static const char *const NAMES[PICKLE_N_KINDS] = {
        "None", "bool", "int", "float", "bytes", "text",
        "tuple", "list", "dict", "numpy array", "numpy dtype", "global",
    };
    return kind >= 0 && kind < PICKLE_N_KINDS ? NAMES[kind] : "?";
}

size_t pickle_len(const PickleValue *v)
{
    switch (v->kind) {
    case PICKLE_BYTES:
    case PICKLE_TEXT: return v->len;
    case PICKLE_TUPLE:
    case PICKLE_LIST: return v->u.obj ? v->u.obj->count : 0;
    case PICKLE_DICT: return v->u.obj->count / 2;
    case PICKLE_ARRAY: return (size_t)v->u.obj->n_elems;
    default: return 0;
    }
}

const PickleValue *pickle_item(const PickleValue *v, size_t i)
{
    if (v->kind != PICKLE_TUPLE && v->kind != PICKLE_LIST) return NULL;
    return i < pickle_len(v) ? &v->u.obj->items[i] : NULL;
}

const PickleValue *pickle_key(const PickleValue *v, size_t i)
{
    return v->kind == PICKLE_DICT && i < pickle_len(v) ? &v->u.obj->items[2 * i] : NULL;
}

const PickleValue *pickle_value(const PickleValue *v, size_t i)
{
    return v->kind == PICKLE_DICT && i < pickle_len(v) ? &v->u.obj->items[2 * i + 1] : NULL;
}
