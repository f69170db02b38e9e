/* Saving plans (layout: engine/plan_format.h): the profiles from the build configuration and the
 * caller, checked against the graph; the source record; the meta and graph sections encoded in
 * memory; then header, sections and weights streamed to PATH.tmp with the checksum computed on
 * the way, fsync, rename. */
#define _POSIX_C_SOURCE 200809L /* fileno, fsync */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/build_config.h"
#include "builder/build_plan.h"
#include "core/internal.h"
#include "engine/engine_internal.h"
#include "engine/plan_format.h"
#include "ops/conv_dnnl.h"

av_plan_options av_plan_options_default(void)
{
    av_plan_options o = {.precision = AV_PRECISION_FP32};
    return o;
}

av_status av_build_config_check(const char *path, char *err, size_t err_size)
{
    if (!path)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "config path is NULL");
    av__build_config cfg;
    av_status st = av__build_config_load(path, &cfg, err, err_size);
    av__build_config_free(&cfg);
    return st;
}

/* ---- encoding ------------------------------------------------------------------------------------ */

typedef struct wb {
    uint8_t *p;
    size_t n, cap;
    int oom;
} wb;

static void wb_bytes(wb *w, const void *d, size_t k)
{
    if (w->oom)
        return;
    if (k > w->cap - w->n) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap - w->n < k) {
            if (cap > SIZE_MAX / 2) {
                w->oom = 1;
                return;
            }
            cap *= 2;
        }
        uint8_t *q = av__realloc(w->p, cap);
        if (!q) {
            w->oom = 1;
            return;
        }
        w->p = q;
        w->cap = cap;
    }
    if (k)
        memcpy(w->p + w->n, d, k);
    w->n += k;
}
/* little-endian hosts only: the loader refuses plans elsewhere */
static void wb_u32(wb *w, uint32_t v) { wb_bytes(w, &v, 4); }
static void wb_u64(wb *w, uint64_t v) { wb_bytes(w, &v, 8); }
static void wb_i64(wb *w, int64_t v) { wb_bytes(w, &v, 8); }
static void wb_f32(wb *w, float v) { wb_bytes(w, &v, 4); }
static void wb_str(wb *w, const char *s, size_t len)
{
    if (len >= 0xffffffffu) { /* cannot be represented */
        w->oom = 1;
        return;
    }
    wb_u32(w, (uint32_t)len);
    wb_bytes(w, s, len);
}
/* A C string, or NULL as "no string". */
static void wb_cstr(wb *w, const char *s)
{
    if (s)
        wb_str(w, s, strlen(s));
    else
        wb_u32(w, 0xffffffffu);
}

static void put_tensor_shape(wb *w, const av__tensor *t)
{
    wb_u32(w, (uint32_t)t->dtype);
    wb_u32(w, (uint32_t)t->ndim);
    for (int k = 0; k < t->ndim; k++)
        wb_i64(w, t->shape[k]);
}

static void put_attr(wb *w, const av__attr *a)
{
    wb_cstr(w, a->name ? a->name : "");
    av__attr_type type = a->type;
    if (type > AV__ATTR_STRINGS || (type == AV__ATTR_TENSOR && !a->t))
        type = AV__ATTR_UNDEFINED;
    wb_u32(w, (uint32_t)type);
    switch (type) {
    case AV__ATTR_FLOAT: wb_f32(w, a->f); break;
    case AV__ATTR_INT: wb_i64(w, a->i); break;
    case AV__ATTR_STRING: wb_str(w, a->s ? a->s : "", a->s ? a->s_len : 0); break;
    case AV__ATTR_FLOATS:
        wb_u32(w, (uint32_t)a->count);
        for (int i = 0; i < a->count; i++)
            wb_f32(w, a->floats[i]);
        break;
    case AV__ATTR_INTS:
        wb_u32(w, (uint32_t)a->count);
        for (int i = 0; i < a->count; i++)
            wb_i64(w, a->ints[i]);
        break;
    case AV__ATTR_STRINGS:
        wb_u32(w, (uint32_t)a->count);
        for (int i = 0; i < a->count; i++)
            wb_cstr(w, a->strings[i] ? a->strings[i] : "");
        break;
    case AV__ATTR_TENSOR: {
        size_t bytes = av__tensor_bytes(a->t);
        put_tensor_shape(w, a->t);
        wb_u64(w, bytes);
        wb_bytes(w, a->t->data, bytes);
        break;
    }
    default: break;
    }
}

