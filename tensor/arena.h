/* Arena: a bump allocator for everything a training step creates (temporary
 * tensors, their gradients, saved activations, the tape). One step calls
 * arena_alloc many times and arena_reset once; after the first step the
 * arena holds one chunk big enough for a whole step, so later steps do not
 * call malloc at all.
 *
 * Ownership: memory from an arena belongs to the arena. Never free() it;
 * it is invalid after arena_reset() or arena_free().
 */
#ifndef MELD_ARENA_H
#define MELD_ARENA_H

#include <stddef.h>

typedef struct ArenaChunk ArenaChunk;

typedef struct {
    ArenaChunk *head;     /* chunk being filled; older chunks follow ->next */
    size_t used_total;    /* bytes handed out since the last reset */
    size_t peak;          /* largest used_total seen: sizes the chunk after a reset */
} Arena;

void  arena_init(Arena *a);
/* 64-byte aligned, uninitialised. NULL (with the error set) if out of memory. */
void *arena_alloc(Arena *a, size_t bytes);
void *arena_calloc(Arena *a, size_t bytes);
/* Forget everything allocated; keep one chunk of the peak size for reuse. */
void  arena_reset(Arena *a);
void  arena_free(Arena *a);
/* Number of chunks now held (1 after a reset that followed a step: tests
 * use it to show steady-state steps do not allocate). */
int   arena_chunk_count(const Arena *a);

#endif
