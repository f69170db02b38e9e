/* The tactic timing cache of `autovoice build --tactics --timing-cache FILE` (docs/BUILDER.md,
 * "Tactics and the timing cache"): what the per-layer tactic timing measured, so that a later
 * build on the same machine reuses it instead of timing again. Internal to the builder.
 *
 * Format, version 1: text, lines ending in "\n", every line required and in this order:
 *
 *   autovoice-timing-cache 1
 *   library <av_version_string()>
 *   onednn <major>.<minor>.<patch>
 *   cpu <16 hex digits: av__plan_cpu_features()> <the CPU's brand string, to the line's end>
 *   layer <key> gemm <ns> <bytes> onednn <ns> <bytes>        zero or more, keys sorted, unique
 *
 * <key> is the layer signature (the builder's: operator, resolved shapes and attributes,
 * precision and thread count; printable ASCII without spaces, 1 to 511 characters). <ns> is the
 * best time of one run of the layer with that tactic in nanoseconds (decimal, 1 to
 * 10^15), <bytes> the scratch it needs (decimal, 0 to 2^62). Timings are only comparable on the
 * machine, oneDNN and library that measured them: a file whose library, onednn or cpu line
 * differs from the build's is *stale* (not an error; the builder measures again and replaces
 * it). Anything else that does not follow the grammar is an error "FILE:LINE: reason". Files
 * over 16 MiB are refused.
 *
 * Threading: a cache is used by one thread at a time; the functions are reentrant. */
#ifndef AV_BUILDER_TIMING_CACHE_H
#define AV_BUILDER_TIMING_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/common.h"

#define AV__TIMING_CACHE_VERSION 1
#define AV__TIMING_KEY_MAX 511

/* Where timings were (or are being) measured. */
typedef struct av__timing_env {
    char library[64];   /* av_version_string() */
    char onednn[64];    /* "2.6.3" */
    uint64_t cpu;       /* av__plan_cpu_features() */
    char cpu_model[96]; /* the brand string ("unknown" when the CPU has none); no line break */
} av__timing_env;

typedef struct av__timing_entry {
    char *key;
    uint64_t gemm_ns, gemm_bytes;     /* im2col + SGEMM */
    uint64_t onednn_ns, onednn_bytes; /* oneDNN, channels-last */
} av__timing_entry;

typedef struct av__timing_cache {
    av__timing_entry *e; /* n entries sorted by key (strcmp), keys unique */
    size_t n, cap;
} av__timing_cache;

/* Parses text[0..len) (any bytes) into *out (which need not be initialised; empty on any
 * failure or when stale). `name` stands for the file in messages. A stale file (see above) is
 * AV_STATUS_OK with *stale = 1 and `why` (why_size bytes) saying what differs ("made with
 * autovoice 0.0.9, this is 0.1.0"); otherwise *stale = 0. Errors: FORMAT ("NAME:LINE: ..."),
 * OUT_OF_MEMORY, INVALID_ARGUMENT (NULL). The fuzz target tests/fuzz/fuzz_timing_cache.c feeds
 * it. */
av_status av__timing_cache_parse(const char *text, size_t len, const char *name,
                                 const av__timing_env *env, av__timing_cache *out, int *stale,
                                 char *why, size_t why_size, char *err, size_t err_size);

/* The same from the file `path`. A missing file is AV_STATUS_NOT_FOUND (a cache to be made);
 * other read errors are IO. */
av_status av__timing_cache_load(const char *path, const av__timing_env *env,
                                av__timing_cache *out, int *stale, char *why, size_t why_size,
                                char *err, size_t err_size);

/* The entry of `key`, or NULL. Valid until the next put or free. */
const av__timing_entry *av__timing_cache_find(const av__timing_cache *c, const char *key);

/* Adds or replaces the entry e->key (copied). Errors: INVALID_ARGUMENT (a key the grammar
 * refuses, a time of 0 or over 10^15 ns, bytes over 2^62), OUT_OF_MEMORY. */
av_status av__timing_cache_put(av__timing_cache *c, const av__timing_entry *e, char *err,
                               size_t err_size);

/* Writes `path` through PATH.tmp, fsync'ed and renamed into place. Errors: IO, INVALID_ARGUMENT
 * (an env string with a line break or empty). */
av_status av__timing_cache_write(const char *path, const av__timing_env *env,
                                 const av__timing_cache *c, char *err, size_t err_size);

void av__timing_cache_free(av__timing_cache *c);

#endif /* AV_BUILDER_TIMING_CACHE_H */
