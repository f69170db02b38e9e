/* Per-layer tactic timing and the timing cache; contract in build_tactics.h. */
#define _POSIX_C_SOURCE 200809L
#include <dnnl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "builder/build_tactics.h"
#include "builder/timing_cache.h"
#include "core/internal.h"
#include "core/threadpool.h"
#include "engine/engine_internal.h"
#include "engine/plan_format.h"
#include "ops/conv_dnnl.h"

#define AV__MAX_CONV_INPUTS 3 /* X, W, B */

static void say(const av__build_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const av__build_request *req, const char *fmt, ...)
{
    if (!req->o->report)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    req->o->report(req->o->report_user, line);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- where timings are measured -------------------------------------------------------------- */

static void cpu_brand(char *out, size_t size)
{
    snprintf(out, size, "unknown");
#if defined(__x86_64__) || defined(__i386__)
    unsigned int regs[12];
    if (__get_cpuid_max(0x80000000u, NULL) < 0x80000004u)
        return;
    for (unsigned i = 0; i < 3; i++)
        __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                    &regs[4 * i + 3]);
    char brand[49];
    memcpy(brand, regs, 48);
    brand[48] = '\0';
    /* printable, spaces collapsed, trimmed */
    size_t n = 0;
    for (const char *p = brand; *p && n + 1 < size; p++) {
        char ch = *p >= 0x20 && *p < 0x7f ? *p : ' ';
        if (ch == ' ' && (n == 0 || out[n - 1] == ' '))
            continue;
        out[n++] = ch;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    if (!n)
        snprintf(out, size, "unknown");
#endif
}

static av__timing_env current_env(void)
{
    av__timing_env env;
    memset(&env, 0, sizeof env);
    snprintf(env.library, sizeof env.library, "%s", av_version_string());
    const dnnl_version_t *v = dnnl_version();
    snprintf(env.onednn, sizeof env.onednn, "%d.%d.%d", v->major, v->minor, v->patch);
    env.cpu = av__plan_cpu_features();
    cpu_brand(env.cpu_model, sizeof env.cpu_model);
    return env;
}

/* ---- one layer ------------------------------------------------------------------------------- */

static void put_list(char *out, size_t size, const char *tag, const int64_t *v, int n)
{
    size_t len = strlen(out);
    len += (size_t)snprintf(out + len, len < size ? size - len : 0, ":%s", tag);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%lld", i ? "x" : "",
                                (long long)v[i]);
}

static void signature(const char *op_type, const av__conv_params *p, int has_bias, int threads,
                      char *out, size_t size)
{
    snprintf(out, size, "%s:n%lld:c%lld:o%lld:g%lld", op_type, (long long)p->batch,
             (long long)p->in_ch, (long long)p->out_ch, (long long)p->group);
    put_list(out, size, "in", p->in_sp, p->nsp);
    put_list(out, size, "k", p->kernel, p->nsp);
    put_list(out, size, "s", p->stride, p->nsp);
    put_list(out, size, "d", p->dilation, p->nsp);
    put_list(out, size, "pb", p->pad_begin, p->nsp);
    put_list(out, size, "pe", p->pad_end, p->nsp);
    put_list(out, size, "out", p->out_sp, p->nsp);
    size_t len = strlen(out);
    snprintf(out + len, len < size ? size - len : 0, ":b%d:fp32:t%d", has_bias, threads);
}

typedef struct tactics {
    const av__graph *g;
    const av__op *const *ops;
    unsigned char *usable;     /* in: oneDNN can run node n; out: unchanged (decided later) */
    int timed;                 /* 1: time (or look up); 0: scratch sizes only */
    av__threadpool *pool;
    const av__timing_cache *file; /* loaded from the timing cache file */
    av__timing_cache all;         /* file + what this build measured */
    /* per node */
    av__timing_entry *t;       /* times and scratch (key unused) */
    unsigned char *from;       /* 0 timed now, 1 the file, 2 a layer timed earlier in this build */
    unsigned char *pending;    /* to be timed on a run (not cached) */
    char (*what)[64];          /* "Conv 80->512 k7" */
} tactics;

/* Best of AV__TACTIC_REPS runs after one warm-up, in ns (>= 1). */
static av_status time_gemm(const av__op *op, av__op_ctx *ctx, uint64_t *best)
{
    *best = UINT64_MAX;
    for (int r = 0; r <= AV__TACTIC_REPS; r++) {
        uint64_t t0 = now_ns();
        av_status st = op->run(ctx);
        uint64_t dt = now_ns() - t0;
        if (st != AV_STATUS_OK)
            return st;
        if (r > 0 && dt < *best)
            *best = dt ? dt : 1;
    }
    return AV_STATUS_OK;
}

