/* libFuzzer target for builder/timing_cache: feeds each input to av__timing_cache_parse for a
 * fixed machine (the one test_calibrate replays the corpus with) and checks what
 * timing_cache.h promises: a success gives entries sorted by key, unique, with keys of 1 to 511
 * printable characters and times and sizes in range, findable by key (and none when stale, with
 * a reason); a failure is FORMAT, leaves the cache empty and names the file. A valid cache is
 * written and read back to the same entries. Build and run: tests/fuzz/README.md. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/timing_cache.h"

#define NAME "fuzz.timing"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static av__timing_env fuzz_env(void)
{
    av__timing_env env;
    memset(&env, 0, sizeof env);
    snprintf(env.library, sizeof env.library, "0.1.0");
    snprintf(env.onednn, sizeof env.onednn, "2.6.3");
    env.cpu = 0x3ff;
    snprintf(env.cpu_model, sizeof env.cpu_model, "AMD EPYC");
    return env;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    av__timing_env env = fuzz_env();
    av__timing_cache c;
    int stale = 7;
    char err[512], why[256];
    memset(&c, 0x5a, sizeof c);
    av_status st = av__timing_cache_parse((const char *)data, size, NAME, &env, &c, &stale, why,
                                          sizeof why, err, sizeof err);
    if (st != AV_STATUS_OK) {
        if (st != AV_STATUS_FORMAT || c.n || c.e || !memchr(err, '\0', sizeof err) ||
            strncmp(err, NAME ":", strlen(NAME ":")) != 0)
            abort();
        return 0;
    }
    if ((stale != 0 && stale != 1) || (stale && (c.n || !why[0])))
        abort();
    for (size_t i = 0; i < c.n; i++) {
        const av__timing_entry *e = &c.e[i];
        size_t len = strlen(e->key);
        if (len < 1 || len > AV__TIMING_KEY_MAX || e->gemm_ns < 1 || e->onednn_ns < 1 ||
            (i && strcmp(c.e[i - 1].key, e->key) >= 0) || av__timing_cache_find(&c, e->key) != e)
            abort();
        for (size_t k = 0; k < len; k++)
            if (e->key[k] <= ' ' || e->key[k] > '~')
                abort();
    }
    /* written and read back: the same entries */
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/fuzz_timing_cache.%ld", (long)getpid());
    if (!stale && av__timing_cache_write(path, &env, &c, err, sizeof err) == AV_STATUS_OK) {
        av__timing_cache back;
        int stale2;
        if (av__timing_cache_load(path, &env, &back, &stale2, why, sizeof why, err, sizeof err) !=
                AV_STATUS_OK ||
            stale2 || back.n != c.n)
            abort();
        for (size_t i = 0; i < c.n; i++)
            if (strcmp(back.e[i].key, c.e[i].key) || back.e[i].gemm_ns != c.e[i].gemm_ns ||
                back.e[i].gemm_bytes != c.e[i].gemm_bytes ||
                back.e[i].onednn_ns != c.e[i].onednn_ns ||
                back.e[i].onednn_bytes != c.e[i].onednn_bytes)
                abort();
        av__timing_cache_free(&back);
        unlink(path);
    }
    av__timing_cache_free(&c);
    return 0;
}