/* The graph section; offsets[v] is where constant v goes in the weights section. */
static void put_graph(wb *w, const av__graph *g, const uint64_t *offsets)
{
    wb_cstr(w, g->name);
    wb_cstr(w, g->producer_name);
    wb_i64(w, g->ir_version);
    wb_i64(w, g->opset);
    wb_u32(w, (uint32_t)g->n_values);
    for (int v = 0; v < g->n_values; v++) {
        const av__value *val = &g->values[v];
        wb_cstr(w, val->name);
        wb_u32(w, val->flags);
        wb_u32(w, (uint32_t)val->dtype);
        wb_u32(w, (uint32_t)val->ndim);
        for (int d = 0; d < val->ndim; d++) {
            wb_i64(w, val->dims[d].value);
            wb_cstr(w, val->dims[d].value == -1 ? val->dims[d].param : NULL);
        }
        if (val->flags & AV__VALUE_CONST) {
            put_tensor_shape(w, &val->constant);
            wb_u64(w, offsets[v]);
            wb_u64(w, av__tensor_bytes(&val->constant));
        }
    }
    wb_u32(w, (uint32_t)g->n_inputs);
    for (int i = 0; i < g->n_inputs; i++)
        wb_u32(w, (uint32_t)g->inputs[i]);
    wb_u32(w, (uint32_t)g->n_outputs);
    for (int i = 0; i < g->n_outputs; i++)
        wb_u32(w, (uint32_t)g->outputs[i]);
    wb_u32(w, (uint32_t)g->n_nodes);
    for (int n = 0; n < g->n_nodes; n++) {
        const av__node *node = &g->nodes[n];
        wb_cstr(w, node->name ? node->name : "");
        wb_cstr(w, node->op_type);
        wb_cstr(w, node->domain ? node->domain : "");
        wb_u32(w, (uint32_t)av__node_precision(node));
        wb_u32(w, (uint32_t)node->n_inputs);
        for (int i = 0; i < node->n_inputs; i++)
            wb_u32(w, (uint32_t)node->inputs[i]);
        wb_u32(w, (uint32_t)node->n_outputs);
        for (int i = 0; i < node->n_outputs; i++)
            wb_u32(w, (uint32_t)node->outputs[i]);
        wb_u32(w, (uint32_t)node->n_attrs);
        for (int i = 0; i < node->n_attrs; i++)
            put_attr(w, &node->attrs[i]);
    }
}

/* ---- profiles -------------------------------------------------------------------------------------- */

typedef struct profile {
    const char *input;
    int ndim;
    int64_t min[AV__PLAN_MAX_RANK], opt[AV__PLAN_MAX_RANK], max[AV__PLAN_MAX_RANK];
    const char *origin; /* for messages */
} profile;

static void dims_text(char *out, size_t size, int n, const int64_t *a)
{
    size_t at = 0;
    out[0] = '\0';
    for (int d = 0; d < n && at < size; d++) {
        int k = snprintf(out + at, size - at, "%s%lld", d ? "x" : "", (long long)a[d]);
        if (k < 0)
            break;
        at += (size_t)k;
    }
}

