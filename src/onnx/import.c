/* ONNX ModelProto / GraphProto / NodeProto / AttributeProto / ValueInfoProto import; contract in
 * import.h, tensors in import_tensor.c.
 *
 * Each message is walked with av__wire_next, usually twice: once to count repeated fields and
 * find the scalars, once to fill arrays sized by the counts. The graph is walked in passes by
 * field (initializers, inputs, nodes, outputs, value_info) so that the order in which a writer
 * put the fields does not matter. Nothing recurses: subgraph attributes are skipped. */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "graph/passes.h"
#include "onnx/import.h"
#include "onnx/wire.h"

/* Field numbers of onnx.proto. */
enum { MP_IR_VERSION = 1, MP_PRODUCER_NAME = 2, MP_GRAPH = 7, MP_OPSET_IMPORT = 8 };
enum {
    GP_NODE = 1, GP_NAME = 2, GP_INITIALIZER = 5, GP_INPUT = 11, GP_OUTPUT = 12,
    GP_VALUE_INFO = 13, GP_SPARSE_INITIALIZER = 15
};
enum { NP_INPUT = 1, NP_OUTPUT = 2, NP_NAME = 3, NP_OP_TYPE = 4, NP_ATTRIBUTE = 5, NP_DOMAIN = 7 };
enum {
    AP_NAME = 1, AP_F = 2, AP_I = 3, AP_S = 4, AP_T = 5, AP_G = 6, AP_FLOATS = 7, AP_INTS = 8,
    AP_STRINGS = 9, AP_TENSORS = 10, AP_GRAPHS = 11, AP_TP = 14, AP_TYPE_PROTOS = 15,
    AP_TYPE = 20, AP_SPARSE_TENSOR = 22, AP_SPARSE_TENSORS = 23
};

typedef struct import_ctx {
    av__graph *g;
    const char *base_dir;
    char *err;
    size_t err_size;
    /* Name -> value index, open addressing with linear probing: slots hold index + 1, 0 is
     * empty. av__graph_find_value is linear; this keeps import O(names). */
    int *slots;
    size_t n_slots; /* a power of two, at least twice the number of values */
} import_ctx;

#define FAIL(c, status, ...) av__fail((c)->err, (c)->err_size, (status), __VA_ARGS__)
#define MALFORMED(c, what) \
    FAIL((c), AV_STATUS_FORMAT, "%s: malformed protobuf (truncated or corrupt)", (what))

