#include "tensor/arena.h"

#include <stdlib.h>
#include <string.h>

#include "tensor/error.h"

struct ArenaChunk {
    ArenaChunk *next;
    size_t cap, used;
    unsigned char *base;  /* 64-byte aligned storage of cap bytes */
};

enum { ARENA_ALIGN = 64, ARENA_MIN_CHUNK = 1 << 20 };

void arena_init(Arena *a) { memset(a, 0, sizeof *a); }

static ArenaChunk *chunk_new(size_t cap)
{
    ArenaChunk *c = meld_malloc(sizeof *c, "arena chunk");
    if (!c) return NULL;
    c->base = meld_aligned_alloc(cap, "arena chunk");
    if (!c->base) {
        free(c);
        return NULL;
    }
    c->cap = cap;
    c->used = 0;
    c->next = NULL;
    return c;
}

void *arena_alloc(Arena *a, size_t bytes)
{
    size_t need = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need == 0) need = ARENA_ALIGN;
    if (!a->head || a->head->used + need > a->head->cap) {
        size_t cap = a->head ? a->head->cap * 2 : ARENA_MIN_CHUNK;
        if (cap < need) cap = need;
        ArenaChunk *c = chunk_new(cap);
        if (!c) return NULL;
        c->next = a->head;
        a->head = c;
    }
    void *p = a->head->base + a->head->used;
    a->head->used += need;
    a->used_total += need;
    if (a->used_total > a->peak) a->peak = a->used_total;
    return p;
}

void *arena_calloc(Arena *a, size_t bytes)
{
    void *p = arena_alloc(a, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

static void free_chunks(ArenaChunk *c)
{
    while (c) {
        ArenaChunk *next = c->next;
        free(c->base);
        free(c);
        c = next;
    }
}

void arena_reset(Arena *a)
{
    /* One chunk: keep it. Several: replace them with one of the peak size. */
    if (a->head && a->head->next) {
        free_chunks(a->head);
        a->head = chunk_new(a->peak);   /* on failure the next alloc retries */
    }
    if (a->head) a->head->used = 0;
    a->used_total = 0;
}

void arena_free(Arena *a)
{
    free_chunks(a->head);
    memset(a, 0, sizeof *a);
}

int arena_chunk_count(const Arena *a)
{
    int n = 0;
    for (const ArenaChunk *c = a->head; c; c = c->next) n++;
    return n;
}
