/* The builder's driver for reduced-precision and tactic-timed plans; contract in build_plan.h.
 *
 * Everything here runs the engine through sessions with an observer (engine_internal.h): the
 * observer sees each node's tensors right after it ran, which is where shapes are recorded,
 * oneDNN is tried on each convolution, activation statistics are collected and single layers
 * are re-run in int8. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "builder/build_graph.h"
#include "builder/build_plan.h"
#include "builder/build_tactics.h"
#include "builder/calib_audio.h"
#include "builder/calibrate.h"
#include "builder/npz.h"
#include "core/internal.h"
#include "engine/engine_internal.h"
#include "ops/conv_dnnl.h"

#define DEFAULT_MIN_SNR 30.0
#define DEFAULT_E2E_SNR_BF16 35.0 /* end-to-end bounds (av_plan_options.min_output_snr_db) */
#define DEFAULT_E2E_SNR_INT8 30.0
#define REPORT_BATCHES 4 /* the accuracy report runs at most this many batches */
#define SYNTH_SEED 20261125u

/* ---- report lines ---------------------------------------------------------------------------- */

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- reference inputs ------------------------------------------------------------------------ */

typedef struct inputs {
    int n_in, n_batches;
    av__tensor *t;          /* [batch * n_in + input], data owned */
    char source[600];       /* for the report */
} inputs;

static void inputs_free(inputs *in)
{
    for (int i = 0; in->t && i < in->n_in * in->n_batches; i++)
        av__aligned_free(in->t[i].data);
    av__free(in->t);
    memset(in, 0, sizeof *in);
}

/* The NPZ key prefix of a component ("vocoder/mel_input"; issue 5's grouping). */
static const char *npz_group(const char *component)
{
    static const char *const map[][2] = {{"content_encoder", "content"},
                                         {"pitch_encoder", "pitch"},
                                         {"flow_decoder", "flow"},
                                         {"mel_projection", "mel"},
                                         {"vocoder", "vocoder"}};
    for (size_t i = 0; component && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(component, map[i][0]))
            return map[i][1];
    return NULL;
}

/* Element k of an npy array as double. */
static double npy_get(const av__npy_array *a, size_t k)
{
    const void *p = (const char *)a->data + k * a->item_size;
    switch (a->dtype) {
    case AV__NPY_F32: return *(const float *)p;
    case AV__NPY_F64: return *(const double *)p;
    case AV__NPY_I64: return (double)*(const int64_t *)p;
    case AV__NPY_I32: return *(const int32_t *)p;
    case AV__NPY_I8: return *(const int8_t *)p;
    case AV__NPY_U8:
    case AV__NPY_BOOL: return *(const uint8_t *)p;
    default: return 0;
    }
}

static av_status load_npz(const av_model *m, const av__build_request *req, const char *path,
                          inputs *in, char *err, size_t err_size)
{
    const av__graph *g = m->g;
    av__npz_entry *e = NULL;
    size_t n_e = 0;
    av_status st = av__npz_load(path, &e, &n_e, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    const char *group = npz_group(req->component);
    const av__npz_entry **pick = av__calloc((size_t)g->n_inputs + 1, sizeof *pick);
    if (!pick) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    int batches = -1;
    for (int i = 0; i < g->n_inputs; i++) {
        const av__value *v = &g->values[g->inputs[i]];
        char key[512];
        for (size_t k = 0; k < n_e && !pick[i]; k++) {
            snprintf(key, sizeof key, "%s/%s", group ? group : "", v->name);
            if ((group && !strcmp(e[k].name, key)) || !strcmp(e[k].name, v->name))
                pick[i] = &e[k];
        }
        if (!pick[i]) {
            st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                          "%s: no array for input '%s' (key %s%s%s)", path, v->name,
                          group ? group : "", group ? "/" : "", v->name);
            goto done;
        }
        const av__npy_array *a = &pick[i]->array;
        int b = a->ndim == v->ndim ? 1 : a->ndim == v->ndim + 1 ? (int)a->shape[0] : -1;
        if (v->ndim < 0 || b < 0) {
            st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                          "%s: '%s' has %d dimensions; input '%s' has %d (or one more: a stack "
                          "of batches)", path, pick[i]->name, a->ndim, v->name, v->ndim);
            goto done;
        }
        int float_in = v->dtype == AV__DT_F32, bool_in = v->dtype == AV__DT_BOOL;
        int ok = float_in ? a->dtype == AV__NPY_F32
                 : bool_in ? (a->dtype == AV__NPY_BOOL || a->dtype == AV__NPY_I8 ||
                              a->dtype == AV__NPY_U8)
                           : (a->dtype == AV__NPY_I64 || a->dtype == AV__NPY_I32);
        if (!ok) {
            st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                          "%s: '%s' is %s; input '%s' takes %s%s", path, pick[i]->name,
                          av__npy_dtype_name(a->dtype), v->name, av__dtype_name(v->dtype),
                          bool_in ? " (bool or int8)" : "");
            goto done;
        }
        if (batches >= 0 && b != batches) {
            st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                          "%s: %d batches for '%s', %d for an earlier input", path, b, v->name,
                          batches);
            goto done;
        }
        batches = b;
    }
    if (batches > req->cfg->calib.batches)
        batches = req->cfg->calib.batches;
    if (batches < 1) {
        st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%s: no batches", path);
        goto done;
    }
    in->n_in = g->n_inputs;
    in->n_batches = batches;
    if (!(in->t = av__calloc((size_t)batches * (size_t)g->n_inputs + 1, sizeof *in->t))) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const av__value *v = &g->values[g->inputs[i]];
        const av__npy_array *a = &pick[i]->array;
        int stacked = a->ndim == v->ndim + 1;
        for (int b = 0; b < batches; b++) {
            av__tensor *t = &in->t[b * g->n_inputs + i];
            t->dtype = v->dtype;
            t->ndim = v->ndim;
            for (int d = 0; d < v->ndim; d++)
                t->shape[d] = a->shape[d + stacked];
            size_t count = (size_t)av__tensor_count(t);
            if (!(t->data = av__aligned_alloc(av__tensor_bytes(t)))) {
                st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
                goto done;
            }
            for (size_t k = 0; k < count; k++) {
                double x = npy_get(a, (size_t)b * count + k);
                if (v->dtype == AV__DT_F32)
                    ((float *)t->data)[k] = (float)x;
                else if (v->dtype == AV__DT_BOOL)
                    ((uint8_t *)t->data)[k] = x != 0;
                else if (v->dtype == AV__DT_I64)
                    ((int64_t *)t->data)[k] = (int64_t)x;
                else if (v->dtype == AV__DT_I32)
                    ((int32_t *)t->data)[k] = (int32_t)x;
            }
        }
    }
    snprintf(in->source, sizeof in->source, "%s (%d batch%s)", path, batches,
             batches == 1 ? "" : "es");
done:
    av__free(pick);
    av__npz_free(e, n_e);
    if (st != AV_STATUS_OK)
        inputs_free(in);
    return st;
}

/* One batch at the opt shapes: float32 N(0, 1) from the engine's counter-based generator,
 * except a vocoder's mel_input, 1.5 N(0, 1) - 4 (log-mel-like, as bench/engine_fp32.sh makes
 * it), and inputs named like masks ("mask" in the name), 1; bool inputs true; integer inputs 0. */