static char *dup_slice(const uint8_t *p, size_t n)
{
    char *s = n < SIZE_MAX ? av__malloc(n + 1) : NULL;
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* "node NAME (OpType)" or "node #i (OpType)". */
static const char *node_label(const av__node *n, int index, char buf[320])
{
    if (n->name[0])
        snprintf(buf, 320, "node %.200s (%.80s)", n->name, n->op_type);
    else
        snprintf(buf, 320, "node #%d (%.80s)", index, n->op_type);
    return buf;
}

/* ---- names -------------------------------------------------------------------------------- */

static size_t hash_name(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return (size_t)h;
}

static int name_is(const char *s, const uint8_t *p, size_t n)
{
    /* p holds no NUL, so a match of n characters means s has at least n: s[n] is in bounds. */
    return strncmp(s, (const char *)p, n) == 0 && s[n] == '\0';
}

static int *find_slot(const import_ctx *c, const uint8_t *p, size_t n)
{
    size_t mask = c->n_slots - 1;
    for (size_t i = hash_name(p, n) & mask;; i = (i + 1) & mask) {
        int *s = &c->slots[i];
        if (*s == 0 || name_is(c->g->values[*s - 1].name, p, n))
            return s;
    }
}

static av_status grow_slots(import_ctx *c)
{
    size_t n = c->n_slots ? c->n_slots * 2 : 256;
    int *slots = av__calloc(n, sizeof *slots);
    if (!slots)
        return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    av__free(c->slots);
    c->slots = slots;
    c->n_slots = n;
    for (int v = 0; v < c->g->n_values; v++) {
        const char *name = c->g->values[v].name;
        *find_slot(c, (const uint8_t *)name, strlen(name)) = v + 1;
    }
    return AV_STATUS_OK;
}

/* The value called p[0..n) into *index: -1 for the empty name; otherwise created when absent
 * and `add` is set (else -1). `what` says where the name came from, for messages. */
static av_status lookup(import_ctx *c, const uint8_t *p, size_t n, int add, const char *what,
                        int *index)
{
    *index = -1;
    if (n == 0)
        return AV_STATUS_OK;
    if (memchr(p, '\0', n))
        return FAIL(c, AV_STATUS_FORMAT, "%s: a value name contains a NUL byte", what);
    if ((size_t)c->g->n_values * 2 + 2 > c->n_slots) {
        av_status st = grow_slots(c);
        if (st != AV_STATUS_OK)
            return st;
    }
    int *slot = find_slot(c, p, n);
    if (*slot || !add) {
        *index = *slot - 1;
        return AV_STATUS_OK;
    }
    char *name = dup_slice(p, n);
    int v = name ? av__graph_value(c->g, name) : -1;
    av__free(name);
    if (v < 0)
        return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    *slot = v + 1;
    *index = v;
    return AV_STATUS_OK;
}

/* ---- ValueInfoProto ----------------------------------------------------------------------- */

typedef struct decl {
    const uint8_t *name;
    size_t name_len;
    const char *other;      /* a non-tensor TypeProto: "a sequence", ...; NULL otherwise */
    int has_tensor;         /* TypeProto.tensor_type present */
    int64_t elem_type;
    int has_shape;          /* shape present (no shape: rank unknown) */
    int64_t n_dims;         /* may exceed AV__MAX_DIMS: the rest are dropped */
    int64_t dims[AV__MAX_DIMS];        /* -1 when no dim_value */
    int has_value[AV__MAX_DIMS];
    const uint8_t *param[AV__MAX_DIMS]; /* dim_param or NULL */
    size_t param_len[AV__MAX_DIMS];
} decl;

/* TensorShapeProto.Dimension: dim_value = 1, dim_param = 2. */
static int read_dim(const av__wire_field *df, decl *d)
{
    av__wire r = av__wire_reader(df->data, df->len);
    av__wire_field f;
    int rc, k = (int)d->n_dims++;
    if (k >= AV__MAX_DIMS) {
        while ((rc = av__wire_next(&r, &f)) == 1) {
        }
        return rc;
    }
    d->dims[k] = -1;
    while ((rc = av__wire_next(&r, &f)) == 1) {
        if (f.number == 1 && f.type == AV__WIRE_VARINT) {
            d->dims[k] = (int64_t)f.value;
            d->has_value[k] = 1;
        } else if (f.number == 2 && f.type == AV__WIRE_LEN) {
            d->param[k] = f.data;
            d->param_len[k] = f.len;
        } else if (f.number <= 2) {
            return -1;
        }
    }
    return rc;
}

/* TypeProto.Tensor: elem_type = 1, shape = 2 (TensorShapeProto: dim = 1). */
static int read_tensor_type(const av__wire_field *tf, decl *d)
{
    av__wire r = av__wire_reader(tf->data, tf->len);
    av__wire_field f;
    int rc;
    d->has_tensor = 1;
    while ((rc = av__wire_next(&r, &f)) == 1) {
        if (f.number == 1) {
            if (f.type != AV__WIRE_VARINT)
                return -1;
            d->elem_type = (int64_t)f.value;
        } else if (f.number == 2) {
            if (f.type != AV__WIRE_LEN)
                return -1;
            av__wire s = av__wire_reader(f.data, f.len);
            av__wire_field df;
            int src;
            d->has_shape = 1;
            d->n_dims = 0; /* a repeated shape field: the last one wins */
            memset(d->has_value, 0, sizeof d->has_value);
            memset(d->param, 0, sizeof d->param);
            while ((src = av__wire_next(&s, &df)) == 1)
                if (df.number == 1 && (df.type != AV__WIRE_LEN || read_dim(&df, d) < 0))
                    return -1;
            if (src < 0)
                return -1;
        }
    }
    return rc;
}

/* ValueInfoProto: name = 1, type = 2 (TypeProto: tensor_type = 1, sequence_type = 4,
 * map_type = 5, opaque_type = 7, sparse_tensor_type = 8, optional_type = 9). */
static av_status read_value_info(import_ctx *c, const av__wire_field *vf, const char *what,
                                 decl *d)
{
    av__wire r = av__wire_reader(vf->data, vf->len);
    av__wire_field f;
    int rc;
    memset(d, 0, sizeof *d);
    while ((rc = av__wire_next(&r, &f)) == 1) {
        if ((f.number == 1 || f.number == 2) && f.type != AV__WIRE_LEN)
            return MALFORMED(c, what);
        if (f.number == 1) {
            d->name = f.data;
            d->name_len = f.len;
        } else if (f.number == 2) {
            av__wire t = av__wire_reader(f.data, f.len);
            av__wire_field tf;
            int trc;
            while ((trc = av__wire_next(&t, &tf)) == 1) {
                const char *other = NULL;
                switch (tf.number) {
                case 1:
                    if (tf.type != AV__WIRE_LEN || read_tensor_type(&tf, d) < 0)
                        return MALFORMED(c, what);
                    d->other = NULL;
                    break;
                case 4: other = "a sequence"; break;
                case 5: other = "a map"; break;
                case 7: other = "an opaque value"; break;
                case 8: other = "a sparse tensor"; break;
                case 9: other = "an optional value"; break;
                default: break;
                }
                if (other) {
                    d->other = other;
                    d->has_tensor = 0;
                }
            }
            if (trc < 0)
                return MALFORMED(c, what);
        }
    }
    if (rc < 0)
        return MALFORMED(c, what);
    return AV_STATUS_OK;
}

/* Sets the type and shape of value `index` from d. `role` ("graph input", ...) names it in
 * messages; a `hint` (value_info) with a type the engine cannot hold is ignored, not refused. */
static av_status apply_decl(import_ctx *c, int index, const decl *d, const char *role, int hint)
{
    av__value *v = &c->g->values[index];
    if (d->other) {
        if (hint)
            return AV_STATUS_OK;
        return FAIL(c, AV_STATUS_UNSUPPORTED, "%s '%.200s' is %s; only tensors are supported", role,
                    v->name, d->other);
    }
    if (!d->has_tensor)
        return AV_STATUS_OK; /* no type given: left unknown */
    const int64_t t = d->elem_type;
    if (t != AV__DT_UNDEFINED && t != AV__DT_STRING && !av__onnx_type_supported(t)) {
        if (hint)
            return AV_STATUS_OK;
        if (strcmp(av__onnx_type_name(t), "unknown") != 0)
            return FAIL(c, AV_STATUS_UNSUPPORTED, "%s '%.200s' has element type %s, not supported",
                        role, v->name, av__onnx_type_name(t));
        return FAIL(c, AV_STATUS_FORMAT, "%s '%.200s' has unknown element type %lld", role,
                    v->name, (long long)t);
    }
    if (d->has_shape) {
        if (d->n_dims > AV__MAX_DIMS)
            return FAIL(c, AV_STATUS_FORMAT, "%s '%.200s' has %lld dimensions (at most %d)", role,
                        v->name, (long long)d->n_dims, AV__MAX_DIMS);
        for (int k = 0; k < (int)d->n_dims; k++)
            if (d->has_value[k] && d->dims[k] < 0)
                return FAIL(c, AV_STATUS_FORMAT, "%s '%.200s' has a negative dimension (%lld)",
                            role, v->name, (long long)d->dims[k]);
    }
    v->dtype = (av__dtype)t;
    if (!d->has_shape)
        return AV_STATUS_OK;
    v->ndim = (int)d->n_dims;
    for (int k = 0; k < AV__MAX_DIMS; k++) {
        av__free(v->dims[k].param);
        v->dims[k].param = NULL;
        v->dims[k].value = k < v->ndim && d->has_value[k] ? d->dims[k] : (k < v->ndim ? -1 : 0);
        if (k < v->ndim && !d->has_value[k] && d->param[k]) {
            if (memchr(d->param[k], '\0', d->param_len[k]))
                continue; /* an unprintable symbol: keep the dimension unknown */
            if (!(v->dims[k].param = dup_slice(d->param[k], d->param_len[k])))
                return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        }
    }
    return AV_STATUS_OK;
}

/* ---- AttributeProto ----------------------------------------------------------------------- */

/* The kind an attribute without `type` (IR 1 / 2) has, from the first field present. */
static int64_t infer_attr_type(uint32_t seen)
{
    static const struct { int field; int64_t type; } order[] = {
        {AP_F, 1}, {AP_I, 2}, {AP_S, 3}, {AP_T, 4}, {AP_G, 5}, {AP_FLOATS, 6}, {AP_INTS, 7},
        {AP_STRINGS, 8}, {AP_TENSORS, 9}, {AP_GRAPHS, 10}, {AP_SPARSE_TENSOR, 11},
        {AP_SPARSE_TENSORS, 12}, {AP_TP, 13}, {AP_TYPE_PROTOS, 14},
    };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (seen & (1u << order[i].field))
            return order[i].type;
    return 0;
}

static av_status import_attr(import_ctx *c, const char *node, const av__wire_field *af,
                             av__attr *a)
{
    av__wire r = av__wire_reader(af->data, af->len);
    av__wire_field f;
    const uint8_t *name = NULL, *s = NULL, *t = NULL;
    size_t name_len = 0, s_len = 0, t_len = 0;
    int64_t type = -1, n_floats = 0, n_ints = 0, n_strings = 0, n;
    uint64_t i_value = 0;
    uint32_t f_bits = 0, seen = 0;
    char what[600];
    int rc;
    snprintf(what, sizeof what, "%s: attribute", node);
    while ((rc = av__wire_next(&r, &f)) == 1) {
        if (f.number < 32)
            seen |= 1u << f.number;
        switch (f.number) {
        case AP_NAME: case AP_S: case AP_T: case AP_G: case AP_STRINGS: case AP_TENSORS:
        case AP_GRAPHS: case AP_TP: case AP_TYPE_PROTOS: case AP_SPARSE_TENSOR:
        case AP_SPARSE_TENSORS:
            if (f.type != AV__WIRE_LEN)
                return MALFORMED(c, what);
            if (f.number == AP_NAME) {
                name = f.data;
                name_len = f.len;
            } else if (f.number == AP_S) {
                s = f.data;
                s_len = f.len;
            } else if (f.number == AP_T) {
                t = f.data;
                t_len = f.len;
            } else if (f.number == AP_STRINGS) {
                n_strings++;
            }
            break;
        case AP_F:
            if (f.type != AV__WIRE_I32)
                return MALFORMED(c, what);
            f_bits = (uint32_t)f.value;
            break;
        case AP_I:
        case AP_TYPE:
            if (f.type != AV__WIRE_VARINT)
                return MALFORMED(c, what);
            if (f.number == AP_I)
                i_value = f.value;
            else
                type = f.value > 100 ? 100 : (int64_t)f.value; /* unknown kinds stay unknown */
            break;
        case AP_FLOATS:
            if ((n = av__wire_fixed_count(&f, 4)) < 0)
                return MALFORMED(c, what);
            n_floats += n;
            break;
        case AP_INTS:
            if ((n = av__wire_varints_count(&f)) < 0)
                return MALFORMED(c, what);
            n_ints += n;
            break;
        default:
            break; /* doc_string, ref_attr_name, ... */
        }
    }
    if (rc < 0)
        return MALFORMED(c, what);
    if (!name || name_len == 0 || memchr(name, '\0', name_len))
        return FAIL(c, AV_STATUS_FORMAT, "%s: attribute without a valid name", node);
    if (!(a->name = dup_slice(name, name_len)))
        return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    snprintf(what, sizeof what, "%s: attribute '%.200s' tensor", node, a->name);
    if (type < 0)
        type = infer_attr_type(seen);
    if (n_floats > INT_MAX || n_ints > INT_MAX || n_strings > INT_MAX)
        return FAIL(c, AV_STATUS_FORMAT, "%s: attribute '%.200s' has too many elements", node,
                    a->name);
    a->type = type >= AV__ATTR_FLOAT && type <= AV__ATTR_STRINGS ? (av__attr_type)type
                                                                 : AV__ATTR_UNDEFINED;
    switch (a->type) {
    case AV__ATTR_FLOAT:
        memcpy(&a->f, &f_bits, sizeof a->f);
        break;
    case AV__ATTR_INT:
        a->i = (int64_t)i_value;
        break;
    case AV__ATTR_STRING:
        a->s_len = s_len;
        if (!(a->s = dup_slice(s, s_len)))
            return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        break;
    case AV__ATTR_TENSOR: {
        const uint8_t *tname;
        size_t tname_len;
        if (!t)
            return FAIL(c, AV_STATUS_FORMAT, "%s: attribute '%.200s' of type TENSOR has no tensor",
                        node, a->name);
        if (!(a->t = av__calloc(1, sizeof *a->t)))
            return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        av_status st = av__onnx_parse_tensor(t, t_len, c->base_dir, what, a->t, &tname,
                                             &tname_len, c->err, c->err_size);
        if (st != AV_STATUS_OK) {
            av__free(a->t);
            a->t = NULL;
            return st;
        }
        break;
    }
    case AV__ATTR_FLOATS:
    case AV__ATTR_INTS:
    case AV__ATTR_STRINGS: {
        int count = (int)(a->type == AV__ATTR_FLOATS ? n_floats
                          : a->type == AV__ATTR_INTS ? n_ints : n_strings);
        if (a->type == AV__ATTR_FLOATS)
            a->floats = av__mallocarray((size_t)count, sizeof *a->floats);
        else if (a->type == AV__ATTR_INTS)
            a->ints = av__mallocarray((size_t)count, sizeof *a->ints);
        else
            a->strings = av__calloc((size_t)count, sizeof *a->strings);
        if (!a->floats && !a->ints && !a->strings)
            return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        a->count = count;
        int k = 0;
        r = av__wire_reader(af->data, af->len);
        while (av__wire_next(&r, &f) == 1) {
            if (a->type == AV__ATTR_FLOATS && f.number == AP_FLOATS) {
                k += (int)av__wire_fixed_read(&f, 4, a->floats + k);
            } else if (a->type == AV__ATTR_INTS && f.number == AP_INTS) {
                av__wire_varints it = av__wire_varints_begin(&f);
                uint64_t v;
                while (av__wire_varints_next(&it, &v))
                    a->ints[k++] = (int64_t)v;
            } else if (a->type == AV__ATTR_STRINGS && f.number == AP_STRINGS) {
                if (!(a->strings[k++] = dup_slice(f.data, f.len)))
                    return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            }
        }
        break;
    }
    default:
        break; /* GRAPH (subgraphs are not imported) and kinds the IR has no slot for */
    }
    return AV_STATUS_OK;
}

/* ---- NodeProto ---------------------------------------------------------------------------- */

static av_status import_node(import_ctx *c, const av__wire_field *nf, int ordinal)
{
    av__wire r = av__wire_reader(nf->data, nf->len);
    av__wire_field f;
    const uint8_t *name = NULL, *op = NULL, *domain = NULL;
    size_t name_len = 0, op_len = 0, domain_len = 0;
    int64_t n_in = 0, n_out = 0, n_attr = 0;
    char label[320], *s_name = NULL, *s_op = NULL, *s_domain = NULL;
    av_status st = AV_STATUS_OK;
    int rc;
    snprintf(label, sizeof label, "node #%d", ordinal);
    while ((rc = av__wire_next(&r, &f)) == 1) {
        if (f.number > NP_DOMAIN || f.number == 6)
            continue; /* doc_string, overload, metadata_props, ... */
        if (f.type != AV__WIRE_LEN)
            return MALFORMED(c, label);
        switch (f.number) {
        case NP_INPUT: n_in++; break;
        case NP_OUTPUT: n_out++; break;
        case NP_ATTRIBUTE: n_attr++; break;
        case NP_NAME: name = f.data; name_len = f.len; break;
        case NP_OP_TYPE: op = f.data; op_len = f.len; break;
        case NP_DOMAIN: domain = f.data; domain_len = f.len; break;
        default: break;
        }
    }
    if (rc < 0)
        return MALFORMED(c, label);
    if (!op || op_len == 0 || memchr(op, '\0', op_len))
        return FAIL(c, AV_STATUS_FORMAT, "%s has no valid op_type", label);
    if ((name && memchr(name, '\0', name_len)) || (domain && memchr(domain, '\0', domain_len)))
        return FAIL(c, AV_STATUS_FORMAT, "%s: name or domain contains a NUL byte", label);
    if (n_in > INT_MAX || n_out > INT_MAX || n_attr > INT_MAX)
        return FAIL(c, AV_STATUS_FORMAT, "%s: too many inputs, outputs or attributes", label);
    s_name = dup_slice(name, name_len);
    s_op = dup_slice(op, op_len);
    s_domain = dup_slice(domain, domain_len);
    int index = s_name && s_op && s_domain ? av__graph_add_node(c->g, s_op, s_domain, s_name) : -1;
    av__free(s_name);
    av__free(s_op);
    av__free(s_domain);
    if (index < 0)
        return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    /* Only av__graph_add_node moves g->nodes: n stays valid below (value pointers do not). */
    av__node *n = &c->g->nodes[index];
    node_label(n, index, label);
    n->inputs = av__calloc((size_t)n_in, sizeof *n->inputs);
    n->outputs = av__calloc((size_t)n_out, sizeof *n->outputs);
    n->attrs = av__calloc((size_t)n_attr, sizeof *n->attrs);
    if (!n->inputs || !n->outputs || !n->attrs)
        return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");

    r = av__wire_reader(nf->data, nf->len);
    while (av__wire_next(&r, &f) == 1) {
        int v;
        if (f.number == NP_INPUT) {
            if ((st = lookup(c, f.data, f.len, 1, label, &v)) != AV_STATUS_OK)
                return st;
            n->inputs[n->n_inputs++] = v;
        } else if (f.number == NP_OUTPUT) {
            if ((st = lookup(c, f.data, f.len, 1, label, &v)) != AV_STATUS_OK)
                return st;
            n->outputs[n->n_outputs++] = v;
            if (v < 0)
                continue;
            av__value *val = &c->g->values[v];
            if (val->flags & (AV__VALUE_INPUT | AV__VALUE_CONST))
                return FAIL(c, AV_STATUS_FORMAT, "%s writes '%.200s', which is %s", label,
                            val->name,
                            val->flags & AV__VALUE_CONST ? "an initializer" : "a graph input");
            if (val->producer >= 0) {
                char other[320];
                int p = val->producer;
                return FAIL(c, AV_STATUS_FORMAT, "value '%.200s' is produced by both %s and %s",
                            val->name, node_label(&c->g->nodes[p], p, other), label);
            }
            val->producer = index;
        } else if (f.number == NP_ATTRIBUTE) {
            av__attr *a = &n->attrs[n->n_attrs++];
            if ((st = import_attr(c, label, &f, a)) != AV_STATUS_OK)
                return st;
            for (int k = 0; k < n->n_attrs - 1; k++)
                if (strcmp(n->attrs[k].name, a->name) == 0)
                    return FAIL(c, AV_STATUS_FORMAT, "%s has attribute '%.200s' twice", label,
                                a->name);
        }
    }
    return AV_STATUS_OK;
}

/* ---- GraphProto --------------------------------------------------------------------------- */

static av_status import_initializer(import_ctx *c, const av__wire_field *f, int ordinal)
{
    av__tensor t;
    const uint8_t *name;
    size_t name_len;
    char what[64];
    int v;
    snprintf(what, sizeof what, "initializer #%d", ordinal);
    av_status st = av__onnx_parse_tensor(f->data, f->len, c->base_dir, "initializer", &t, &name,
                                         &name_len, c->err, c->err_size);
    if (st != AV_STATUS_OK)
        return st;
    if (name_len == 0)
        st = FAIL(c, AV_STATUS_FORMAT, "%s has no name", what);
    else
        st = lookup(c, name, name_len, 1, what, &v);
    if (st == AV_STATUS_OK && (c->g->values[v].flags & AV__VALUE_CONST))
        st = FAIL(c, AV_STATUS_FORMAT, "initializer '%.200s' is given twice", c->g->values[v].name);
    if (st != AV_STATUS_OK) {
        av__aligned_free(t.data);
        return st;
    }
    av__value *val = &c->g->values[v];
    val->flags |= AV__VALUE_CONST;
    val->constant = t;
    val->dtype = t.dtype;
    val->ndim = t.ndim;
    for (int k = 0; k < t.ndim; k++)
        val->dims[k].value = t.shape[k];
    return AV_STATUS_OK;
}

/* A graph input (role "graph input") or output (role "graph output"). */
static av_status import_io(import_ctx *c, const av__wire_field *f, int ordinal, int output)
{
    const char *role = output ? "graph output" : "graph input";
    const unsigned flag = output ? AV__VALUE_OUTPUT : AV__VALUE_INPUT;
    char what[64];
    decl d;
    int v;
    av_status st;
    snprintf(what, sizeof what, "%s #%d", role, ordinal);
    if ((st = read_value_info(c, f, what, &d)) != AV_STATUS_OK)
        return st;
    if (d.name_len == 0)
        return FAIL(c, AV_STATUS_FORMAT, "%s has no name", what);
    if ((st = lookup(c, d.name, d.name_len, 1, what, &v)) != AV_STATUS_OK)
        return st;
    av__value *val = &c->g->values[v];
    if (val->flags & flag)
        return FAIL(c, AV_STATUS_FORMAT, "%s '%.200s' is listed twice", role, val->name);
    if (!output && (val->flags & AV__VALUE_CONST))
        return AV_STATUS_OK; /* IR < 4: initializers are listed among the inputs too */
    if (!(val->flags & (AV__VALUE_INPUT | AV__VALUE_CONST)) &&
        (st = apply_decl(c, v, &d, role, 0)) != AV_STATUS_OK)
        return st;
    c->g->values[v].flags |= flag;
    if (output)
        c->g->outputs[c->g->n_outputs++] = v;
    else
        c->g->inputs[c->g->n_inputs++] = v;
    return AV_STATUS_OK;
}

static av_status import_value_info(import_ctx *c, const av__wire_field *f)
{
    decl d;
    int v;
    av_status st;
    if ((st = read_value_info(c, f, "value_info", &d)) != AV_STATUS_OK)
        return st;
    if (d.name_len == 0 || memchr(d.name, '\0', d.name_len))
        return AV_STATUS_OK; /* only a hint: a useless one */
    if ((st = lookup(c, d.name, d.name_len, 0, "value_info", &v)) != AV_STATUS_OK || v < 0)
        return st;
    if (c->g->values[v].flags & (AV__VALUE_INPUT | AV__VALUE_OUTPUT | AV__VALUE_CONST))
        return AV_STATUS_OK; /* declared where it is defined */
    return apply_decl(c, v, &d, "value_info", 1);
}

/* Every node input and graph output must be defined. */
static av_status check_defined(import_ctx *c)
{
    const av__graph *g = c->g;
    const unsigned defined = AV__VALUE_INPUT | AV__VALUE_CONST;
    char label[320];
    for (int i = 0; i < g->n_nodes; i++) {
        const av__node *n = &g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++) {
            const av__value *v = n->inputs[k] >= 0 ? &g->values[n->inputs[k]] : NULL;
            if (v && !(v->flags & defined) && v->producer < 0)
                return FAIL(c, AV_STATUS_FORMAT,
                            "%s: input '%.200s' is not a graph input, an initializer or the "
                            "output of any node", node_label(n, i, label), v->name);
        }
    }
    for (int k = 0; k < g->n_outputs; k++) {
        const av__value *v = &g->values[g->outputs[k]];
        if (!(v->flags & defined) && v->producer < 0)
            return FAIL(c, AV_STATUS_FORMAT,
                        "graph output '%.200s' is not a graph input, an initializer or the "
                        "output of any node", v->name);
    }
    return AV_STATUS_OK;
}

