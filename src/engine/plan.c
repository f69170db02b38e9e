/* Loading plans (layout: engine/plan_format.h): map the file, check the header, the checksum,
 * the versions and the target, rebuild the graph with the weights in place, and hand it to the
 * model code without the load passes (the plan had them). Also the plan's facts for `inspect`,
 * the profile check of sessions, and the freshness test of model packages. Saving is in
 * plan_write.c; XXH64 and the CPU features in plan_util.c. */
#define _DEFAULT_SOURCE /* MAP_POPULATE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "engine/engine_internal.h"
#include "engine/plan_format.h"
#include "ops/conv_dnnl.h"

typedef struct plan_profile {
    char *input;
    int input_index; /* into g->inputs */
    int ndim;
    int64_t min[AV__PLAN_MAX_RANK], opt[AV__PLAN_MAX_RANK], max[AV__PLAN_MAX_RANK];
} plan_profile;

struct av__plan {
    void *map;                  /* the whole file, read-only */
    size_t map_size;
    int mapped;                 /* 1: munmap, 0: av__aligned_free (loaded from memory) */
    uint32_t format;
    char library[AV__PLAN_LIBRARY_SIZE + 1];
    uint32_t target_kind, target_arch;
    uint64_t cpu_needed, cpu_built_on;
    char target_name[32], cpu_needed_names[160], cpu_built_on_names[160];
    char *source_path;
    av__plan_source source;
    char *component;
    av_precision precision;
    int n_profiles;
    plan_profile *profiles;
    int nodes_by_precision[6];
    uint64_t weights_size;
};

/* little-endian hosts only: check_header refuses plans elsewhere */
static uint64_t le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts only (checked where plans are read) */
    return v;
}
static uint32_t le32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* ---- reading records --------------------------------------------------------------------------- */

typedef struct rd {
    const uint8_t *p;
    size_t n, at;
    int bad;       /* a read went past the end */
} rd;

static size_t rd_left(const rd *r) { return r->n - r->at; }

static const uint8_t *rd_take(rd *r, size_t k)
{
    if (r->bad || rd_left(r) < k) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *q = r->p + r->at;
    r->at += k;
    return q;
}
static uint32_t rd_u32(rd *r)
{
    const uint8_t *q = rd_take(r, 4);
    return q ? le32(q) : 0;
}
static uint64_t rd_u64(rd *r)
{
    const uint8_t *q = rd_take(r, 8);
    return q ? le64(q) : 0;
}
static int64_t rd_i64(rd *r) { return (int64_t)rd_u64(r); }
static float rd_f32(rd *r)
{
    float f = 0;
    const uint8_t *q = rd_take(r, 4);
    if (q)
        memcpy(&f, q, 4);
    return f;
}
/* A count of items that take at least `min_bytes` each: bounded by what is left, so corrupt
 * counts cannot ask for huge allocations. -1 when impossible. */
static int rd_count(rd *r, size_t min_bytes)
{
    uint32_t c = rd_u32(r);
    if (r->bad || c > (uint32_t)0x7fffffff || (size_t)c > rd_left(r) / min_bytes) {
        r->bad = 1;
        return -1;
    }
    return (int)c;
}

#define NO_STRING 0xffffffffu

/* A string as a new NUL-terminated copy in *out (NULL for "no string" when allow_none). Names
 * may not hold NUL bytes unless allow_nul; *len gets the length. 0 on failure (r->bad set for
 * truncation; a forbidden form returns 0 with r->bad clear). */
static int rd_str(rd *r, char **out, size_t *len, int allow_none, int allow_nul)
{
    *out = NULL;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return 0;
    if (n == NO_STRING) {
        if (len)
            *len = 0;
        return allow_none;
    }
    const uint8_t *q = rd_take(r, n);
    if (!q || (!allow_nul && memchr(q, 0, n)))
        return 0;
    char *s = av__malloc((size_t)n + 1);
    if (!s) {
        r->bad = 2; /* out of memory */
        return 0;
    }
    memcpy(s, q, n);
    s[n] = '\0';
    *out = s;
    if (len)
        *len = n;
    return 1;
}

/* ---- the header ---------------------------------------------------------------------------------- */