static av_status synthetic(const av_model *m, const av__build_request *req, inputs *in,
                           char *err, size_t err_size)
{
    const av__graph *g = m->g;
    in->n_in = g->n_inputs;
    in->n_batches = 1;
    if (!(in->t = av__calloc((size_t)g->n_inputs + 1, sizeof *in->t)))
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < g->n_inputs; i++) {
        const av__value *v = &g->values[g->inputs[i]];
        av__tensor *t = &in->t[i];
        const av__build_shape *p = NULL;
        for (int k = 0; k < req->n_profiles; k++)
            if (!strcmp(req->profiles[k].input, v->name))
                p = &req->profiles[k];
        t->dtype = v->dtype;
        t->ndim = p ? p->ndim : v->ndim;
        for (int d = 0; d < t->ndim; d++) {
            t->shape[d] = p ? p->opt[d] : v->dims[d].param ? -1 : v->dims[d].value;
            if (t->shape[d] < 0) {
                inputs_free(in);
                return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                                "input '%s' has no profile and no calibration data: give "
                                "--shape %s:MIN/OPT/MAX or --calib FILE.npz", v->name, v->name);
            }
        }
        if (t->ndim < 0 || av__dtype_size(t->dtype) == 0 ||
            !(t->data = av__aligned_alloc(av__tensor_bytes(t)))) {
            inputs_free(in);
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "input '%s': cannot make a synthetic tensor", v->name);
        }
        int64_t count = av__tensor_count(t);
        int mel = req->component && !strcmp(req->component, "vocoder");
        int mask = strstr(v->name, "mask") != NULL;
        memset(t->data, 0, av__tensor_bytes(t));
        for (int64_t k = 0; k < count; k++) {
            if (t->dtype == AV__DT_F32) {
                float z = av__rng_normal(SYNTH_SEED + (uint64_t)i, (uint64_t)k);
                ((float *)t->data)[k] = mask ? 1.0f : mel ? 1.5f * z - 4.0f : z;
            } else if (t->dtype == AV__DT_BOOL) {
                ((uint8_t *)t->data)[k] = 1;
            }
        }
    }
    snprintf(in->source, sizeof in->source,
             "synthetic inputs at the opt shapes (1 batch, seed %u)", SYNTH_SEED);
    return AV_STATUS_OK;
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* The audio files of `dir` through the conversion pipeline of the package the source ONNX file
 * is in (its directory), the component's inputs kept (calib_audio.h). */
static av_status load_audio(const av_model *m, const av__build_request *req, const char *dir,
                            inputs *in, char *err, size_t err_size)
{
    const char *src = req->o->source_path;
    if (!npz_group(req->component))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: calibration from audio files collects one component's inputs from "
                        "the conversion pipeline; say which component this model is "
                        "(--component NAME)", dir);
    if (!src)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: calibration from audio files runs the model package the ONNX file "
                        "is in, and no source file is recorded", dir);
    char pkg[4096], yaml[4200];
    const char *slash = strrchr(src, '/');
    if (slash)
        snprintf(pkg, sizeof pkg, "%.*s", slash == src ? 1 : (int)(slash - src), src);
    else
        snprintf(pkg, sizeof pkg, ".");
    snprintf(yaml, sizeof yaml, "%s/model.yaml", pkg);
    if (!exists(yaml))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: calibration from audio files runs the model package the ONNX file "
                        "is in, and %s has no model.yaml (give an .npz file instead)", dir, pkg);
    av__calib_audio_request r = {.audio_dir = dir, .package_dir = pkg,
                                 .component = req->component, .g = m->g,
                                 .max_batches = req->cfg->calib.batches,
                                 .threads = req->o->threads};
    int files = 0;
    double t0 = now_s();
    av_status st = av__calib_audio_collect(&r, &in->t, &in->n_batches, &files, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    in->n_in = m->g->n_inputs;
    snprintf(in->source, sizeof in->source, "%d audio file%s in %s (%d batch%s)", files,
             files == 1 ? "" : "s", dir, in->n_batches, in->n_batches == 1 ? "" : "es");
    say(req, "calibration data: %s: the %s inputs of the float32 conversion pipeline of %s "
             "(%.1f s)", in->source, req->component, pkg, now_s() - t0);
    return AV_STATUS_OK;
}

static av_status load_inputs(const av_model *m, const av__build_request *req, inputs *in,
                             char *err, size_t err_size)
{
    const char *path = req->o->calib_path;
    if (path)
        return is_dir(path) ? load_audio(m, req, path, in, err, err_size)
                            : load_npz(m, req, path, in, err, err_size);
    path = req->cfg->calib.data;
    if (path && is_dir(path))
        return load_audio(m, req, path, in, err, err_size);
    if (path && exists(path))
        return load_npz(m, req, path, in, err, err_size);
    if (path)
        say(req, "calibration data %s (from the configuration) does not exist: using synthetic "
                 "inputs", path);
    return synthetic(m, req, in, err, err_size);
}

/* ---- sessions -------------------------------------------------------------------------------- */

static av_status run_batch(av_session *s, const av_model *m, const inputs *in, int b,
                           char *err, size_t err_size)
{
    const av__graph *g = m->g;
    for (int i = 0; i < g->n_inputs; i++) {
        const av__tensor *t = &in->t[b * in->n_in + i];
        if (av_session_set_input(s, g->values[g->inputs[i]].name, (av_dtype)t->dtype, t->ndim,
                                 t->shape, t->data) != AV_STATUS_OK)
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%s",
                            av_session_last_error(s));
    }
    av_status st = av_session_run(s);
    if (st != AV_STATUS_OK)
        av__fail(err, err_size, st, "%s", av_session_last_error(s));
    return st;
}

static av_status open_session(const av_model *m, int threads, av_session **s, char *err,
                              size_t err_size)
{
    av_session_config c = av_session_config_default();
    c.threads = threads;
    return av_session_create(m, &c, s, err, err_size);
}

/* ---- observers ------------------------------------------------------------------------------- */

/* Runs FusedConv node `node` on these inputs into *y (allocated here). */
static av_status run_node(const av__node *node, int64_t opset, int n_in,
                          const av__tensor *const *in, av__tensor *y, av__threadpool *pool,
                          char *err, size_t err_size)
{
    const av__op *op = av__op_find(node->domain, node->op_type);
    const av__op_stateful *sop = av__op_stateful_of(op);
    if (!sop)
        return av__fail(err, err_size, AV_STATUS_INTERNAL, "no stateful op %s", node->op_type);
    memset(y, 0, sizeof *y);
    av__tensor *outs[1] = {y};
    av__op_ctx ctx = {.node = node, .opset = opset, .n_in = n_in, .in = in, .n_out = 1,
                      .out = outs, .pool = pool, .err = err, .err_size = err_size};
    void *scratch = NULL;
    av_status st = op->infer(&ctx);
    if (st == AV_STATUS_OK)
        st = sop->prepare(&ctx, &ctx.state);
    if (st == AV_STATUS_OK && !(y->data = av__aligned_alloc(av__tensor_bytes(y))))
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    size_t sb = st == AV_STATUS_OK ? op->scratch_bytes(&ctx) : 0;
    if (sb && !(ctx.scratch = scratch = av__aligned_alloc(sb)))
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    if (st == AV_STATUS_OK)
        st = op->run(&ctx);
    sop->release(ctx.state);
    av__aligned_free(scratch);
    if (st != AV_STATUS_OK) {
        av__aligned_free(y->data);
        y->data = NULL;
    }
    return st;
}