static av_status import_graph(import_ctx *c, const uint8_t *data, size_t len)
{
    av__graph *g = c->g;
    av__wire r = av__wire_reader(data, len);
    av__wire_field f;
    int64_t n_inputs = 0, n_outputs = 0;
    const uint8_t *name = NULL;
    size_t name_len = 0;
    av_status st;
    int rc;
    while ((rc = av__wire_next(&r, &f)) == 1) {
        switch (f.number) {
        case GP_NODE: case GP_NAME: case GP_INITIALIZER: case GP_INPUT: case GP_OUTPUT:
        case GP_VALUE_INFO:
            if (f.type != AV__WIRE_LEN)
                return MALFORMED(c, "graph");
            if (f.number == GP_NAME) {
                name = f.data;
                name_len = f.len;
            }
            n_inputs += f.number == GP_INPUT;
            n_outputs += f.number == GP_OUTPUT;
            break;
        case GP_SPARSE_INITIALIZER:
            return FAIL(c, AV_STATUS_UNSUPPORTED, "sparse initializers are not supported");
        default:
            break; /* doc_string, quantization_annotation, metadata_props */
        }
    }
    if (rc < 0)
        return MALFORMED(c, "graph");
    if (n_inputs > INT_MAX || n_outputs > INT_MAX)
        return FAIL(c, AV_STATUS_FORMAT, "graph: too many inputs or outputs");
    if (!(g->name = dup_slice(name, name_len)) ||
        !(g->inputs = av__calloc((size_t)n_inputs, sizeof *g->inputs)) ||
        !(g->outputs = av__calloc((size_t)n_outputs, sizeof *g->outputs)))
        return FAIL(c, AV_STATUS_OUT_OF_MEMORY, "out of memory");

    /* One pass per field, in the order definitions need: constants before the inputs that may
     * repeat them, nodes before the outputs and value_info that refer to what they produce. */
    static const int passes[] = {GP_INITIALIZER, GP_INPUT, GP_NODE, GP_OUTPUT, GP_VALUE_INFO};
    for (size_t p = 0; p < sizeof passes / sizeof passes[0]; p++) {
        int ordinal = 0;
        r = av__wire_reader(data, len);
        while (av__wire_next(&r, &f) == 1) {
            if ((int)f.number != passes[p])
                continue;
            switch (passes[p]) {
            case GP_INITIALIZER: st = import_initializer(c, &f, ordinal); break;
            case GP_INPUT: st = import_io(c, &f, ordinal, 0); break;
            case GP_NODE: st = import_node(c, &f, ordinal); break;
            case GP_OUTPUT: st = import_io(c, &f, ordinal, 1); break;
            default: st = import_value_info(c, &f); break;
            }
            if (st != AV_STATUS_OK)
                return st;
            if (ordinal == INT_MAX)
                return FAIL(c, AV_STATUS_FORMAT, "graph: too many fields");
            ordinal++;
        }
    }
    return check_defined(c);
}