/* Checks one profile against the graph input it names. */
static av_status check_profile(const av__graph *g, const profile *p, char *err, size_t err_size)
{
    const av__value *v = NULL;
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->values[g->inputs[i]].name, p->input))
            v = &g->values[g->inputs[i]];
    if (!v) {
        char names[512] = "";
        for (int i = 0; i < g->n_inputs; i++) {
            strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
            strncat(names, g->values[g->inputs[i]].name, sizeof names - strlen(names) - 1);
        }
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "profile for '%s' (%s): the model has no such input (inputs: %s)",
                        p->input, p->origin, names);
    }
    if (p->ndim < 1 || p->ndim > AV__PLAN_MAX_RANK || (v->ndim >= 0 && v->ndim != p->ndim))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "profile for '%s' (%s) has %d dimensions; the input has %d", p->input,
                        p->origin, p->ndim, v->ndim);
    for (int d = 0; d < p->ndim; d++) {
        if (!(1 <= p->min[d] && p->min[d] <= p->opt[d] && p->opt[d] <= p->max[d]))
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "profile for '%s' (%s): dimension %d needs 1 <= min <= opt <= max, "
                            "got %lld/%lld/%lld", p->input, p->origin, d, (long long)p->min[d],
                            (long long)p->opt[d], (long long)p->max[d]);
        int64_t fixed = v->ndim >= 0 && v->dims[d].value >= 0 && !v->dims[d].param
                            ? v->dims[d].value : -1;
        if (fixed >= 0 && (p->min[d] != fixed || p->max[d] != fixed)) {
            char lo[160], hi[160];
            dims_text(lo, sizeof lo, p->ndim, p->min);
            dims_text(hi, sizeof hi, p->ndim, p->max);
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "profile for '%s' (%s): the model fixes dimension %d at %lld, the "
                            "profile gives %s to %s", p->input, p->origin, d, (long long)fixed,
                            lo, hi);
        }
    }
    return AV_STATUS_OK;
}

/* A plan's own profiles (when the model is one), then the configuration's for the component,
 * then the caller's; each replaces an earlier one of the same input. *out holds pointers into
 * the model, cfg and options. */
static av_status gather_profiles(const av_model *m, const av_plan_options *o,
                                 av__build_config *cfg, profile **out, int *count, char *err,
                                 size_t err_size)
{
    const av__graph *g = m->g;
    av_plan_info info;
    int own = av_model_plan_info(m, &info) == AV_STATUS_OK ? info.n_profiles : 0;
    *out = NULL;
    *count = 0;
    if (o->config_path) {
        if (!o->component || !o->component[0])
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "%s: a build configuration needs a component to take profiles from",
                            o->config_path);
        av_status st = av__build_config_load(o->config_path, cfg, err, err_size);
        if (st != AV_STATUS_OK)
            return st;
    }
    if (o->n_profiles < 0 || (o->n_profiles && !o->profiles))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "bad profile list");
    profile *list = av__calloc((size_t)own + cfg->profile_count + (size_t)o->n_profiles + 1,
                               sizeof *list);
    if (!list)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    int n = 0;
    for (int i = 0; i < own; i++) {
        av_plan_profile ap;
        av_model_plan_profile(m, i, &ap);
        list[n] = (profile){.input = ap.input, .ndim = ap.ndim, .origin = "kept from the plan"};
        memcpy(list[n].min, ap.min, sizeof list[n].min);
        memcpy(list[n].opt, ap.opt, sizeof list[n].opt);
        memcpy(list[n].max, ap.max, sizeof list[n].max);
        n++;
    }
    for (size_t i = 0; i < cfg->profile_count; i++) {
        const av__build_profile *bp = &cfg->profiles[i];
        if (strcmp(bp->component, o->component) != 0)
            continue;
        int at = n;
        for (int k = 0; k < n; k++)
            if (!strcmp(list[k].input, bp->input))
                at = k;
        profile *p = &list[at];
        n += at == n;
        p->input = bp->input;
        p->ndim = bp->rank;
        memcpy(p->min, bp->min, sizeof p->min);
        memcpy(p->opt, bp->opt, sizeof p->opt);
        memcpy(p->max, bp->max, sizeof p->max);
        p->origin = o->config_path;
    }
    for (int i = 0; i < o->n_profiles; i++) {
        const av_plan_profile *ap = &o->profiles[i];
        if (!ap->input || ap->ndim < 1 || ap->ndim > AV__PLAN_MAX_RANK) {
            av__free(list);
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "profile %d: needs an input name and 1 to %d dimensions", i,
                            AV__PLAN_MAX_RANK);
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(o->profiles[j].input, ap->input)) {
                av__free(list);
                return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                                "input '%s' is given two profiles", ap->input);
            }
        int at = n;
        for (int k = 0; k < n; k++)
            if (!strcmp(list[k].input, ap->input))
                at = k;
        profile *p = &list[at];
        memset(p, 0, sizeof *p);
        p->input = ap->input;
        p->ndim = ap->ndim;
        memcpy(p->min, ap->min, (size_t)ap->ndim * sizeof p->min[0]);
        memcpy(p->opt, ap->opt, (size_t)ap->ndim * sizeof p->opt[0]);
        memcpy(p->max, ap->max, (size_t)ap->ndim * sizeof p->max[0]);
        p->origin = "given";
        if (at == n)
            n++;
    }
    for (int i = 0; i < n; i++) {
        av_status st = check_profile(g, &list[i], err, err_size);
        if (st != AV_STATUS_OK) {
            av__free(list);
            return st;
        }
    }
    *out = list;
    *count = n;
    return AV_STATUS_OK;
}