/* First run: shapes of every value, and whether oneDNN takes each Conv / ConvTranspose. */
typedef struct probe {
    const av__graph *g;
    av__tensor *shapes;
    unsigned char *usable;
} probe;

static av_status probe_observe(void *user, int n, int n_in, const av__tensor *const *in,
                               int n_out, av__tensor *const *out, char *err, size_t err_size)
{
    probe *p = user;
    const av__node *node = &p->g->nodes[n];
    for (int o = 0; o < n_out; o++)
        if (out[o] && node->outputs[o] >= 0) {
            p->shapes[node->outputs[o]] = *out[o];
            p->shapes[node->outputs[o]].data = NULL;
        }
    for (int i = 0; i < n_in; i++)
        if (in[i] && node->inputs[i] >= 0 && p->shapes[node->inputs[i]].ndim < 0) {
            p->shapes[node->inputs[i]] = *in[i];
            p->shapes[node->inputs[i]].data = NULL;
        }
    if (!av__build_conv_candidate(p->g, node) || in[0]->dtype != AV__DT_F32)
        return AV_STATUS_OK;
    av__dnnl_conv_desc d;
    memset(&d, 0, sizeof d);
    char msg[512];
    av__op_ctx ctx = {.node = node, .opset = p->g->opset, .n_in = n_in, .in = in,
                      .n_out = n_out, .out = out, .err = msg, .err_size = sizeof msg};
    if (av__conv_params_get(&ctx, !strcmp(node->op_type, "ConvTranspose"), &d.p) != AV_STATUS_OK)
        return AV_STATUS_OK;
    d.channels_last = 1;
    d.precision = AV_PRECISION_FP32;
    d.x_type = d.y_type = AV__DT_F32;
    d.x_zero = -1;
    av__dnnl_conv *c = NULL;
    const av__tensor *b = n_in > 2 ? in[2] : NULL;
    av_status st = av__dnnl_conv_create(&d, in[1]->data, b ? b->data : NULL, 1, &c, msg,
                                        sizeof msg);
    av__dnnl_conv_free(c);
    if (st == AV_STATUS_OK)
        p->usable[n] = 1;
    else if (st == AV_STATUS_OUT_OF_MEMORY)
        return av__fail(err, err_size, st, "%s", msg);
    return AV_STATUS_OK;
}

/* Calibration: activation statistics of every int8 convolution's input value. */
typedef struct calib {
    const av__graph *g;
    int *col;                       /* per value: collector index, -1 none */
    av__calib_collector **collectors;
    int *stamp;                     /* per value: the run that last observed it */
    char **failed;                  /* per collector: why it cannot calibrate, or NULL */
    int run, pass;
} calib;

static av_status calib_observe(void *user, int n, int n_in, const av__tensor *const *in,
                               int n_out, av__tensor *const *out, char *err, size_t err_size)
{
    (void)n_out;
    (void)out;
    calib *c = user;
    const av__node *node = &c->g->nodes[n];
    /* a calibrated value is seen where a node reads it, once per run */
    for (int i = 0; i < n_in; i++) {
        int v = node->inputs[i], k = v >= 0 ? c->col[v] : -1;
        if (k < 0 || c->stamp[v] == c->run || in[i]->dtype != AV__DT_F32 || c->failed[k])
            continue;
        c->stamp[v] = c->run;
        size_t count = (size_t)av__tensor_count(in[i]);
        av_status st = c->pass == 1 ? av__calib_collector_observe_range(c->collectors[k],
                                                                         in[i]->data, count, err,
                                                                         err_size)
                                    : av__calib_collector_observe_histogram(
                                          c->collectors[k], in[i]->data, count, err, err_size);
        if (st == AV_STATUS_INVALID_ARGUMENT) { /* non-finite values: that tensor stays bf16 */
            size_t len = strlen(err) + 1;
            if (!(c->failed[k] = av__malloc(len)))
                return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            memcpy(c->failed[k], err, len);
        } else if (st != AV_STATUS_OK) {
            return st;
        }
    }
    return AV_STATUS_OK;
}

/* Per-layer check: each int8 candidate re-run alone in int8 on its float32 inputs. */
typedef struct layer_check {
    const av__graph *g;
    const unsigned char *want;
    const float *x_scale;
    const int *x_zero;
    double *snr;
    av__threadpool *pool;
} layer_check;

static double snr_db(const float *ref, const float *x, int64_t n)
{
    double s = 0, e = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)x[i] - ref[i];
        s += (double)ref[i] * ref[i];
        e += d * d;
    }
    if (e == 0)
        return INFINITY;
    return s > 0 ? 10 * log10(s / e) : -INFINITY;
}

static av_status check_observe(void *user, int n, int n_in, const av__tensor *const *in,
                               int n_out, av__tensor *const *out, char *err, size_t err_size)
{
    (void)n_out;
    layer_check *c = user;
    if (!c->want[n] || !(c->x_scale[n] > 0)) /* not int8, or not calibrated */
        return AV_STATUS_OK;
    const av__node *node = &c->g->nodes[n];
    av__node *v = av__build_node_variant(node, AV_PRECISION_INT8, c->x_scale[n], c->x_zero[n]);
    if (!v)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    av__tensor y;
    char msg[512];
    av_status st = run_node(v, c->g->opset, n_in, in, &y, c->pool, msg, sizeof msg);
    av__build_node_free(v);
    if (st != AV_STATUS_OK)
        return av__fail(err, err_size, st, "node '%s' in int8: %s", node->name, msg);
    c->snr[n] = snr_db(out[0]->data, y.data, av__tensor_count(out[0]));
    av__aligned_free(y.data);
    return AV_STATUS_OK;
}

/* ---- accuracy -------------------------------------------------------------------------------- */

typedef struct acc {
    double max_abs, sum_abs, sum_sq_err, sum_sq_ref, sx, sy, sxx, syy, sxy;
    int64_t n;
} acc;

static void acc_add(acc *a, const float *ref, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double r = ref[i], v = x[i], d = fabs(v - r);
        a->max_abs = d > a->max_abs || d != d ? d : a->max_abs;
        a->sum_abs += d;
        a->sum_sq_err += d * d;
        a->sum_sq_ref += r * r;
        a->sx += r;
        a->sy += v;
        a->sxx += r * r;
        a->syy += v * v;
        a->sxy += r * v;
    }
    a->n += n;
}