/* ---- ModelProto --------------------------------------------------------------------------- */

/* OperatorSetIdProto: domain = 1, version = 2. */
static av_status import_opset(import_ctx *c, const av__wire_field *of)
{
    av__wire r = av__wire_reader(of->data, of->len);
    av__wire_field f;
    const uint8_t *domain = (const uint8_t *)"";
    size_t domain_len = 0;
    int64_t version = 0;
    int rc;
    while ((rc = av__wire_next(&r, &f)) == 1) {
        if (f.number == 1 && f.type == AV__WIRE_LEN) {
            domain = f.data;
            domain_len = f.len;
        } else if (f.number == 2 && f.type == AV__WIRE_VARINT) {
            version = (int64_t)f.value;
        } else if (f.number <= 2) {
            return MALFORMED(c, "opset_import");
        }
    }
    if (rc < 0)
        return MALFORMED(c, "opset_import");
    if (domain_len == 0 || (domain_len == 7 && memcmp(domain, "ai.onnx", 7) == 0))
        c->g->opset = version;
    else
        av__log(AV_LOG_LEVEL_INFO, "onnx: model imports operator set '%.*s' version %lld",
                domain_len > 200 ? 200 : (int)domain_len, (const char *)domain,
                (long long)version);
    return AV_STATUS_OK;
}