/* The library version of a header, printable (a damaged one is shown with '?'). */
static void header_library(const uint8_t *d, char *out)
{
    for (int i = 0; i < AV__PLAN_LIBRARY_SIZE; i++) {
        char c = (char)d[AV__PLAN_OFF_LIBRARY + i];
        out[i] = c == '\0' ? '\0' : (c >= 32 && c < 127 ? c : '?');
        if (!c)
            break;
    }
    out[AV__PLAN_LIBRARY_SIZE] = '\0';
}

static void rebuild_hint(const char *source, const char *path, char *out, size_t size)
{
    snprintf(out, size, "rebuild it with `autovoice build %s -o %s`",
             source && source[0] ? source : "MODEL.onnx", path);
}

int av__plan_sniff(const void *data, size_t size)
{
    return data && size >= AV__PLAN_MAGIC_SIZE && !memcmp(data, AV__PLAN_MAGIC, AV__PLAN_MAGIC_SIZE);
}

/* Checks what can be checked from the first `avail` bytes of a file of `size` bytes: magic,
 * format version, header size, declared size, section layout. Fills p's header fields. */
static av_status check_header(const uint8_t *d, size_t avail, size_t size, const char *path,
                              av__plan *p, char *err, size_t err_size)
{
    char hint[1200];
    rebuild_hint(NULL, path, hint, sizeof hint);
    {
        const uint16_t probe = 1;
        unsigned char first;
        memcpy(&first, &probe, 1);
        if (first != 1)
            return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                            "%s: plans are read on little-endian machines only", path);
    }
    size_t m = avail < AV__PLAN_MAGIC_SIZE ? avail : AV__PLAN_MAGIC_SIZE;
    if (memcmp(d, AV__PLAN_MAGIC, m) != 0)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: not an autovoice plan (wrong magic); plans are made with "
                        "`autovoice build MODEL.onnx -o %s`", path, path);
    if (avail < AV__PLAN_PREAMBLE_SIZE)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: truncated plan (%zu bytes, its header alone is %u); %s", path, size,
                        AV__PLAN_HEADER_SIZE, hint);
    p->format = le32(d + AV__PLAN_OFF_FORMAT);
    header_library(d, p->library);
    if (p->format != AV__PLAN_FORMAT_VERSION)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "%s: built by autovoice %s (plan format %u); this is autovoice %s, which "
                        "reads plan format %u: %s", path, p->library, p->format,
                        av_version_string(), AV__PLAN_FORMAT_VERSION, hint);
    if (avail < AV__PLAN_HEADER_SIZE)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: truncated plan (%zu bytes, its header alone is %u); %s", path, size,
                        AV__PLAN_HEADER_SIZE, hint);
    uint64_t declared = le64(d + AV__PLAN_OFF_FILE_SIZE);
    if (le32(d + AV__PLAN_OFF_HEADER_SIZE) != AV__PLAN_HEADER_SIZE)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: corrupt plan (header size %u); %s",
                        path, le32(d + AV__PLAN_OFF_HEADER_SIZE), hint);
    if (declared > size)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: truncated plan (%zu of %llu bytes); %s",
                        path, size, (unsigned long long)declared, hint);
    if (declared < size)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: corrupt plan (%zu bytes, its header says %llu); %s", path, size,
                        (unsigned long long)declared, hint);
    uint64_t mo = le64(d + AV__PLAN_OFF_META), ms = le64(d + AV__PLAN_OFF_META + 8);
    uint64_t go = le64(d + AV__PLAN_OFF_GRAPH), gs = le64(d + AV__PLAN_OFF_GRAPH + 8);
    uint64_t wo = le64(d + AV__PLAN_OFF_WEIGHTS), ws = le64(d + AV__PLAN_OFF_WEIGHTS + 8);
    /* the sections follow each other: no overflow possible once each is below the file size */
    if (mo != AV__PLAN_HEADER_SIZE || ms > size || go != mo + ms || gs > size || go + gs > size ||
        wo != (go + gs + AV__PLAN_WEIGHT_ALIGN - 1) / AV__PLAN_WEIGHT_ALIGN * AV__PLAN_WEIGHT_ALIGN ||
        ws > size || wo + ws != size || ws % AV__PLAN_WEIGHT_ALIGN || ws < AV__PLAN_WEIGHT_PAD)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: corrupt plan (section table does not add up); %s", path, hint);
    p->target_kind = le32(d + AV__PLAN_OFF_TARGET_KIND);
    p->target_arch = le32(d + AV__PLAN_OFF_TARGET_ARCH);
    p->cpu_needed = le64(d + AV__PLAN_OFF_CPU_NEEDED);
    p->cpu_built_on = le64(d + AV__PLAN_OFF_CPU_BUILT_ON);
    p->weights_size = ws;
    return AV_STATUS_OK;
}