static av_status time_dnnl(av__dnnl_conv *c, const void *x, void *y, void *scratch,
                           av__threadpool *pool, uint64_t *best, char *err, size_t err_size)
{
    *best = UINT64_MAX;
    for (int r = 0; r <= AV__TACTIC_REPS; r++) {
        uint64_t t0 = now_ns();
        av_status st = av__dnnl_conv_run(c, x, NULL, y, scratch, pool, err, err_size);
        uint64_t dt = now_ns() - t0;
        if (st != AV_STATUS_OK)
            return st;
        if (r > 0 && dt < *best)
            *best = dt ? dt : 1;
    }
    return AV_STATUS_OK;
}

/* Best time of the engine's Transpose moving axis 1 of x to the end (a layout change between
 * [N, C, spatial...] and [N, spatial..., C]), the reformat a channels-last region pays on each
 * side of a layer it hands to im2col + SGEMM. */
static av_status time_reformat(const av__tensor *x, av__threadpool *pool, uint64_t *best,
                               char *err, size_t err_size)
{
    const av__op *op = av__op_find("", "Transpose");
    int64_t perm[AV__MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        perm[d] = d == 0 ? 0 : d == x->ndim - 1 ? 1 : d + 1;
    av__attr a = {.name = (char *)"perm", .type = AV__ATTR_INTS, .ints = perm, .count = x->ndim};
    int io[2] = {-1, -1};
    av__node node = {.name = (char *)"reformat", .op_type = (char *)"Transpose",
                     .domain = (char *)"", .n_inputs = 1, .inputs = &io[0], .n_outputs = 1,
                     .outputs = &io[1], .n_attrs = 1, .attrs = &a};
    av__tensor y = {0};
    const av__tensor *in[1] = {x};
    av__tensor *out[1] = {&y};
    av__op_ctx ctx = {.node = &node, .opset = 17, .n_in = 1, .in = in, .n_out = 1, .out = out,
                      .pool = pool, .err = err, .err_size = err_size};
    *best = UINT64_MAX;
    av_status st = op ? op->infer(&ctx) : AV_STATUS_INTERNAL;
    if (st == AV_STATUS_OK && !(y.data = av__aligned_alloc(av__tensor_bytes(&y))))
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int r = 0; r <= AV__TACTIC_REPS && st == AV_STATUS_OK; r++) {
        uint64_t t0 = now_ns();
        st = op->run(&ctx);
        uint64_t dt = now_ns() - t0;
        if (r > 0 && dt < *best)
            *best = dt ? dt : 1;
    }
    av__aligned_free(y.data);
    return st;
}

/* Layer n with these inputs (data needed only with `measure`) and output: its description,
 * signature and timings, from the cache when it has them; otherwise measured (measure = 1), or,
 * untimed, only its scratch sizes (measure = 0, t->timed = 0). *done = 0 when the layer needs
 * its input data to be timed (measure = 0, a timed build, not cached). A layer oneDNN turns
 * down at these shapes loses its usable flag. */