/* Runs `ref` and `m2` on the first batches and reports the metrics per output. */
static av_status accuracy(const av__build_request *req, const av_model *ref, const av_model *m2,
                          const inputs *in, int threads, char *err, size_t err_size)
{
    const av__graph *g = ref->g;
    av_session *s1 = NULL, *s2 = NULL;
    acc *a = av__calloc((size_t)g->n_outputs + 1, sizeof *a);
    av_status st = a ? AV_STATUS_OK : AV_STATUS_OUT_OF_MEMORY;
    if (st != AV_STATUS_OK) {
        av__fail(err, err_size, st, "out of memory");
        goto done;
    }
    if ((st = open_session(ref, threads, &s1, err, err_size)) != AV_STATUS_OK ||
        (st = open_session(m2, threads, &s2, err, err_size)) != AV_STATUS_OK)
        goto done;
    int batches = in->n_batches < REPORT_BATCHES ? in->n_batches : REPORT_BATCHES;
    double t_ref = 0, t_new = 0;
    for (int b = 0; b < batches; b++) {
        double t0 = now_s();
        if ((st = run_batch(s1, ref, in, b, err, err_size)) != AV_STATUS_OK)
            goto done;
        double t1 = now_s();
        if ((st = run_batch(s2, m2, in, b, err, err_size)) != AV_STATUS_OK)
            goto done;
        t_ref += t1 - t0;
        t_new += now_s() - t1;
        for (int o = 0; o < g->n_outputs; o++) {
            const char *name = g->values[g->outputs[o]].name;
            av_tensor x, y;
            if (av_session_get_output(s1, name, &x) != AV_STATUS_OK ||
                av_session_get_output(s2, name, &y) != AV_STATUS_OK) {
                st = av__fail(err, err_size, AV_STATUS_INTERNAL, "output '%s' missing", name);
                goto done;
            }
            if (x.dtype != AV_DTYPE_FLOAT32 || y.dtype != AV_DTYPE_FLOAT32)
                continue;
            int64_t n = 1;
            for (int d = 0; d < x.ndim; d++)
                n *= x.shape[d];
            acc_add(&a[o], x.data, y.data, n);
        }
    }
    say(req, "accuracy against the float32 model on %d batch%s of %s (first run, including "
             "planning: float32 %.3f s, this plan %.3f s):",
        batches, batches == 1 ? "" : "es", in->source, t_ref, t_new);
    say(req, "  %-24s %12s %12s %12s %10s %8s", "output", "max abs", "mean abs", "RMSE",
        "Pearson", "SNR dB");
    for (int o = 0; o < g->n_outputs; o++) {
        const acc *c = &a[o];
        if (!c->n)
            continue;
        double nn = (double)c->n;
        double cov = c->sxy / nn - c->sx / nn * c->sy / nn;
        double vx = c->sxx / nn - c->sx / nn * c->sx / nn;
        double vy = c->syy / nn - c->sy / nn * c->sy / nn;
        double pearson = vx > 0 && vy > 0 ? cov / sqrt(vx * vy) : (vx == vy ? 1.0 : 0.0);
        double snr = c->sum_sq_err > 0 ? 10 * log10(c->sum_sq_ref / c->sum_sq_err) : INFINITY;
        say(req, "  %-24s %12.4g %12.4g %12.4g %10.6f %8.1f", g->values[g->outputs[o]].name,
            c->max_abs, c->sum_abs / nn, sqrt(c->sum_sq_err / nn), pearson, snr);
    }
done:
    av_session_free(s1);
    av_session_free(s2);
    av__free(a);
    return st;
}

/* ---- the end-to-end guard -------------------------------------------------------------------- */

/* Copies of a model's float32 outputs on batch 0 (data[o] NULL for other dtypes). */
typedef struct out_copy {
    int n;
    float **data;
    int64_t *count;
} out_copy;

static void out_copy_free(out_copy *c)
{
    for (int o = 0; c->data && o < c->n; o++)
        av__free(c->data[o]);
    av__free(c->data);
    av__free(c->count);
    memset(c, 0, sizeof *c);
}

static av_status run_outputs(const av_model *m, const inputs *in, int threads, out_copy *c,
                             char *err, size_t err_size)
{
    const av__graph *g = m->g;
    av_session *s = NULL;
    memset(c, 0, sizeof *c);
    c->n = g->n_outputs;
    c->data = av__calloc((size_t)c->n + 1, sizeof *c->data);
    c->count = av__calloc((size_t)c->n + 1, sizeof *c->count);
    av_status st = c->data && c->count ? AV_STATUS_OK
                                       : av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                                                  "out of memory");
    if (st == AV_STATUS_OK && (st = open_session(m, threads, &s, err, err_size)) == AV_STATUS_OK)
        st = run_batch(s, m, in, 0, err, err_size);
    for (int o = 0; st == AV_STATUS_OK && o < c->n; o++) {
        av_tensor t;
        if (av_session_get_output(s, g->values[g->outputs[o]].name, &t) != AV_STATUS_OK) {
            st = av__fail(err, err_size, AV_STATUS_INTERNAL, "output '%s' missing",
                          g->values[g->outputs[o]].name);
            break;
        }
        if (t.dtype != AV_DTYPE_FLOAT32)
            continue;
        int64_t n = 1;
        for (int d = 0; d < t.ndim; d++)
            n *= t.shape[d];
        c->count[o] = n;
        if (!(c->data[o] = av__malloc((size_t)(n ? n : 1) * sizeof(float)))) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            break;
        }
        memcpy(c->data[o], t.data, (size_t)n * sizeof(float));
    }
    av_session_free(s);
    if (st != AV_STATUS_OK)
        out_copy_free(c);
    return st;
}