/* Library version and target, after the checksum (so a damaged byte reads as damage). */
static av_status check_compatible(av__plan *p, const char *path, char *err, size_t err_size)
{
    char hint[1200];
    rebuild_hint(p->source_path, path, hint, sizeof hint);
    if (strcmp(p->library, av_version_string()) != 0)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "%s: built by autovoice %s (plan format %u); this is autovoice %s: %s",
                        path, p->library, p->format, av_version_string(), hint);
    if (p->target_kind == AV__PLAN_TARGET_CPU_X86_64)
        snprintf(p->target_name, sizeof p->target_name, "cpu x86-64");
    else if (p->target_kind == AV__PLAN_TARGET_CUDA)
        snprintf(p->target_name, sizeof p->target_name, "cuda sm_%u", p->target_arch);
    else
        snprintf(p->target_name, sizeof p->target_name, "target kind %u", p->target_kind);
    av__plan_cpu_feature_names(p->cpu_needed, p->cpu_needed_names, sizeof p->cpu_needed_names);
    av__plan_cpu_feature_names(p->cpu_built_on, p->cpu_built_on_names,
                               sizeof p->cpu_built_on_names);
#if defined(__x86_64__)
    if (p->target_kind != AV__PLAN_TARGET_CPU_X86_64 || p->target_arch != 0)
#else
    if (1)
#endif
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "%s: built for %s, which this build of autovoice %s cannot run; %s", path,
                        p->target_name, av_version_string(), hint);
    if (p->cpu_needed & ~(uint64_t)AV__PLAN_CPU_KNOWN)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "%s: needs CPU features unknown to autovoice %s (%s); %s", path,
                        av_version_string(), p->cpu_needed_names, hint);
    uint64_t missing = p->cpu_needed & ~av__plan_cpu_features();
    if (missing) {
        char names[160];
        av__plan_cpu_feature_names(missing, names, sizeof names);
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "%s: needs CPU features this CPU lacks: %s (built on a CPU with %s); %s",
                        path, names, p->cpu_built_on_names, hint);
    }
    return AV_STATUS_OK;
}

/* ---- the meta section ------------------------------------------------------------------------------ */

static av_status parse_meta(av__plan *p, const uint8_t *d, size_t size, const char *what,
                            char *err, size_t err_size)
{
    rd r = {.p = d, .n = size};
    if (!rd_str(&r, &p->source_path, NULL, 0, 0))
        goto bad;
    p->source.size = rd_u64(&r);
    p->source.mtime_ns = rd_i64(&r);
    p->source.hash = rd_u64(&r);
    if (!rd_str(&r, &p->component, NULL, 0, 0))
        goto bad;
    p->precision = (av_precision)rd_u32(&r);
    int n = rd_count(&r, 8);
    if (n < 0)
        goto bad;
    p->profiles = av__calloc((size_t)n + 1, sizeof *p->profiles);
    if (!p->profiles)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < n; i++) {
        plan_profile *pr = &p->profiles[i];
        p->n_profiles = i + 1;
        pr->input_index = -1;
        if (!rd_str(&r, &pr->input, NULL, 0, 0))
            goto bad;
        uint32_t rank = rd_u32(&r);
        if (rank < 1 || rank > AV__PLAN_MAX_RANK)
            goto bad;
        pr->ndim = (int)rank;
        for (int k = 0; k < pr->ndim; k++)
            pr->min[k] = rd_i64(&r);
        for (int k = 0; k < pr->ndim; k++)
            pr->opt[k] = rd_i64(&r);
        for (int k = 0; k < pr->ndim; k++)
            pr->max[k] = rd_i64(&r);
        for (int k = 0; k < pr->ndim; k++)
            if (pr->min[k] < 1 || pr->min[k] > pr->opt[k] || pr->opt[k] > pr->max[k])
                goto bad;
        for (int j = 0; j < i; j++)
            if (!strcmp(p->profiles[j].input, pr->input))
                goto bad;
    }
    if (r.bad || r.at != r.n)
        goto bad;
    return AV_STATUS_OK;
bad:
    if (r.bad == 2)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    return av__fail(err, err_size, AV_STATUS_FORMAT, "corrupt plan (%s section, byte %zu)", what,
                    r.at);
}