static av_status layer(tactics *t, int n, int n_in, const av__tensor *const *in,
                       const av__tensor *out0, int measure, int *done, char *err,
                       size_t err_size)
{
    const av__node *node = &t->g->nodes[n];
    const av__op *op = t->ops[n];
    int transpose = !strcmp(node->op_type, "ConvTranspose");
    int threads = av__threadpool_size(t->pool);
    char msg[512];
    av__tensor y = *out0;
    y.data = NULL;
    av__tensor *outs[1] = {&y};
    av__op_ctx ctx = {.node = node, .opset = t->g->opset, .n_in = n_in, .in = in, .n_out = 1,
                      .out = outs, .pool = t->pool, .err = msg, .err_size = sizeof msg};
    *done = 1;
    av__conv_params p;
    if (av__conv_params_get(&ctx, transpose, &p) != AV_STATUS_OK) {
        t->usable[n] = 0; /* not a shape oneDNN was tried on */
        return AV_STATUS_OK;
    }
    const av__tensor *b = n_in > 2 ? in[2] : NULL;
    snprintf(t->what[n], sizeof t->what[n], "%s %lld->%lld k%lld%s", node->op_type,
             (long long)p.in_ch, (long long)p.out_ch, (long long)p.kernel[0],
             p.nsp > 1 ? "x.." : "");
    char key[AV__TIMING_KEY_MAX + 1];
    signature(node->op_type, &p, b != NULL, threads, key, sizeof key);
    av__timing_entry *e = &t->t[n];
    const av__timing_entry *hit = t->timed ? av__timing_cache_find(&t->all, key) : NULL;
    if (hit) {
        *e = *hit;
        e->key = NULL;
        t->from[n] = av__timing_cache_find(t->file, key) ? 1 : 2;
        return AV_STATUS_OK;
    }
    if (t->timed && !measure) {
        *done = 0;
        return AV_STATUS_OK;
    }
    /* measure, or (untimed) only size the scratch */
    av__dnnl_conv_desc d;
    memset(&d, 0, sizeof d);
    d.p = p;
    d.channels_last = 1;
    d.precision = AV_PRECISION_FP32;
    d.x_type = d.y_type = AV__DT_F32;
    d.x_zero = -1;
    av__dnnl_conv *c = NULL;
    void *ydata = NULL, *gemm_scratch = NULL, *dnnl_scratch = NULL;
    size_t gemm_bytes = op->scratch_bytes ? op->scratch_bytes(&ctx) : 0;
    av_status st = av__dnnl_conv_create(&d, in[1]->data, b ? b->data : NULL, threads, &c, msg,
                                        sizeof msg);
    if (st != AV_STATUS_OK) {
        t->usable[n] = 0;
        return st == AV_STATUS_OUT_OF_MEMORY ? av__fail(err, err_size, st, "%s", msg)
                                             : AV_STATUS_OK;
    }
    size_t dnnl_bytes = av__dnnl_conv_scratch(c);
    e->gemm_bytes = gemm_bytes;
    e->onednn_bytes = dnnl_bytes;
    e->gemm_ns = e->onednn_ns = 1;
    t->from[n] = 0;
    if (t->timed) {
        size_t yb = av__tensor_bytes(&y);
        if (!(ydata = av__aligned_alloc(yb)) ||
            (gemm_bytes && !(gemm_scratch = av__aligned_alloc(gemm_bytes))) ||
            (dnnl_bytes && !(dnnl_scratch = av__aligned_alloc(dnnl_bytes)))) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        y.data = ydata;
        ctx.scratch = gemm_scratch;
        uint64_t t_in, t_out;
        if ((st = time_gemm(op, &ctx, &e->gemm_ns)) != AV_STATUS_OK ||
            (st = time_reformat(in[0], t->pool, &t_in, msg, sizeof msg)) != AV_STATUS_OK ||
            (st = time_reformat(&y, t->pool, &t_out, msg, sizeof msg)) != AV_STATUS_OK) {
            av__fail(err, err_size, st, "timing '%s' (im2col + SGEMM): %s", node->name, msg);
            goto done;
        }
        e->gemm_ns += t_in + t_out;
        /* the input is channels-first; timing does not depend on the values' order */
        if ((st = time_dnnl(c, in[0]->data, ydata, dnnl_scratch, t->pool, &e->onednn_ns, msg,
                            sizeof msg)) != AV_STATUS_OK) {
            av__fail(err, err_size, st, "timing '%s' (oneDNN): %s", node->name, msg);
            goto done;
        }
        av__timing_entry put = *e;
        put.key = key;
        if ((st = av__timing_cache_put(&t->all, &put, err, err_size)) != AV_STATUS_OK)
            goto done;
    }
done:
    av__dnnl_conv_free(c);
    av__aligned_free(ydata);
    av__aligned_free(gemm_scratch);
    av__aligned_free(dnnl_scratch);
    return st;
}

/* The session's observer: times the layers the shape pass left (t->pending). */
static av_status tactic_observe(void *user, int n, int n_in, const av__tensor *const *in,
                                int n_out, av__tensor *const *out, char *err, size_t err_size)
{
    (void)n_out;
    tactics *t = user;
    int done;
    if (!t->usable[n] || !t->pending[n])
        return AV_STATUS_OK;
    t->pending[n] = 0;
    return layer(t, n, n_in, in, out[0], 1, &done, err, err_size);
}

/* ---- the choice ------------------------------------------------------------------------------ */

static void mb(uint64_t bytes, char *out, size_t size)
{
    snprintf(out, size, "%.1f MB", (double)bytes / 1e6);
}