/* The lowest SNR (dB) of m's float32 outputs on batch 0 against ref's. */
static av_status worst_snr(const av_model *m, const inputs *in, int threads, const out_copy *ref,
                           double *worst, char *err, size_t err_size)
{
    out_copy c;
    av_status st = run_outputs(m, in, threads, &c, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    *worst = INFINITY;
    for (int o = 0; o < c.n && o < ref->n; o++)
        if (c.data[o] && ref->data[o] && c.count[o] == ref->count[o]) {
            double v = snr_db(ref->data[o], c.data[o], c.count[o]);
            if (!(v >= *worst)) /* NaN counts as worst */
                *worst = v;
        }
    out_copy_free(&c);
    return AV_STATUS_OK;
}

/* g_fused (the graph before stage C) with precisions lp as a graph (*g) and model (*m), and
 * stage C's counts. */
static av_status make_variant(const av__graph *g_fused, const av_precision *lp,
                              const float *x_scale, const int *x_zero, av__graph **g,
                              av_model **m, int *chained, int *pre, char *err, size_t err_size)
{
    char msg[1024];
    *g = av__build_graph_clone(g_fused);
    *m = NULL;
    if (!*g)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    av_status st = av__build_set_precision(*g, lp, x_scale, x_zero, chained, pre, err,
                                           err_size);
    av__graph *copy = st == AV_STATUS_OK ? av__build_graph_clone(*g) : NULL;
    if (st == AV_STATUS_OK && !copy)
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    if (st == AV_STATUS_OK && (st = av__model_from_graph(copy, NULL, 0, m, msg, sizeof msg)) !=
                                  AV_STATUS_OK)
        av__fail(err, err_size, st, "a mixed-precision graph: %s", msg);
    if (st != AV_STATUS_OK) {
        av__graph_free(*g);
        *g = NULL;
    }
    return st;
}

/* Stage C's result (*g1, *m2) against the end-to-end bound: when its worst output is below it,
 * the first k of the reduced-precision convolutions (graph order) go back to fp32, k the
 * smallest that meets the bound (bisection: error made early passes through every later layer,
 * which is where a per-layer check misses it, e.g. a spectrum front end in bf16). Replaces
 * *g1 / *m2 and updates lp when it restores any. */
static av_status end_to_end_guard(const av__build_request *req, const av__graph *g_fused,
                                  const av_model *ref_model, const inputs *in, int threads,
                                  double bound, av_precision *lp, const float *x_scale,
                                  int *x_zero, unsigned char *restored, av__graph **g1,
                                  av_model **m2, int *chained, int *pre, char *err,
                                  size_t err_size)
{
    const int nn = g_fused->n_nodes;
    out_copy ref = {0};
    int *reduced = NULL;
    av_precision *lp2 = NULL;
    int *xz2 = NULL;
    av__graph *good_g = NULL;
    av_model *good_m = NULL;
    double worst;
    av_status st = run_outputs(ref_model, in, threads, &ref, err, err_size);
    if (st == AV_STATUS_OK)
        st = worst_snr(*m2, in, threads, &ref, &worst, err, err_size);
    if (st != AV_STATUS_OK)
        goto done;
    if (worst >= bound) {
        say(req, "end to end: worst output %.1f dB against float32 on the first batch (bound "
                 "%.0f dB)", worst, bound);
        goto done;
    }
    reduced = av__calloc((size_t)nn + 1, sizeof *reduced);
    lp2 = av__calloc((size_t)nn + 1, sizeof *lp2);
    xz2 = av__calloc((size_t)nn + 1, sizeof *xz2);
    if (!reduced || !lp2 || !xz2) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    int n_red = 0;
    for (int n = 0; n < nn; n++)
        if (lp[n] != AV_PRECISION_FP32)
            reduced[n_red++] = n;
    say(req, "end to end: worst output %.1f dB against float32 on the first batch, below the "
             "bound of %.0f dB: finding the fewest leading convolutions to keep in fp32 (of %d)",
        worst, bound, n_red);
    /* lo: known below the bound (nothing restored); hi: the answer so far (all restored, or
     * a probe that met the bound, kept in good_*) */
    int lo = 0, hi = n_red, good_k = -1, probes = 0, good_chained = 0, good_pre = 0;
    double good_snr = NAN;
    for (;;) {
        int k = hi - lo > 1 ? (lo + hi) / 2 : hi;
        if (k == hi && good_k == hi)
            break;
        memcpy(lp2, lp, (size_t)nn * sizeof *lp2);
        memcpy(xz2, x_zero, (size_t)nn * sizeof *xz2);
        for (int i = 0; i < k; i++) {
            lp2[reduced[i]] = AV_PRECISION_FP32;
            xz2[reduced[i]] = -1;
        }
        av__graph *g = NULL;
        av_model *m = NULL;
        double v;
        int ch, pr;
        if ((st = make_variant(g_fused, lp2, x_scale, xz2, &g, &m, &ch, &pr, err, err_size)) !=
                AV_STATUS_OK ||
            (st = worst_snr(m, in, threads, &ref, &v, err, err_size)) != AV_STATUS_OK) {
            av__graph_free(g);
            av_model_free(m);
            goto done;
        }
        probes++;
        say(req, "  first %d of %d in fp32: %.1f dB", k, n_red, v);
        if (v >= bound || k == hi) { /* k == hi: the answer, even if still below */
            hi = k;
            good_k = k;
            av__graph_free(good_g);
            av_model_free(good_m);
            good_g = g;
            good_m = m;
            good_snr = v;
            good_chained = ch;
            good_pre = pr;
        } else {
            lo = k;
            av__graph_free(g);
            av_model_free(m);
        }
    }
    for (int i = 0; i < hi; i++) {
        lp[reduced[i]] = AV_PRECISION_FP32;
        x_zero[reduced[i]] = -1;
        restored[reduced[i]] = 1;
    }
    *chained = good_chained;
    *pre = good_pre;
    say(req, "end to end: %d convolution%s back in fp32: worst output %.1f dB (%d trial "
             "builds)%s",
        hi, hi == 1 ? "" : "s", good_snr, probes,
        good_snr >= bound ? "" : "; still below the bound with every convolution in fp32");
    av__graph_free(*g1);
    av_model_free(*m2);
    *g1 = good_g;
    *m2 = good_m;
    good_g = NULL;
    good_m = NULL;
done:
    out_copy_free(&ref);
    av__free(reduced);
    av__free(lp2);
    av__free(xz2);
    av__graph_free(good_g);
    av_model_free(good_m);
    return st;
}

/* Plans sessions at the profiles' min and max shapes: every primitive must exist there. */
static av_status check_range(const av_model *m, const av__build_request *req, int threads,
                             char *err, size_t err_size)
{
    const av__graph *g = m->g;
    if (req->n_profiles < g->n_inputs)
        return AV_STATUS_OK; /* some input has no range */
    av_status st = AV_STATUS_OK;
    for (int end = 0; end < 2 && st == AV_STATUS_OK; end++) {
        av_session *s = NULL;
        void *zeros[AV_MAX_DIMS * 4] = {0};
        int n_zero = 0;
        if ((st = open_session(m, threads, &s, err, err_size)) != AV_STATUS_OK)
            break;
        for (int k = 0; k < req->n_profiles && st == AV_STATUS_OK; k++) {
            const av__build_shape *p = &req->profiles[k];
            int v = av__graph_find_value(g, p->input);
            av__tensor t = {.dtype = v >= 0 ? g->values[v].dtype : AV__DT_F32, .ndim = p->ndim};
            for (int d = 0; d < p->ndim; d++)
                t.shape[d] = end ? p->max[d] : p->min[d];
            void *z = n_zero < (int)(sizeof zeros / sizeof zeros[0])
                          ? av__aligned_alloc(av__tensor_bytes(&t)) : NULL;
            if (!z) {
                st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
                break;
            }
            zeros[n_zero++] = z;
            memset(z, 0, av__tensor_bytes(&t));
            if (av_session_set_input(s, p->input, (av_dtype)t.dtype, t.ndim, t.shape, z) !=
                AV_STATUS_OK)
                st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%s",
                              av_session_last_error(s));
        }
        if (st == AV_STATUS_OK && (st = av_session_prepare(s)) != AV_STATUS_OK)
            av__fail(err, err_size, st, "at the profiles' %s shapes: %s", end ? "max" : "min",
                     av_session_last_error(s));
        av_session_free(s);
        for (int i = 0; i < n_zero; i++)
            av__aligned_free(zeros[i]);
    }
    return st;
}

/* ---- calibration ----------------------------------------------------------------------------- */

/* Calibrates value calib_value[n] of every node n with want[n]; x_scale[n] gets its scale
 * (threshold / 127). */