/* ---- writing ---------------------------------------------------------------------------------------- */

static void put_u32_at(uint8_t *h, int off, uint32_t v) { memcpy(h + off, &v, 4); }
static void put_u64_at(uint8_t *h, int off, uint64_t v) { memcpy(h + off, &v, 8); }

typedef struct out_file {
    FILE *f;
    av__xxh64 hash;
    int failed;
} out_file;

static void out_write(out_file *o, const void *d, size_t k)
{
    if (o->failed || !k)
        return;
    av__xxh64_update(&o->hash, d, k);
    if (fwrite(d, 1, k, o->f) != k)
        o->failed = 1;
}

static void out_zeros(out_file *o, size_t k)
{
    static const uint8_t zeros[256];
    while (k) {
        size_t c = k < sizeof zeros ? k : sizeof zeros;
        out_write(o, zeros, c);
        k -= c;
    }
}

static uint64_t align_up(uint64_t x) { return (x + AV__PLAN_WEIGHT_ALIGN - 1) / AV__PLAN_WEIGHT_ALIGN * AV__PLAN_WEIGHT_ALIGN; }

/* Writes the file: header, meta, graph, padding, weights; the checksum goes in last. */
/* The CPU features the nodes' kernels need: oneDNN's bf16 / int8 convolutions are only fast
 * (and only tested) with AVX-512 and AVX512-BF16 / VNNI; every fp32 kernel picks its SIMD
 * variant at run time and needs nothing beyond x86-64. */
static uint64_t cpu_needed(const av__graph *g)
{
    uint64_t need = 0;
    const uint64_t avx512 = AV__PLAN_CPU_AVX512F | AV__PLAN_CPU_AVX512BW | AV__PLAN_CPU_AVX512DQ |
                            AV__PLAN_CPU_AVX512VL;
    for (int n = 0; n < g->n_nodes; n++) {
        av_precision p = av__node_precision(&g->nodes[n]);
        if (p == AV_PRECISION_BF16)
            need |= avx512 | AV__PLAN_CPU_AVX512_BF16;
        else if (p == AV_PRECISION_INT8)
            need |= avx512 | AV__PLAN_CPU_AVX512_VNNI;
    }
    return need;
}