/* ---- the graph section ----------------------------------------------------------------------------- */

static int known_dtype(uint32_t t)
{
    return t == AV__DT_UNDEFINED || t == AV__DT_STRING || av__dtype_size((av__dtype)t) > 0;
}

/* A tensor's dtype, rank and shape; 0 when malformed. */
static int rd_tensor_shape(rd *r, av__tensor *t)
{
    uint32_t dt = rd_u32(r), rank = rd_u32(r);
    if (r->bad || av__dtype_size((av__dtype)dt) == 0 || rank > AV__MAX_DIMS)
        return 0;
    t->dtype = (av__dtype)dt;
    t->ndim = (int)rank;
    for (int k = 0; k < t->ndim; k++)
        if ((t->shape[k] = rd_i64(r)) < 0)
            return 0;
    return !r->bad && av__tensor_bytes(t) != SIZE_MAX;
}

static int bools_valid(const av__tensor *t)
{
    if (t->dtype != AV__DT_BOOL)
        return 1;
    const unsigned char *b = t->data;
    size_t n = av__tensor_bytes(t);
    for (size_t i = 0; i < n; i++)
        if (b[i] > 1)
            return 0;
    return 1;
}

static int parse_attr(rd *r, av__attr *a)
{
    if (!rd_str(r, &a->name, NULL, 0, 0))
        return 0;
    uint32_t type = rd_u32(r);
    if (r->bad || type > AV__ATTR_STRINGS)
        return 0;
    a->type = (av__attr_type)type;
    int n;
    switch (a->type) {
    case AV__ATTR_FLOAT: a->f = rd_f32(r); break;
    case AV__ATTR_INT: a->i = rd_i64(r); break;
    case AV__ATTR_STRING: return rd_str(r, &a->s, &a->s_len, 0, 1);
    case AV__ATTR_FLOATS:
        if ((n = rd_count(r, 4)) < 0 || !(a->floats = av__calloc((size_t)n + 1, sizeof *a->floats)))
            return 0;
        a->count = n;
        for (int i = 0; i < n; i++)
            a->floats[i] = rd_f32(r);
        break;
    case AV__ATTR_INTS:
        if ((n = rd_count(r, 8)) < 0 || !(a->ints = av__calloc((size_t)n + 1, sizeof *a->ints)))
            return 0;
        a->count = n;
        for (int i = 0; i < n; i++)
            a->ints[i] = rd_i64(r);
        break;
    case AV__ATTR_STRINGS:
        if ((n = rd_count(r, 4)) < 0 || !(a->strings = av__calloc((size_t)n + 1, sizeof *a->strings)))
            return 0;
        for (int i = 0; i < n; i++) {
            a->count = i + 1;
            if (!rd_str(r, &a->strings[i], NULL, 0, 0))
                return 0;
        }
        a->count = n;
        break;
    case AV__ATTR_TENSOR: {
        if (!(a->t = av__calloc(1, sizeof *a->t)) || !rd_tensor_shape(r, a->t))
            return 0;
        uint64_t bytes = rd_u64(r);
        const uint8_t *q = rd_take(r, bytes == av__tensor_bytes(a->t) ? (size_t)bytes : SIZE_MAX);
        if (!q || !(a->t->data = av__aligned_alloc((size_t)bytes)))
            return 0;
        if (bytes)
            memcpy(a->t->data, q, (size_t)bytes);
        return bools_valid(a->t);
    }
    default: break; /* GRAPH, UNDEFINED: name and type only */
    }
    return !r->bad;
}