av_status av__onnx_load_memory(const void *bytes, size_t size, const char *base_dir,
                               av__graph **out, char *err, size_t err_size)
{
    import_ctx c = {NULL, base_dir, err, err_size, NULL, 0};
    const uint8_t *graph = NULL;
    size_t graph_len = 0;
    int n_graphs = 0, rc;
    av_status st = AV_STATUS_OK;
    if (!out || (!bytes && size))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__onnx_load_memory: NULL argument");
    *out = NULL;
    if (!(c.g = av__graph_create()))
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    av__wire r = av__wire_reader(bytes, size);
    av__wire_field f;
    while ((rc = av__wire_next(&r, &f)) == 1) {
        if (f.number == MP_IR_VERSION) {
            if (f.type != AV__WIRE_VARINT)
                break;
            c.g->ir_version = (int64_t)f.value;
        } else if (f.number == MP_PRODUCER_NAME || f.number == MP_GRAPH ||
                   f.number == MP_OPSET_IMPORT) {
            if (f.type != AV__WIRE_LEN)
                break;
            if (f.number == MP_PRODUCER_NAME) {
                av__free(c.g->producer_name);
                if (!(c.g->producer_name = dup_slice(f.data, f.len))) {
                    st = FAIL(&c, AV_STATUS_OUT_OF_MEMORY, "out of memory");
                    goto done;
                }
            } else if (f.number == MP_GRAPH) {
                graph = f.data;
                graph_len = f.len;
                n_graphs++;
            } else if ((st = import_opset(&c, &f)) != AV_STATUS_OK) {
                goto done;
            }
        }
    }
    if (rc != 0) {
        st = FAIL(&c, AV_STATUS_FORMAT,
                  "malformed protobuf at byte %zu of %zu (truncated, or not an ONNX model)",
                  (size_t)(r.p - (const uint8_t *)bytes), size);
        goto done;
    }
    if (n_graphs != 1) {
        st = n_graphs ? FAIL(&c, AV_STATUS_FORMAT, "model has %d graphs", n_graphs)
                      : FAIL(&c, AV_STATUS_FORMAT, "not an ONNX model: no graph");
        goto done;
    }
    if ((st = import_graph(&c, graph, graph_len)) != AV_STATUS_OK ||
        (st = av__graph_toposort(c.g, err, err_size)) != AV_STATUS_OK)
        goto done;
    *out = c.g;
    c.g = NULL;
done:
    av__graph_free(c.g);
    av__free(c.slots);
    return st;
}

