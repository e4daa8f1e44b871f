/* XXH64: the 64-bit checksum of the feature caches and their shards.
 *
 * Yann Collet's xxHash, 64-bit variant, as specified in xxHash's
 * doc/xxhash_spec.md (the same digests as `xxhsum -H1`): four lanes of
 *     acc = rotl(acc + lane * P2, 31) * P1
 * over 32-byte stripes, merged, then the tail and an avalanche. About
 * 8 bytes a cycle, so checking a whole MELD cache (~1.4 GB) costs a
 * fraction of a second; it detects bit flips and torn writes, not
 * tampering (it is not a cryptographic hash).
 */
#ifndef MELD_CHECKSUM_H
#define MELD_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

uint64_t checksum_xxh64(const void *data, size_t n, uint64_t seed);

#endif