/* Reads one value (index v) into g; 0 when malformed. */
static int parse_value(rd *r, av__graph *g, int v, uint8_t *weights, uint64_t weights_size)
{
    char *name;
    if (!rd_str(r, &name, NULL, 0, 0))
        return 0;
    int idx = av__graph_value(g, name);
    av__free(name);
    if (idx != v) /* a duplicate name (or out of memory) */
        return 0;
    av__value *val = &g->values[v];
    uint32_t flags = rd_u32(r), dtype = rd_u32(r);
    int32_t ndim = (int32_t)rd_u32(r);
    if (r->bad || (flags & ~(unsigned)(AV__VALUE_INPUT | AV__VALUE_OUTPUT | AV__VALUE_CONST)) ||
        ((flags & AV__VALUE_INPUT) && (flags & AV__VALUE_CONST)) || !known_dtype(dtype) ||
        ndim < -1 || ndim > AV__MAX_DIMS)
        return 0;
    val->flags = flags;
    val->dtype = (av__dtype)dtype;
    val->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        val->dims[d].value = rd_i64(r);
        if (!rd_str(r, &val->dims[d].param, NULL, 1, 0) || val->dims[d].value < -1 ||
            (val->dims[d].param && val->dims[d].value != -1))
            return 0;
    }
    if (!(flags & AV__VALUE_CONST))
        return 1;
    av__tensor t = {0};
    if (!rd_tensor_shape(r, &t))
        return 0;
    uint64_t off = rd_u64(r), bytes = rd_u64(r);
    if (r->bad || bytes != av__tensor_bytes(&t) || off % AV__PLAN_WEIGHT_ALIGN ||
        off > weights_size - AV__PLAN_WEIGHT_PAD || bytes > weights_size - AV__PLAN_WEIGHT_PAD - off)
        return 0;
    t.data = weights + off;
    val->constant = t;
    return bools_valid(&t);
}

static int parse_node(rd *r, av__graph *g, av__plan *p, unsigned char *defined)
{
    char *name = NULL, *op = NULL, *domain = NULL;
    int ok = rd_str(r, &name, NULL, 0, 0) && rd_str(r, &op, NULL, 0, 0) && op[0] &&
             rd_str(r, &domain, NULL, 0, 0);
    int n = ok ? av__graph_add_node(g, op, domain, name) : -1;
    av__free(name);
    av__free(op);
    av__free(domain);
    if (n < 0)
        return 0;
    av__node *node = &g->nodes[n];
    uint32_t prec = rd_u32(r);
    if (r->bad || prec < AV_PRECISION_FP32 || prec > AV_PRECISION_INT8)
        return 0;
    p->nodes_by_precision[prec]++;
    int k = rd_count(r, 4);
    if (k < 0 || !(node->inputs = av__calloc((size_t)k + 1, sizeof *node->inputs)))
        return 0;
    node->n_inputs = k;
    for (int i = 0; i < k; i++) {
        int32_t v = (int32_t)rd_u32(r);
        if (v < -1 || v >= g->n_values || (v >= 0 && !defined[v]))
            return 0; /* unknown, or not computed before this node */
        node->inputs[i] = v;
    }
    if ((k = rd_count(r, 4)) < 0 || !(node->outputs = av__calloc((size_t)k + 1, sizeof *node->outputs)))
        return 0;
    node->n_outputs = k;
    for (int i = 0; i < k; i++) {
        int32_t v = (int32_t)rd_u32(r);
        if (v < -1 || v >= g->n_values || (v >= 0 && defined[v]))
            return 0; /* unknown, or computed twice */
        node->outputs[i] = v;
        if (v >= 0) {
            defined[v] = 1;
            g->values[v].producer = n;
        }
    }
    if ((k = rd_count(r, 8)) < 0 || !(node->attrs = av__calloc((size_t)k + 1, sizeof *node->attrs)))
        return 0;
    for (int i = 0; i < k; i++) {
        node->n_attrs = i + 1;
        if (!parse_attr(r, &node->attrs[i]))
            return 0;
    }
    /* the recorded precision is what the node computes in (a FusedConv's attribute) */
    return !r->bad && (av_precision)prec == av__node_precision(node);
}

/* g->inputs or g->outputs: indices of the values flagged `flag`, each once. */
static int parse_io(rd *r, av__graph *g, unsigned flag, int **list, int *count)
{
    int n = rd_count(r, 4);
    if (n < 0 || !(*list = av__calloc((size_t)n + 1, sizeof **list)))
        return 0;
    *count = n;
    int flagged = 0;
    for (int v = 0; v < g->n_values; v++)
        flagged += (g->values[v].flags & flag) != 0;
    if (flagged != n)
        return 0;
    for (int i = 0; i < n; i++) {
        uint32_t v = rd_u32(r);
        if (r->bad || v >= (uint32_t)g->n_values || !(g->values[v].flags & flag))
            return 0;
        for (int j = 0; j < i; j++)
            if ((*list)[j] == (int)v)
                return 0;
        (*list)[i] = (int)v;
    }
    return 1;
}