static av_status write_plan(const av__graph *g, const char *path, const wb *meta,
                            const wb *graph, const uint64_t *offsets, uint64_t weights_size,
                            char *err, size_t err_size)
{
    uint8_t h[AV__PLAN_HEADER_SIZE] = {0};
    memcpy(h + AV__PLAN_OFF_MAGIC, AV__PLAN_MAGIC, AV__PLAN_MAGIC_SIZE);
    put_u32_at(h, AV__PLAN_OFF_FORMAT, AV__PLAN_FORMAT_VERSION);
    put_u32_at(h, AV__PLAN_OFF_HEADER_SIZE, AV__PLAN_HEADER_SIZE);
    snprintf((char *)h + AV__PLAN_OFF_LIBRARY, AV__PLAN_LIBRARY_SIZE, "%s", av_version_string());
    uint64_t meta_off = AV__PLAN_HEADER_SIZE, graph_off = meta_off + meta->n;
    uint64_t weights_off = align_up(graph_off + graph->n);
    uint64_t file_size = weights_off + weights_size;
    put_u64_at(h, AV__PLAN_OFF_FILE_SIZE, file_size);
    put_u32_at(h, AV__PLAN_OFF_TARGET_KIND, AV__PLAN_TARGET_CPU_X86_64);
    put_u32_at(h, AV__PLAN_OFF_TARGET_ARCH, 0);
    put_u64_at(h, AV__PLAN_OFF_CPU_NEEDED, cpu_needed(g));
    put_u64_at(h, AV__PLAN_OFF_CPU_BUILT_ON, av__plan_cpu_features());
    put_u64_at(h, AV__PLAN_OFF_META, meta_off);
    put_u64_at(h, AV__PLAN_OFF_META + 8, meta->n);
    put_u64_at(h, AV__PLAN_OFF_GRAPH, graph_off);
    put_u64_at(h, AV__PLAN_OFF_GRAPH + 8, graph->n);
    put_u64_at(h, AV__PLAN_OFF_WEIGHTS, weights_off);
    put_u64_at(h, AV__PLAN_OFF_WEIGHTS + 8, weights_size);

    size_t plen = strlen(path);
    char *tmp = av__malloc(plen + 5);
    if (!tmp)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    snprintf(tmp, plen + 5, "%s.tmp", path);
    av_status st = AV_STATUS_OK;
    out_file o = {.f = fopen(tmp, "wb")};
    if (!o.f) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: cannot create: %s", tmp, strerror(errno));
        goto done;
    }
    av__xxh64_init(&o.hash, 0);
    out_write(&o, h, sizeof h);
    out_write(&o, meta->p, meta->n);
    out_write(&o, graph->p, graph->n);
    out_zeros(&o, (size_t)(weights_off - graph_off - graph->n));
    uint64_t at = 0;
    for (int v = 0; v < g->n_values; v++) {
        if (!(g->values[v].flags & AV__VALUE_CONST))
            continue;
        size_t bytes = av__tensor_bytes(&g->values[v].constant);
        out_zeros(&o, (size_t)(offsets[v] - at));
        out_write(&o, g->values[v].constant.data, bytes);
        at = offsets[v] + bytes;
    }
    out_zeros(&o, (size_t)(weights_size - at));
    uint64_t sum = av__xxh64_digest(&o.hash);
    if (!o.failed && (fseek(o.f, AV__PLAN_OFF_CHECKSUM, SEEK_SET) != 0 ||
                      fwrite(&sum, 8, 1, o.f) != 1))
        o.failed = 1;
    st = av__file_commit(o.f, o.failed, errno, tmp, path, err, err_size);
done:
    av__free(tmp);
    return st;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

