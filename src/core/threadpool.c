#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/threadpool.h"

/* Workers wait on `wake` for a new generation of work; each takes the chunk with its own index.
 * The caller runs chunk 0 and then waits on `done` until every worker has finished. */
struct av__threadpool {
    int threads;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    uint64_t generation;
    int pending;
    int stop;
    /* the current loop */
    void (*fn)(void *, int64_t, int64_t);
    void *arg;
    int64_t n, chunk;
};

typedef struct worker_arg {
    av__threadpool *pool;
    int index;
} worker_arg;

static void run_chunk(av__threadpool *p, int index)
{
    int64_t begin = (int64_t)index * p->chunk;
    int64_t end = begin + p->chunk < p->n ? begin + p->chunk : p->n;
    if (begin < end)
        p->fn(p->arg, begin, end);
}

static void *worker_main(void *argp)
{
    worker_arg *wa = argp;
    av__threadpool *p = wa->pool;
    int index = wa->index;
    av__free(wa);
    uint64_t seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stop)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        run_chunk(p, index);
        pthread_mutex_lock(&p->lock);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

av_status av__threadpool_create(int threads, av__threadpool **out)
{
    *out = NULL;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    if (threads > 256)
        threads = 256;
    av__threadpool *p = av__calloc(1, sizeof *p);
    if (!p)
        return AV_STATUS_OUT_OF_MEMORY;
    p->threads = threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (threads > 1) {
        p->workers = av__calloc((size_t)threads - 1, sizeof *p->workers);
        if (!p->workers)
            goto fail;
        for (int i = 1; i < threads; i++) {
            worker_arg *wa = av__malloc(sizeof *wa);
            if (!wa)
                goto fail_started;
            wa->pool = p;
            wa->index = i;
            if (pthread_create(&p->workers[i - 1], NULL, worker_main, wa) != 0) {
                av__free(wa);
                goto fail_started;
            }
            continue;
        fail_started:
            p->threads = i; /* workers 1..i-1 exist */
            av__threadpool_free(p);
            return AV_STATUS_OUT_OF_MEMORY;
        }
    }
    *out = p;
    return AV_STATUS_OK;
fail:
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    av__free(p);
    return AV_STATUS_OUT_OF_MEMORY;
}

void av__threadpool_free(av__threadpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i < p->threads; i++)
        pthread_join(p->workers[i - 1], NULL);
    av__free(p->workers);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    av__free(p);
}

int av__threadpool_size(const av__threadpool *p) { return p ? p->threads : 1; }

void av__parallel_for(av__threadpool *p, int64_t n, int64_t grain,
                      void (*fn)(void *arg, int64_t begin, int64_t end), void *arg)
{
    if (n <= 0)
        return;
    if (grain <= 0)
        grain = 1;
    if (!p || p->threads == 1 || n <= grain) {
        fn(arg, 0, n);
        return;
    }
    int64_t chunks = (n + grain - 1) / grain;
    int64_t per = (chunks + p->threads - 1) / p->threads; /* grains per thread */
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->chunk = per * grain;
    p->pending = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    run_chunk(p, 0);
    pthread_mutex_lock(&p->lock);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