static av_status calibrate(const av__build_request *req, const av_model *m1, const inputs *in,
                           const unsigned char *want, const int *calib_value, float *x_scale,
                           int threads, char *err, size_t err_size)
{
    const av__graph *g = m1->g;
    const av_plan_options *o = req->o;
    av__calib_options copt = av__calib_options_default();
    copt.method = req->cfg->calib.method;
    copt.percentile = req->cfg->calib.percentile;
    if (o->calib_method) {
        int k = av__calib_method_from_name(o->calib_method);
        if (k < 0)
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "unknown calibration method '%s' (entropy, minmax, percentile)",
                            o->calib_method);
        copt.method = (av__calib_method)k;
    }
    calib c = {.g = g};
    int n_col = 0;
    const char **names = NULL;
    float *scales = NULL;
    av_session *s = NULL;
    av_status st = AV_STATUS_OK;
    c.col = av__malloc(((size_t)g->n_values + 1) * sizeof *c.col);
    c.stamp = av__calloc((size_t)g->n_values + 1, sizeof *c.stamp);
    c.collectors = av__calloc((size_t)g->n_nodes + 1, sizeof *c.collectors);
    c.failed = av__calloc((size_t)g->n_nodes + 1, sizeof *c.failed);
    names = av__calloc((size_t)g->n_nodes + 1, sizeof *names);
    scales = av__calloc((size_t)g->n_nodes + 1, sizeof *scales);
    if (!c.col || !c.stamp || !c.collectors || !c.failed || !names || !scales) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (int v = 0; v < g->n_values; v++)
        c.col[v] = -1;
    av__calib_fingerprint fp = AV__CALIB_FINGERPRINT_INIT;
    fp = av__calib_fingerprint_update(fp, &copt.method, sizeof copt.method);
    fp = av__calib_fingerprint_update(fp, &copt.percentile, sizeof copt.percentile);
    for (int n = 0; n < g->n_nodes; n++) {
        if (!want[n])
            continue;
        int v = calib_value[n];
        if (c.col[v] < 0) {
            /* the ONNX tensor's name: a channels-last copy is "<name>#cl" (build_graph.c), and
             * caches name tensors as exporters and TensorRT do */
            const char *name = g->values[v].name, *cl = strstr(name, "#cl");
            size_t len = cl ? (size_t)(cl - name) : strlen(name);
            char *copy = av__malloc(len + 1);
            if (!copy) {
                st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
                goto done;
            }
            memcpy(copy, name, len);
            copy[len] = '\0';
            for (int k = 0; k < n_col && c.col[v] < 0; k++)
                if (!strcmp(names[k], copy)) /* both layouts of one tensor: one collector */
                    c.col[v] = k;
            if (c.col[v] >= 0) {
                av__free(copy);
            } else {
                c.col[v] = n_col;
                names[n_col++] = copy;
                fp = av__calib_fingerprint_update(fp, copy, len + 1);
                if ((st = av__calib_collector_create(copy, &copt, &c.collectors[n_col - 1], err,
                                                     err_size)) != AV_STATUS_OK)
                    goto done;
            }
        }
        const av__tensor *w = &g->values[g->nodes[n].inputs[1]].constant;
        fp = av__calib_fingerprint_update(fp, w->data, av__tensor_bytes(w));
    }
    for (int i = 0; i < in->n_batches * in->n_in; i++) {
        fp = av__calib_fingerprint_update(fp, in->t[i].shape, sizeof in->t[i].shape);
        fp = av__calib_fingerprint_update(fp, in->t[i].data, av__tensor_bytes(&in->t[i]));
    }
    /* the cache: explicit, else the configuration's cache_dir/<component>.calib */
    char cache[4096] = "";
    if (o->calib_cache)
        snprintf(cache, sizeof cache, "%s", o->calib_cache);
    else if (req->cfg->calib.cache_dir && is_dir(req->cfg->calib.cache_dir))
        snprintf(cache, sizeof cache, "%s/%s.calib", req->cfg->calib.cache_dir,
                 req->component && req->component[0] ? req->component : "model");
    char msg[1024];
    if (cache[0] && exists(cache)) {
        st = av__calib_cache_read(cache, names, (size_t)n_col, &fp, scales, NULL, msg, sizeof msg);
        if (st == AV_STATUS_OK) {
            say(req, "calibration: %d tensors from the cache %s", n_col, cache);
            goto scales_ready;
        }
        if (o->calib_cache) { /* the user's file: never overwritten silently */
            av__fail(err, err_size, st, "%s (delete it or give another --calib-cache)", msg);
            goto done;
        }
        say(req, "calibration cache not used: %s", msg);
        st = AV_STATUS_OK;
    }
    if ((st = open_session(m1, threads, &s, err, err_size)) != AV_STATUS_OK)
        goto done;
    av__session_set_observer(s, calib_observe, &c);
    int passes = n_col ? av__calib_collector_passes(c.collectors[0]) : 0;
    double t0 = now_s();
    for (c.pass = 1; c.pass <= passes; c.pass++)
        for (int b = 0; b < in->n_batches; b++) {
            c.run++;
            if ((st = run_batch(s, m1, in, b, err, err_size)) != AV_STATUS_OK)
                goto done;
        }
    int n_failed = 0;
    for (int k = 0; k < n_col; k++) {
        av__calib_result r;
        if (c.failed[k]) {
            say(req, "calibration of '%s' failed, its convolutions stay bf16: %s", names[k],
                c.failed[k]);
            scales[k] = 1.0f; /* a placeholder for the cache; the layers do not use it */
            n_failed++;
            continue;
        }
        if ((st = av__calib_collector_finish(c.collectors[k], &r, err, err_size)) != AV_STATUS_OK)
            goto done;
        scales[k] = r.scale;
    }
    say(req, "calibration: %d tensors, %s, %d pass%s over %s in %.1f s", n_col,
        av__calib_method_name(copt.method), passes, passes == 1 ? "" : "es", in->source,
        now_s() - t0);
    if (cache[0] && !n_failed) {
        st = av__calib_cache_write(cache, AV__CALIB_CACHE_TRT_VERSION, copt.method, names, scales,
                                   (size_t)n_col, &fp, msg, sizeof msg);
        if (st == AV_STATUS_OK)
            say(req, "calibration cache written: %s", cache);
        else
            say(req, "calibration cache not written: %s", msg);
        st = AV_STATUS_OK;
    }
scales_ready:
    for (int n = 0; n < g->n_nodes; n++)
        if (want[n])
            x_scale[n] = c.failed[c.col[calib_value[n]]] ? 0.0f : scales[c.col[calib_value[n]]];
done:
    av_session_free(s);
    for (int k = 0; k < n_col; k++) {
        av__calib_collector_free(c.collectors[k]);
        av__free(c.failed[k]);
    }
    av__free(c.failed);
    av__free(c.collectors);
    av__free(c.col);
    av__free(c.stamp);
    for (int k = 0; names && k < n_col; k++)
        av__free((void *)(uintptr_t)names[k]);
    av__free(names);
    av__free(scales);
    return st;
}

/* ---- the driver ------------------------------------------------------------------------------ */

static void describe_conv(const av__graph *g, const av__node *node, char *out, size_t size)
{
    const av__tensor *w = &g->values[node->inputs[1]].constant;
    int transpose = (int)av__attr_int(node, "transpose", 0);
    int64_t group = av__attr_int(node, "group", 1);
    int64_t cin = transpose ? w->shape[0] : w->shape[1] * group;
    int64_t cout = transpose ? w->shape[1] * group : w->shape[0];
    snprintf(out, size, "%s %lld->%lld k%lld%s", transpose ? "ConvTranspose" : "Conv",
             (long long)cin, (long long)cout, (long long)w->shape[2],
             w->ndim > 3 ? "x.." : "");
}

