/* A fixed pool of worker threads for data-parallel loops. Internal.
 * One pool per session; not shared between sessions running concurrently. */
#ifndef AV_CORE_THREADPOOL_H
#define AV_CORE_THREADPOOL_H

#include <stdint.h>

#include "autovoice/common.h"

typedef struct av__threadpool av__threadpool;

/* Creates a pool that runs loops on `threads` threads in all (the caller's thread counts as one:
 * threads - 1 workers are started). threads <= 0 means the number of online CPUs. */
av_status av__threadpool_create(int threads, av__threadpool **out);
void av__threadpool_free(av__threadpool *pool);
/* Threads a loop runs on (>= 1). A NULL pool has 1. */
int av__threadpool_size(const av__threadpool *pool);

/* fn(arg, begin, end) over a partition of [0, n) into contiguous chunks, at most one chunk per
 * thread, each chunk a multiple of `grain` long except the last (grain <= 0 means 1). Returns when
 * every chunk is done. With a NULL pool, or n <= grain, runs fn(arg, 0, n) on the caller's
 * thread. Not reentrant: fn must not call av__parallel_for on the same pool. */
void av__parallel_for(av__threadpool *pool, int64_t n, int64_t grain,
                      void (*fn)(void *arg, int64_t begin, int64_t end), void *arg);

#endif /* AV_CORE_THREADPOOL_H */