/* ---- files -------------------------------------------------------------------------------- */

/* "PATH: " into err; returns the bytes used (at most err_size - 1). */
static size_t prefix_path(char *err, size_t err_size, const char *path)
{
    if (!err || err_size == 0)
        return 0;
    int n = snprintf(err, err_size, "%s: ", path);
    size_t used = n < 0 ? 0 : (size_t)n;
    return used < err_size ? used : err_size - 1;
}

/* The directory part of path ("." when it has none), av__malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return dup_slice((const uint8_t *)".", 1);
    return dup_slice((const uint8_t *)path, slash == path ? 1 : (size_t)(slash - path));
}

av_status av__onnx_load_file(const char *path, av__graph **out, char *err, size_t err_size)
{
    uint8_t *data = NULL;
    size_t size = 0;
    char *dir = NULL;
    av_status st;
    if (!path || !out)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__onnx_load_file: NULL argument");
    *out = NULL;
    size_t used = prefix_path(err, err_size, path);
    char *sub = err ? err + used : NULL;
    size_t sub_size = err ? err_size - used : 0;
    if ((st = av__onnx_read_file(path, &data, &size, sub, sub_size)) != AV_STATUS_OK)
        goto done;
    if (!(dir = dir_of(path))) {
        st = av__fail(sub, sub_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    st = av__onnx_load_memory(data, size, dir, out, sub, sub_size);
done:
    av__free(dir);
    av__free(data);
    return st;
}

av_status av__onnx_load_tensor_file(const char *path, av__tensor *out, char *name,
                                    size_t name_size, char *err, size_t err_size)
{
    uint8_t *data = NULL;
    size_t size = 0;
    char *dir = NULL;
    const uint8_t *tname;
    size_t tname_len;
    av_status st;
    if (!path || !out || (!name && name_size))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__onnx_load_tensor_file: NULL argument");
    memset(out, 0, sizeof *out);
    if (name_size)
        name[0] = '\0';
    size_t used = prefix_path(err, err_size, path);
    char *sub = err ? err + used : NULL;
    size_t sub_size = err ? err_size - used : 0;
    if ((st = av__onnx_read_file(path, &data, &size, sub, sub_size)) != AV_STATUS_OK)
        goto done;
    if (!(dir = dir_of(path))) {
        st = av__fail(sub, sub_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    if ((st = av__onnx_parse_tensor(data, size, dir, "tensor", out, &tname, &tname_len, sub,
                                    sub_size)) != AV_STATUS_OK)
        goto done;
    if (name_size) {
        size_t n = tname_len < name_size - 1 ? tname_len : name_size - 1;
        if (n)
            memcpy(name, tname, n);
        name[n] = '\0';
    }
done:
    av__free(dir);
    av__free(data);
    return st;
}