static av_status parse_graph(av__plan *p, const uint8_t *d, size_t size, uint8_t *weights,
                             av__graph **out, char *err, size_t err_size)
{
    rd r = {.p = d, .n = size};
    av__graph *g = av__graph_create();
    unsigned char *defined = NULL;
    const char *what = "graph header";
    if (!g)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    if (!rd_str(&r, &g->name, NULL, 1, 0) || !rd_str(&r, &g->producer_name, NULL, 1, 0))
        goto bad;
    g->ir_version = rd_i64(&r);
    g->opset = rd_i64(&r);
    what = "values";
    int n_values = rd_count(&r, 16);
    if (n_values < 0 || !(defined = av__calloc((size_t)n_values + 1, 1)))
        goto bad;
    for (int v = 0; v < n_values; v++) {
        if (!parse_value(&r, g, v, weights, p->weights_size))
            goto bad;
        defined[v] = (g->values[v].flags & (AV__VALUE_INPUT | AV__VALUE_CONST)) != 0;
    }
    what = "inputs and outputs";
    if (!parse_io(&r, g, AV__VALUE_INPUT, &g->inputs, &g->n_inputs) ||
        !parse_io(&r, g, AV__VALUE_OUTPUT, &g->outputs, &g->n_outputs))
        goto bad;
    what = "nodes";
    int n_nodes = rd_count(&r, 28);
    if (n_nodes < 0)
        goto bad;
    for (int n = 0; n < n_nodes; n++)
        if (!parse_node(&r, g, p, defined))
            goto bad;
    what = "graph outputs";
    for (int i = 0; i < g->n_outputs; i++)
        if (!defined[g->outputs[i]])
            goto bad;
    if (r.bad || r.at != r.n) {
        what = "end of the graph section";
        goto bad;
    }
    av__free(defined);
    *out = g;
    return AV_STATUS_OK;
bad:;
    av_status st = r.bad == 2 ? av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory")
                              : av__fail(err, err_size, AV_STATUS_FORMAT,
                                         "corrupt plan (graph section, %s, byte %zu)", what, r.at);
    av__free(defined);
    for (int v = 0; v < g->n_values; v++) /* the weights are not the graph's */
        if (g->values[v].flags & AV__VALUE_CONST)
            g->values[v].constant.data = NULL;
    av__graph_free(g);
    return st;
}

/* ---- loading ---------------------------------------------------------------------------------------- */

static void plan_release(av__plan *p)
{
    if (!p)
        return;
    if (p->map) {
        if (p->mapped)
            munmap(p->map, p->map_size);
        else
            av__aligned_free(p->map);
    }
    av__free(p->source_path);
    av__free(p->component);
    for (int i = 0; i < p->n_profiles; i++)
        av__free(p->profiles[i].input);
    av__free(p->profiles);
    av__free(p);
}

void av__plan_free(av__plan *p, av__graph *g)
{
    if (!p)
        return;
    const char *lo = p->map, *hi = lo + p->map_size;
    for (int v = 0; g && v < g->n_values; v++) {
        const char *data = g->values[v].constant.data;
        if (data && data >= lo && data < hi)
            g->values[v].constant.data = NULL;
    }
    plan_release(p);
}