av_status av__build_choose_tactics(const av_model *m, const av__build_request *req,
                                   const av__tensor *batch, const av__tensor *shapes,
                                   unsigned char *usable, char *err, size_t err_size)
{
    const av__graph *g = m->g;
    const av_plan_options *o = req->o;
    int timed = o->tactics == 1;
    int64_t ws = o->workspace_bytes > 0 ? o->workspace_bytes
                                        : req->cfg->workspace_mb * (int64_t)(1 << 20);
    const char *ws_from = o->workspace_bytes > 0 ? "--workspace" : "workspace_mb";
    const char *path = timed ? o->timing_cache : NULL;
    av__timing_env env = current_env();
    av__timing_cache file = {0};
    tactics t = {.g = g, .ops = (const av__op *const *)m->ops, .usable = usable, .timed = timed,
                 .file = &file};
    av_session *s = NULL;
    char msg[1024], why[256];
    av_status st = AV_STATUS_OK;
    int stale = 0;
    if (path) {
        st = av__timing_cache_load(path, &env, &file, &stale, why, sizeof why, msg, sizeof msg);
        if (st == AV_STATUS_NOT_FOUND) {
            say(req, "timing cache %s: not there yet, made by this build", path);
        } else if (st != AV_STATUS_OK) {
            av__fail(err, err_size, st, "%s (delete it, or give another --timing-cache)", msg);
            goto done;
        } else if (stale) {
            say(req, "timing cache %s ignored (%s): timing again, then replacing it", path, why);
        }
        st = AV_STATUS_OK;
        for (size_t i = 0; i < file.n && st == AV_STATUS_OK; i++)
            st = av__timing_cache_put(&t.all, &file.e[i], err, err_size);
        if (st != AV_STATUS_OK)
            goto done;
    }
    t.t = av__calloc((size_t)g->n_nodes + 1, sizeof *t.t);
    t.from = av__calloc((size_t)g->n_nodes + 1, 1);
    t.what = av__calloc((size_t)g->n_nodes + 1, sizeof *t.what);
    t.pending = av__calloc((size_t)g->n_nodes + 1, 1);
    if (!t.t || !t.from || !t.what || !t.pending) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    if ((st = av__threadpool_create(o->threads, &t.pool)) != AV_STATUS_OK) {
        av__fail(err, err_size, st, "cannot start threads");
        goto done;
    }
    /* the shapes first: cached layers (and, untimed, every layer) need no run */
    int n_pending = 0;
    for (int n = 0; n < g->n_nodes; n++) {
        const av__node *node = &g->nodes[n];
        if (!usable[n])
            continue;
        const av__tensor *ins[AV__MAX_CONV_INPUTS] = {NULL};
        int n_in = node->n_inputs < AV__MAX_CONV_INPUTS ? node->n_inputs : AV__MAX_CONV_INPUTS;
        int known = shapes[node->outputs[0]].ndim >= 0;
        for (int i = 0; i < n_in; i++) {
            int v = node->inputs[i];
            ins[i] = v < 0 ? NULL : (g->values[v].flags & AV__VALUE_CONST) ? &g->values[v].constant
                                                                          : &shapes[v];
            known &= !ins[i] || ins[i]->ndim >= 0;
        }
        int done = 0;
        if (known && (st = layer(&t, n, n_in, ins, &shapes[node->outputs[0]], 0, &done, err,
                                 err_size)) != AV_STATUS_OK)
            goto done;
        t.pending[n] = (unsigned char)(usable[n] && !done);
        n_pending += t.pending[n];
    }
    if (n_pending) { /* time the rest on their inputs */
        av_session_config sc = av_session_config_default();
        sc.threads = o->threads;
        if ((st = av_session_create(m, &sc, &s, err, err_size)) != AV_STATUS_OK)
            goto done;
        av__session_set_observer(s, tactic_observe, &t);
        for (int i = 0; i < g->n_inputs; i++)
            if (av_session_set_input(s, g->values[g->inputs[i]].name, (av_dtype)batch[i].dtype,
                                     batch[i].ndim, batch[i].shape, batch[i].data) !=
                AV_STATUS_OK) {
                st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%s",
                              av_session_last_error(s));
                goto done;
            }
        if ((st = av_session_run(s)) != AV_STATUS_OK) {
            av__fail(err, err_size, st, "%s", av_session_last_error(s));
            goto done;
        }
    }

    /* the choice per layer */
    int threads = av__threadpool_size(t.pool);
    if (timed)
        say(req, "tactics per layer at the reference shapes, best of %d runs after a warm-up on "
                 "%d thread%s (SGEMM: the layer and the two transposes that take it out of the "
                 "channels-last region):", AV__TACTIC_REPS, threads, threads == 1 ? "" : "s");
    int n_layers = 0, n_dnnl = 0, n_timed = 0, n_file = 0, n_same = 0, n_over = 0;
    double sum_gemm = 0, sum_dnnl = 0, sum_best = 0;
    for (int n = 0; n < g->n_nodes; n++) {
        if (!usable[n])
            continue;
        const av__timing_entry *e = &t.t[n];
        int gemm_fits = ws <= 0 || e->gemm_bytes <= (uint64_t)ws;
        int dnnl_fits = ws <= 0 || e->onednn_bytes <= (uint64_t)ws;
        int dnnl = dnnl_fits && (!gemm_fits || !timed || e->onednn_ns < e->gemm_ns);
        n_layers++;
        n_dnnl += dnnl;
        n_over += !gemm_fits && !dnnl_fits;
        usable[n] = (unsigned char)dnnl;
        char gb[32], db[32];
        mb(e->gemm_bytes, gb, sizeof gb);
        mb(e->onednn_bytes, db, sizeof db);
        const char *why_not = !dnnl_fits && !gemm_fits ? " (no tactic fits the workspace)"
                              : !dnnl_fits              ? " (oneDNN's scratch exceeds the workspace)"
                              : !gemm_fits              ? " (SGEMM's scratch exceeds the workspace)"
                                                        : "";
        if (!timed) {
            if (!dnnl)
                say(req, "  %-44s %-26s im2col + SGEMM%s", g->nodes[n].name, t.what[n], why_not);
            continue;
        }
        n_timed += t.from[n] == 0;
        n_file += t.from[n] == 1;
        n_same += t.from[n] == 2;
        sum_gemm += (double)e->gemm_ns;
        sum_dnnl += (double)e->onednn_ns;
        sum_best += (double)(dnnl ? e->onednn_ns : e->gemm_ns);
        say(req, "  %-44s %-26s SGEMM %8.3f ms %9s, oneDNN %8.3f ms %9s: %s%s%s",
            g->nodes[n].name, t.what[n], (double)e->gemm_ns * 1e-6, gb,
            (double)e->onednn_ns * 1e-6, db, dnnl ? "oneDNN" : "SGEMM",
            t.from[n] == 1 ? " (cached)" : t.from[n] == 2 ? " (as above)" : "", why_not);
    }
    if (timed) {
        say(req, "tactics: %d convolution%s, %d oneDNN, %d im2col + SGEMM; %d timed, %d from the "
                 "timing cache, %d the same as a layer above; sum of the chosen %.2f ms (all "
                 "SGEMM %.2f ms, all oneDNN %.2f ms)",
            n_layers, n_layers == 1 ? "" : "s", n_dnnl, n_layers - n_dnnl, n_timed, n_file,
            n_same, sum_best * 1e-6, sum_gemm * 1e-6, sum_dnnl * 1e-6);
    } else {
        say(req, "fp32 convolutions through oneDNN (not timed): %d of %d%s", n_dnnl, n_layers,
            n_dnnl < n_layers ? " (the rest exceed the workspace)" : "");
    }
    if (ws > 0) {
        char limit[48];
        if (ws % (1 << 20) == 0)
            snprintf(limit, sizeof limit, "%lld MiB", (long long)(ws >> 20));
        else
            snprintf(limit, sizeof limit, "%lld bytes", (long long)ws);
        say(req, "workspace: at most %s of scratch per layer (%s); %d layer%s fit no tactic and "
                 "keep im2col + SGEMM", limit, ws_from, n_over, n_over == 1 ? "" : "s");
    }
    if (path) {
        if (n_timed == 0 && !stale && file.n == t.all.n) {
            say(req, "timing cache %s: %d of %d layers reused, nothing new to write", path,
                n_file, n_layers);
        } else if ((st = av__timing_cache_write(path, &env, &t.all, msg, sizeof msg)) ==
                   AV_STATUS_OK) {
            say(req, "timing cache %s: %d of %d layers reused; written with %zu layer%s", path,
                n_file, n_layers, t.all.n, t.all.n == 1 ? "" : "s");
        } else {
            say(req, "timing cache not written: %s", msg);
            st = AV_STATUS_OK;
        }
    }
done:
    av_session_free(s);
    av__threadpool_free(t.pool);
    av__timing_cache_free(&file);
    av__timing_cache_free(&t.all);
    av__free(t.t);
    av__free(t.from);
    av__free(t.what);
    av__free(t.pending);
    return st;
}