av_status av__build_graph(const av_model *m, const av__build_request *req, av__graph **out,
                          char *err, size_t err_size)
{
    *out = NULL;
    const av__graph *g0 = m->g;
    const av_plan_options *o = req->o;
    av_precision prec = req->precision == AV_PRECISION_BEST ? AV_PRECISION_INT8 : req->precision;
    int threads = o->threads;
    if (prec == AV_PRECISION_FP32 && !o->tactics) {
        *out = av__build_graph_clone(g0);
        return *out ? AV_STATUS_OK
                    : av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    if (prec == AV_PRECISION_FP16)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "fp16 plans are not implemented on the CPU (bf16 is: --precision bf16)");
    if (prec == AV_PRECISION_BF16 && !av__dnnl_cpu_has_bf16())
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "this CPU lacks AVX512-BF16, which bf16 plans need; build them on (and "
                        "for) a CPU that has it");
    if (prec == AV_PRECISION_INT8 && !av__dnnl_cpu_has_int8())
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "this CPU lacks AVX512-VNNI, which int8 plans need; build them on (and "
                        "for) a CPU that has it");
    int has_bf16 = av__dnnl_cpu_has_bf16();

    inputs in = {0};
    probe pr = {.g = g0};
    av__graph *g1 = NULL, *g_fused = NULL;
    av_model *m1 = NULL, *m2 = NULL;
    av_session *s = NULL;
    av__threadpool *pool = NULL;
    unsigned char *kept = NULL, *want = NULL, *e2e = NULL;
    const char **why = NULL;
    av_precision *lp = NULL;
    float *x_scale = NULL, *x_alpha = NULL;
    int *x_zero = NULL, *calib_value = NULL;
    double *snr = NULL;
    char msg[1024];
    av_status st = load_inputs(m, req, &in, err, err_size);
    if (st != AV_STATUS_OK)
        goto done;

    /* 1. shapes and oneDNN's verdict per convolution, from one float32 run */
    pr.shapes = av__calloc((size_t)g0->n_values + 1, sizeof *pr.shapes);
    pr.usable = av__calloc((size_t)g0->n_nodes + 1, 1);
    if (!pr.shapes || !pr.usable)
        goto oom;
    for (int v = 0; v < g0->n_values; v++) {
        pr.shapes[v].ndim = -1;
        if (g0->values[v].flags & AV__VALUE_CONST) {
            pr.shapes[v] = g0->values[v].constant;
            pr.shapes[v].data = NULL;
        }
    }
    if ((st = open_session(m, threads, &s, err, err_size)) != AV_STATUS_OK)
        goto done;
    av__session_set_observer(s, probe_observe, &pr);
    if ((st = run_batch(s, m, &in, 0, err, err_size)) != AV_STATUS_OK)
        goto done;
    av_session_free(s);
    s = NULL;
    for (int i = 0; i < g0->n_inputs; i++) {
        pr.shapes[g0->inputs[i]] = in.t[i];
        pr.shapes[g0->inputs[i]].data = NULL;
    }

    av__build_fuse_stats fs;
    if (prec == AV_PRECISION_FP32) { /* tactics: per layer (1), or oneDNN untimed (2) */
        st = av__build_choose_tactics(m, req, in.t, pr.shapes, pr.usable, err, err_size);
        if (st != AV_STATUS_OK)
            goto done;
        int any = 0;
        for (int n = 0; n < g0->n_nodes; n++)
            any |= pr.usable[n];
        if (!(g1 = av__build_graph_clone(g0)))
            goto oom;
        if (any && (st = av__build_fuse_convs(g1, pr.shapes, pr.usable, &fs, err, err_size)) !=
                       AV_STATUS_OK)
            goto done;
        if (any)
            say(req, "oneDNN convolutions: %d (with %d elementwise nodes fused into them), %d "
                     "transposes at the channels-last regions' edges",
                fs.convs, fs.steps, fs.transposes);
        else
            say(req, "every convolution keeps im2col + SGEMM: the plan computes as the ONNX "
                     "file does");
        *out = g1;
        g1 = NULL;
        goto done;
    }

    /* 2. stage A */
    if (!(g1 = av__build_graph_clone(g0)))
        goto oom;
    if ((st = av__build_fuse_convs(g1, pr.shapes, pr.usable, &fs, err, err_size)) != AV_STATUS_OK)
        goto done;
    say(req, "oneDNN convolutions: %d (with %d elementwise nodes fused into them), %d "
             "transposes at the channels-last region's edges",
        fs.convs, fs.steps, fs.transposes);
    {
        av__graph *copy = av__build_graph_clone(g1);
        if (!copy)
            goto oom;
        if ((st = av__model_from_graph(copy, NULL, 0, &m1, msg, sizeof msg)) != AV_STATUS_OK) {
            av__fail(err, err_size, st, "the fused graph: %s", msg);
            goto done;
        }
    }

    /* 3. precision per FusedConv */
    const int nn = g1->n_nodes;
    kept = av__calloc((size_t)nn + 1, 1);
    want = av__calloc((size_t)nn + 1, 1);
    why = av__calloc((size_t)nn + 1, sizeof *why);
    lp = av__calloc((size_t)nn + 1, sizeof *lp);
    x_scale = av__calloc((size_t)nn + 1, sizeof *x_scale);
    snr = av__calloc((size_t)nn + 1, sizeof *snr);
    x_alpha = av__calloc((size_t)nn + 1, sizeof *x_alpha);
    x_zero = av__calloc((size_t)nn + 1, sizeof *x_zero);
    e2e = av__calloc((size_t)nn + 1, 1);
    calib_value = av__calloc((size_t)nn + 1, sizeof *calib_value);
    if (!kept || !want || !why || !lp || !x_scale || !snr || !x_alpha || !x_zero || !calib_value ||
        !e2e)
        goto oom;
    for (int n = 0; n < nn; n++)
        x_zero[n] = -1;
    const av__build_keep *keep = req->component ? av__build_config_keep(req->cfg, req->component)
                                                : NULL;
    if ((st = av__build_keep_nodes(g1, keep, kept, why, err, err_size)) != AV_STATUS_OK)
        goto done;
    av_precision kept_prec = prec == AV_PRECISION_INT8 && has_bf16 ? AV_PRECISION_BF16
                                                                    : AV_PRECISION_FP32;
    int n_fused = 0;
    for (int n = 0; n < nn; n++) {
        const av__node *node = &g1->nodes[n];
        lp[n] = AV_PRECISION_FP32;
        if (strcmp(node->op_type, AV__FUSED_CONV_OP) != 0)
            continue;
        n_fused++;
        lp[n] = kept[n] ? kept_prec : prec;
        want[n] = lp[n] == AV_PRECISION_INT8;
    }
    double bound = o->int8_min_snr_db > 0 ? o->int8_min_snr_db : DEFAULT_MIN_SNR;
    if (prec == AV_PRECISION_INT8) {
        /* X of a convolution whose input a LeakyRelu / Relu makes (to become its pre step) is
         * quantised asymmetrically: the activation's input x is calibrated (threshold T), and
         * the activation of [-T, T] is [-alpha T, T], uint8 with scale (1 + alpha) T / 255 and
         * zero point round(255 alpha / (1 + alpha)). Other inputs: symmetric int8, [-T, T]. */
        for (int n = 0; n < nn; n++) {
            x_zero[n] = -1;
            calib_value[n] = want[n] ? g1->nodes[n].inputs[0] : -1;
            int p = want[n] ? g1->values[calib_value[n]].producer : -1;
            if (p < 0)
                continue;
            const av__node *act = &g1->nodes[p];
            int leaky = !strcmp(act->op_type, "LeakyRelu"), relu = !strcmp(act->op_type, "Relu");
            if ((!leaky && !relu) || act->domain[0] || act->n_inputs != 1 ||
                (g1->values[act->outputs[0]].flags & AV__VALUE_OUTPUT))
                continue;
            int only_convs = 1; /* its output read only as X of int8 convolutions */
            for (int r = 0; r < nn && only_convs; r++)
                for (int i = 0; i < g1->nodes[r].n_inputs; i++)
                    if (g1->nodes[r].inputs[i] == act->outputs[0] && (!want[r] || i != 0))
                        only_convs = 0;
            float alpha = leaky ? av__attr_float(act, "alpha", 0.01f) : 0.0f;
            if (!only_convs || !(alpha >= 0.0f && alpha < 1.0f))
                continue;
            calib_value[n] = act->inputs[0];
            x_alpha[n] = alpha;
            x_zero[n] = (int)lrintf(255.0f * alpha / (1.0f + alpha));
        }
        if ((st = calibrate(req, m1, &in, want, calib_value, x_scale, threads, err, err_size)) !=
            AV_STATUS_OK)
            goto done;
        for (int n = 0; n < nn; n++)
            if (x_zero[n] >= 0) /* scale = T / 127 -> (1 + alpha) T / 255 */
                x_scale[n] = x_scale[n] * 127.0f * (1.0f + x_alpha[n]) / 255.0f;
        /* each layer alone in int8 on its float32 inputs, first batch */
        layer_check lc = {.g = m1->g, .want = want, .x_scale = x_scale, .x_zero = x_zero,
                          .snr = snr};
        if ((st = av__threadpool_create(threads, &pool)) != AV_STATUS_OK) {
            av__fail(err, err_size, st, "cannot start threads");
            goto done;
        }
        lc.pool = pool;
        if ((st = open_session(m1, threads, &s, err, err_size)) != AV_STATUS_OK)
            goto done;
        av__session_set_observer(s, check_observe, &lc);
        if ((st = run_batch(s, m1, &in, 0, err, err_size)) != AV_STATUS_OK)
            goto done;
        av_session_free(s);
        s = NULL;
        for (int n = 0; n < nn; n++)
            if (want[n] && (!(x_scale[n] > 0) || !(snr[n] >= bound)))
                lp[n] = has_bf16 ? AV_PRECISION_BF16 : AV_PRECISION_FP32;
    }
    /* 4. stage C, the end-to-end guard, checks and the report */
    int chained = 0, n_pre = 0;
    for (int n = 0; n < nn; n++)
        if (lp[n] != AV_PRECISION_INT8)
            x_zero[n] = -1;
    if (!(g_fused = av__build_graph_clone(g1)))
        goto oom;
    if ((st = av__build_set_precision(g1, lp, x_scale, x_zero, &chained, &n_pre, err,
                                      err_size)) != AV_STATUS_OK)
        goto done;
    {
        av__graph *copy = av__build_graph_clone(g1);
        if (!copy)
            goto oom;
        if ((st = av__model_from_graph(copy, NULL, 0, &m2, msg, sizeof msg)) != AV_STATUS_OK) {
            av__fail(err, err_size, st, "the %s graph: %s", av_precision_name(prec), msg);
            goto done;
        }
    }
    {
        double bound_e2e = o->min_output_snr_db != 0 ? o->min_output_snr_db
                           : prec == AV_PRECISION_INT8 ? DEFAULT_E2E_SNR_INT8
                                                       : DEFAULT_E2E_SNR_BF16;
        if (bound_e2e > 0 &&
            (st = end_to_end_guard(req, g_fused, m, &in, threads, bound_e2e, lp, x_scale,
                                   x_zero, e2e, &g1, &m2, &chained, &n_pre, err, err_size)) !=
                AV_STATUS_OK)
            goto done;
    }
    int counts[6] = {0};
    say(req, "layers (%d oneDNN convolutions):", n_fused);
    for (int n = 0; n < nn; n++) {
        const av__node *node = &g_fused->nodes[n]; /* lp[] indexes the graph before stage C */
        if (strcmp(node->op_type, AV__FUSED_CONV_OP) != 0)
            continue;
        char d[128], reason[160] = "";
        describe_conv(g_fused, node, d, sizeof d);
        counts[lp[n]]++;
        if (kept[n])
            snprintf(reason, sizeof reason, "kept (keep_precision: %s)", why[n]);
        else if (e2e[n])
            snprintf(reason, sizeof reason, "kept (end to end)");
        else if (want[n] && !(x_scale[n] > 0))
            snprintf(reason, sizeof reason, "input not calibrated (non-finite values)");
        else if (want[n] && lp[n] != AV_PRECISION_INT8 && !(snr[n] >= bound))
            snprintf(reason, sizeof reason, "int8 SNR %.1f dB < %.0f dB", snr[n], bound);
        else if (want[n] && x_zero[n] >= 0)
            snprintf(reason, sizeof reason, "int8 SNR %.1f dB, X uint8 scale %.4g zero %d",
                     snr[n], x_scale[n], x_zero[n]);
        else if (want[n])
            snprintf(reason, sizeof reason, "int8 SNR %.1f dB, X scale %.4g", snr[n], x_scale[n]);
        say(req, "  %-44s %-26s %-5s %s", node->name, d, av_precision_name(lp[n]), reason);
    }
    say(req, "precision: %d int8, %d bf16, %d fp32 convolutions; every other node fp32",
        counts[AV_PRECISION_INT8], counts[AV_PRECISION_BF16], counts[AV_PRECISION_FP32]);

    say(req, "%d activations folded into the conversion of the next convolution's input, %d "
             "convolutions write %s for the next one",
        n_pre, chained, prec == AV_PRECISION_INT8 ? "int8 (or bf16)" : "bf16");
    if ((st = check_range(m2, req, threads, err, err_size)) != AV_STATUS_OK ||
        (st = accuracy(req, m, m2, &in, threads, err, err_size)) != AV_STATUS_OK)
        goto done;
    *out = g1;
    g1 = NULL;
    goto done;
oom:
    st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
done:
    av_session_free(s);
    av__threadpool_free(pool);
    av_model_free(m1);
    av_model_free(m2);
    av__graph_free(g1);
    av__graph_free(g_fused);
    inputs_free(&in);
    av__free(pr.shapes);
    av__free(pr.usable);
    av__free(kept);
    av__free(want);
    av__free(e2e);
    av__free(why);
    av__free(lp);
    av__free(x_scale);
    av__free(x_alpha);
    av__free(x_zero);
    av__free(calib_value);
    av__free(snr);
    return st;
}