/* Everything after the bytes are in memory. Takes p (released on failure). */
static av_status load_bytes(av__plan *p, const char *path, av_model **out, char *err,
                            size_t err_size)
{
    const uint8_t *d = p->map;
    size_t size = p->map_size;
    char msg[1024], hint[1200];
    av__graph *g = NULL;
    av_status st = check_header(d, size, size, path, p, err, err_size);
    if (st != AV_STATUS_OK)
        goto fail;
    rebuild_hint(NULL, path, hint, sizeof hint);
    uint64_t stored = le64(d + AV__PLAN_OFF_CHECKSUM), computed = av__plan_checksum(d, size);
    if (stored != computed) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT,
                      "%s: corrupt plan (checksum %016llx, the bytes give %016llx); %s", path,
                      (unsigned long long)stored, (unsigned long long)computed, hint);
        goto fail;
    }
    uint64_t mo = le64(d + AV__PLAN_OFF_META), ms = le64(d + AV__PLAN_OFF_META + 8);
    uint64_t go = le64(d + AV__PLAN_OFF_GRAPH), gs = le64(d + AV__PLAN_OFF_GRAPH + 8);
    uint64_t wo = le64(d + AV__PLAN_OFF_WEIGHTS);
    if ((st = parse_meta(p, d + mo, (size_t)ms, "meta", msg, sizeof msg)) != AV_STATUS_OK) {
        av__fail(err, err_size, st, "%s: %s; %s", path, msg, hint);
        goto fail;
    }
    if ((st = check_compatible(p, path, err, err_size)) != AV_STATUS_OK)
        goto fail;
    rebuild_hint(p->source_path, path, hint, sizeof hint);
    st = parse_graph(p, d + go, (size_t)gs, (uint8_t *)(uintptr_t)d + wo, &g, msg, sizeof msg);
    if (st != AV_STATUS_OK) {
        av__fail(err, err_size, st, "%s: %s; %s", path, msg, hint);
        goto fail;
    }
    for (int i = 0; i < p->n_profiles; i++) {
        plan_profile *pr = &p->profiles[i];
        for (int k = 0; k < g->n_inputs; k++)
            if (!strcmp(g->values[g->inputs[k]].name, pr->input))
                pr->input_index = k;
        const av__value *v = pr->input_index >= 0 ? &g->values[g->inputs[pr->input_index]] : NULL;
        if (!v || (v->ndim >= 0 && v->ndim != pr->ndim)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s: corrupt plan (profile for '%s' fits no graph input); %s", path,
                          pr->input, hint);
            goto fail_graph;
        }
    }
    /* the model owns g and p from here, on failure too */
    st = av__model_from_graph(g, p, 0, out, msg, sizeof msg);
    if (st != AV_STATUS_OK)
        av__fail(err, err_size, st, "%s: %s; %s", path, msg, hint);
    return st;
fail_graph:
    av__plan_free(p, g);
    av__graph_free(g);
    return st;
fail:
    plan_release(p);
    return st;
}