av_status av_model_save_plan(const av_model *m, const char *path, const av_plan_options *options,
                             char *err, size_t err_size)
{
    if (!m || !path)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_model_save_plan: NULL argument");
    av_plan_options o = options ? *options : av_plan_options_default();
    if (o.precision < AV_PRECISION_FP32 || o.precision > AV_PRECISION_BEST)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%s: unknown precision %d",
                        path, (int)o.precision);
    if (o.precision == AV_PRECISION_FP16)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "%s: fp16 plans are not implemented on the CPU (bf16 is)", path);
    const av__graph *g = m->g;
    av__graph *built = NULL; /* the builder's graph, when it makes one */
    av_plan_info mine;
    int replan = av_model_plan_info(m, &mine) == AV_STATUS_OK;
    if (!o.component && replan && mine.component[0])
        o.component = mine.component;
    if (o.source_path && same_file(o.source_path, path))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: is the source model itself; choose another output", path);

    av__build_config cfg = av__build_config_default();
    profile *profiles = NULL;
    uint64_t *offsets = NULL;
    wb meta = {0}, graph = {0};
    int n_profiles = 0;
    char msg[1024];
    av_status st = gather_profiles(m, &o, &cfg, &profiles, &n_profiles, msg, sizeof msg);
    if (st != AV_STATUS_OK) {
        av__fail(err, err_size, st, "%s: %s", path, msg);
        goto done;
    }
    if (o.precision != AV_PRECISION_FP32 || o.tactics) {
        if (replan) {
            st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                          "%s: precision and tactics are chosen when building from ONNX; this "
                          "model is a plan already", path);
            goto done;
        }
        av__build_shape *shapes = av__calloc((size_t)n_profiles + 1, sizeof *shapes);
        if (!shapes) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        for (int i = 0; i < n_profiles; i++) {
            shapes[i].input = profiles[i].input;
            shapes[i].ndim = profiles[i].ndim;
            memcpy(shapes[i].min, profiles[i].min, sizeof shapes[i].min);
            memcpy(shapes[i].opt, profiles[i].opt, sizeof shapes[i].opt);
            memcpy(shapes[i].max, profiles[i].max, sizeof shapes[i].max);
        }
        av__build_request req = {.precision = o.precision, .component = o.component,
                                 .cfg = &cfg, .profiles = shapes, .n_profiles = n_profiles,
                                 .o = &o};
        st = av__build_graph(m, &req, &built, msg, sizeof msg);
        av__free(shapes);
        if (st != AV_STATUS_OK) {
            av__fail(err, err_size, st, "%s: %s", path, msg);
            goto done;
        }
        g = built;
    }
    av__plan_source src = {0};
    const char *src_path = "";
    if (o.source_path) {
        if ((st = av__plan_source_stat(o.source_path, &src, err, err_size)) != AV_STATUS_OK)
            goto done;
        src_path = o.source_path;
    } else if (replan) {
        src = (av__plan_source){(uint64_t)mine.source_size, mine.source_mtime_ns, mine.source_hash};
        src_path = mine.source_path;
    }

    wb_cstr(&meta, src_path);
    wb_u64(&meta, src.size);
    wb_i64(&meta, src.mtime_ns);
    wb_u64(&meta, src.hash);
    wb_cstr(&meta, o.component ? o.component : "");
    wb_u32(&meta, (uint32_t)(o.precision == AV_PRECISION_BEST ? AV_PRECISION_INT8 : o.precision));
    wb_u32(&meta, (uint32_t)n_profiles);
    for (int i = 0; i < n_profiles; i++) {
        wb_cstr(&meta, profiles[i].input);
        wb_u32(&meta, (uint32_t)profiles[i].ndim);
        for (int d = 0; d < profiles[i].ndim; d++)
            wb_i64(&meta, profiles[i].min[d]);
        for (int d = 0; d < profiles[i].ndim; d++)
            wb_i64(&meta, profiles[i].opt[d]);
        for (int d = 0; d < profiles[i].ndim; d++)
            wb_i64(&meta, profiles[i].max[d]);
    }

    if (!(offsets = av__calloc((size_t)g->n_values + 1, sizeof *offsets))) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    uint64_t weights = 0;
    for (int v = 0; v < g->n_values; v++) {
        const av__tensor *t = &g->values[v].constant;
        if (!(g->values[v].flags & AV__VALUE_CONST))
            continue;
        size_t bytes = av__tensor_bytes(t);
        if (bytes == SIZE_MAX || (bytes && !t->data)) {
            st = av__fail(err, err_size, AV_STATUS_INTERNAL, "%s: constant '%s' has no data", path,
                          g->values[v].name);
            goto done;
        }
        offsets[v] = weights;
        weights = align_up(weights + bytes);
    }
    weights += AV__PLAN_WEIGHT_PAD;
    put_graph(&graph, g, offsets);
    if (meta.oom || graph.oom) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
        goto done;
    }
    st = write_plan(g, path, &meta, &graph, offsets, weights, err, err_size);
done:
    av__free(meta.p);
    av__free(graph.p);
    av__free(offsets);
    av__free(profiles);
    av__build_config_free(&cfg);
    av__graph_free(built);
    return st;
}