av_status av__plan_load_file(const char *path, av_model **out, char *err, size_t err_size)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return av__fail(err, err_size, AV_STATUS_IO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return av__fail(err, err_size, AV_STATUS_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    if (size < AV__PLAN_HEADER_SIZE) { /* too small to map usefully: diagnose from a copy */
        uint8_t head[AV__PLAN_HEADER_SIZE];
        ssize_t n = pread(fd, head, sizeof head, 0);
        close(fd);
        av__plan tmp = {0};
        av_status st = check_header(head, n > 0 ? (size_t)n : 0, size, path, &tmp, err, err_size);
        return st != AV_STATUS_OK ? st : av__fail(err, err_size, AV_STATUS_IO, "%s: read error", path);
    }
    av__plan *p = av__calloc(1, sizeof *p);
    if (!p) {
        close(fd);
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
    flags |= MAP_POPULATE; /* every page is read for the checksum anyway */
#endif
    void *map = mmap(NULL, size, PROT_READ, flags, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) {
        av__free(p);
        return av__fail(err, err_size, AV_STATUS_IO, "%s: cannot map: %s", path, strerror(e));
    }
    p->map = map;
    p->map_size = size;
    p->mapped = 1;
    return load_bytes(p, path, out, err, err_size);
}

av_status av__plan_load_memory(const void *data, size_t size, const char *name, av_model **out,
                               char *err, size_t err_size)
{
    *out = NULL;
    if (!data && size)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%s: data is NULL", name);
    av__plan *p = av__calloc(1, sizeof *p);
    if (!p || !(p->map = av__aligned_alloc(size))) {
        av__free(p);
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory", name);
    }
    if (size)
        memcpy(p->map, data, size);
    p->map_size = size;
    return load_bytes(p, name, out, err, err_size);
}

/* ---- sessions and packages ------------------------------------------------------------------------ */

static void format_shape(char *out, size_t size, int ndim, const int64_t *shape)
{
    size_t at = 0;
    at += (size_t)snprintf(out, size, "[");
    for (int d = 0; d < ndim && at < size; d++)
        at += (size_t)snprintf(out + at, size - at, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (at < size)
        snprintf(out + at, size - at, "]");
}

av_status av__plan_check_input(const av__plan *p, int input, const char *name, int ndim,
                               const int64_t *shape, char *err, size_t err_size)
{
    if (!p)
        return AV_STATUS_OK;
    for (int i = 0; i < p->n_profiles; i++) {
        const plan_profile *pr = &p->profiles[i];
        if (pr->input_index != input)
            continue;
        int bad = ndim != pr->ndim;
        for (int d = 0; d < ndim && !bad; d++)
            bad = shape[d] < pr->min[d] || shape[d] > pr->max[d];
        if (!bad)
            return AV_STATUS_OK;
        char got[160], lo[160], hi[160];
        format_shape(got, sizeof got, ndim, shape);
        format_shape(lo, sizeof lo, pr->ndim, pr->min);
        format_shape(hi, sizeof hi, pr->ndim, pr->max);
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "input '%s': shape %s is outside the plan's profile, min %s to max %s "
                        "(rebuild the plan with a wider --shape %s:MIN/OPT/MAX)", name, got, lo,
                        hi, name);
    }
    return AV_STATUS_OK;
}

int av__plan_is_fresh(const char *plan_path, const char *onnx_path)
{
    int fd = open(plan_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int fresh = 0;
    uint8_t head[AV__PLAN_HEADER_SIZE], *meta = NULL;
    av__plan p = {0};
    struct stat sb;
    char err[8];
    if (fstat(fd, &sb) != 0 || pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
        check_header(head, sizeof head, (size_t)sb.st_size, plan_path, &p, err, sizeof err))
        goto done;
    uint64_t mo = le64(head + AV__PLAN_OFF_META), ms = le64(head + AV__PLAN_OFF_META + 8);
    if (!(meta = av__malloc((size_t)ms)) || pread(fd, meta, (size_t)ms, (off_t)mo) != (ssize_t)ms ||
        parse_meta(&p, meta, (size_t)ms, "meta", err, sizeof err) != AV_STATUS_OK ||
        check_compatible(&p, plan_path, err, sizeof err) != AV_STATUS_OK)
        goto done;
    av__plan_source src;
    struct stat ob;
    if (stat(onnx_path, &ob) == 0 && (uint64_t)ob.st_size == p.source.size && /* before hashing */
        av__plan_source_stat(onnx_path, &src, err, sizeof err) == AV_STATUS_OK &&
        src.size == p.source.size && src.hash == p.source.hash)
        fresh = 1;
done:
    av__free(meta);
    av__free(p.source_path);
    av__free(p.component);
    for (int i = 0; i < p.n_profiles; i++)
        av__free(p.profiles[i].input);
    av__free(p.profiles);
    close(fd);
    return fresh;
}

/* ---- public facts ------------------------------------------------------------------------------------ */

const char *av_precision_name(av_precision p)
{
    switch (p) {
    case AV_PRECISION_FP32: return "fp32";
    case AV_PRECISION_FP16: return "fp16";
    case AV_PRECISION_BF16: return "bf16";
    case AV_PRECISION_INT8: return "int8";
    case AV_PRECISION_BEST: return "best";
    }
    return "unknown";
}

int av_model_is_plan(const av_model *m) { return m && m->plan; }

av_status av_model_plan_info(const av_model *m, av_plan_info *info)
{
    if (!m || !info)
        return AV_STATUS_INVALID_ARGUMENT;
    memset(info, 0, sizeof *info);
    const av__plan *p = m->plan;
    if (!p)
        return AV_STATUS_NOT_FOUND;
    info->format_version = (int)p->format;
    info->library_version = p->library;
    info->target = p->target_name;
    info->cpu_needed = p->cpu_needed_names;
    info->cpu_built_on = p->cpu_built_on_names;
    info->precision = p->precision;
    memcpy(info->nodes_by_precision, p->nodes_by_precision, sizeof info->nodes_by_precision);
    info->component = p->component;
    info->source_path = p->source_path;
    info->source_size = (int64_t)p->source.size;
    info->source_mtime_ns = p->source.mtime_ns;
    info->source_hash = p->source.hash;
    info->n_profiles = p->n_profiles;
    info->file_bytes = (int64_t)p->map_size;
    info->weight_bytes = (int64_t)(p->weights_size - AV__PLAN_WEIGHT_PAD);
    return AV_STATUS_OK;
}

av_status av_model_plan_profile(const av_model *m, int index, av_plan_profile *out)
{
    if (!m || !out || !m->plan || index < 0 || index >= m->plan->n_profiles)
        return AV_STATUS_INVALID_ARGUMENT;
    const plan_profile *pr = &m->plan->profiles[index];
    memset(out, 0, sizeof *out);
    out->input = pr->input;
    out->ndim = pr->ndim;
    memcpy(out->min, pr->min, sizeof out->min);
    memcpy(out->opt, pr->opt, sizeof out->opt);
    memcpy(out->max, pr->max, sizeof out->max);
    return AV_STATUS_OK;
}
