/* onnx/import: models built byte by byte here with a tiny protobuf encoder (so every field form
 * the importer claims to read is exercised: packed and unpacked repeated fields, old-IR
 * attributes without `type`, initializers listed as inputs, external data), every refusal with
 * its status and message, every prefix of a valid model, the topological sort, the wire reader
 * on its own, TensorProto files, and a replay of the fuzz corpus tests/fuzz/corpus/onnx (ok_*
 * must load, bad_* must fail with a message). The official ONNX node tests are in
 * test_onnx_testdata.c. */
#define _POSIX_C_SOURCE 200809L /* opendir */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "corpus.h"
#include "core/internal.h"
#include "graph/passes.h"
#include "onnx/import.h"
#include "onnx/wire.h"

#define CORPUS_DIR AV_FIXTURES_DIR "/../fuzz/corpus/onnx"

/* ---- a tiny protobuf encoder ---------------------------------------------------------------- */

typedef struct pb {
    unsigned char *b;
    size_t n, cap;
} pb;

static void pb_raw(pb *p, const void *d, size_t n)
{
    if (p->n + n > p->cap) {
        size_t cap = p->cap ? p->cap : 64;
        while (cap < p->n + n)
            cap *= 2;
        unsigned char *b = realloc(p->b, cap);
        if (!b) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        p->b = b;
        p->cap = cap;
    }
    if (n)
        memcpy(p->b + p->n, d, n);
    p->n += n;
}

static void pb_varint(pb *p, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    do {
        b[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    pb_raw(p, b, n);
}

static void pb_tag(pb *p, unsigned field, int wire_type)
{
    pb_varint(p, (uint64_t)field << 3 | (unsigned)wire_type);
}

static void pb_int(pb *p, unsigned field, int64_t v)
{
    pb_tag(p, field, 0);
    pb_varint(p, (uint64_t)v);
}

static void pb_bytes(pb *p, unsigned field, const void *d, size_t n)
{
    pb_tag(p, field, 2);
    pb_varint(p, n);
    pb_raw(p, d, n);
}

static void pb_str(pb *p, unsigned field, const char *s)
{
    pb_bytes(p, field, s, strlen(s));
}

/* Appends m as a sub-message and frees it. */
static void pb_sub(pb *p, unsigned field, pb *m)
{
    pb_bytes(p, field, m->b, m->n);
    free(m->b);
    memset(m, 0, sizeof *m);
}

static void pb_f32(pb *p, unsigned field, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                          (unsigned char)(u >> 24)};
    pb_tag(p, field, 5);
    pb_raw(p, b, 4);
}

static void pb_free(pb *p)
{
    free(p->b);
    memset(p, 0, sizeof *p);
}

/* ---- ONNX messages ------------------------------------------------------------------------ */

enum { T_F32 = 1, T_U8 = 2, T_I8 = 3, T_I32 = 6, T_I64 = 7, T_STRING = 8, T_BOOL = 9,
       T_F16 = 10, T_F64 = 11, T_U32 = 12, T_U64 = 13 };
enum { RAW, PACKED, UNPACKED };

/* TensorProto header: name, data_type, dims (unpacked, as onnx's Python writer does). */
static pb tensor_head(const char *name, int dtype, int ndim, const int64_t *dims)
{
    pb t = {0};
    for (int k = 0; k < ndim; k++)
        pb_int(&t, 1, dims[k]);
    pb_int(&t, 2, dtype);
    if (name)
        pb_str(&t, 8, name);
    return t;
}

/* A float32 tensor with its data as raw_data, packed float_data or unpacked float_data. */
static pb tensor_f32(const char *name, int ndim, const int64_t *dims, const float *v, size_t n,
                     int mode)
{
    pb t = tensor_head(name, T_F32, ndim, dims);
    if (mode == RAW) {
        pb_bytes(&t, 9, v, n * 4);
    } else if (mode == PACKED) {
        pb_bytes(&t, 4, v, n * 4);
    } else {
        for (size_t i = 0; i < n; i++)
            pb_f32(&t, 4, v[i]);
    }
    return t;
}

/* ValueInfoProto of a tensor: dims[k] != -1 is a dim_value; -1 takes the next of `params` as a
 * dim_param (NULL or "": a dimension with neither). ndim < 0: no shape. */
static pb value_info(const char *name, int elem, int ndim, const int64_t *dims,
                     const char *const *params)
{
    pb shape = {0}, tt = {0}, type = {0}, vi = {0};
    for (int k = 0; k < ndim; k++) {
        pb dim = {0};
        if (dims[k] != -1)
            pb_int(&dim, 1, dims[k]);
        else if (params && *params && **params)
            pb_str(&dim, 2, *params++);
        else if (params && *params)
            params++;
        pb_sub(&shape, 1, &dim);
    }
    pb_int(&tt, 1, elem);
    if (ndim >= 0)
        pb_sub(&tt, 2, &shape);
    pb_free(&shape);
    pb_sub(&type, 1, &tt);
    pb_str(&vi, 1, name);
    pb_sub(&vi, 2, &type);
    return vi;
}

/* NodeProto; ins / outs are comma-separated names ("a,,b" has an omitted middle input). attrs
 * (n_attrs AttributeProtos) are consumed. */
static pb node(const char *op, const char *name, const char *ins, const char *outs, pb *attrs,
               int n_attrs)
{
    pb n = {0};
    const char *lists[2] = {ins, outs};
    for (int l = 0; l < 2; l++) {
        const char *s = lists[l];
        while (s && *s) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            pb_bytes(&n, (unsigned)(l + 1), s, len);
            if (!e)
                break;
            s = e + 1;
            if (!*s) /* a trailing comma: one more, empty */
                pb_bytes(&n, (unsigned)(l + 1), "", 0);
        }
    }
    if (name)
        pb_str(&n, 3, name);
    pb_str(&n, 4, op);
    for (int k = 0; k < n_attrs; k++)
        pb_sub(&n, 5, &attrs[k]);
    return n;
}

/* ModelProto around a graph (consumed) with ir_version 8 and default opset 17. */
static pb model(pb *graph)
{
    pb m = {0}, opset = {0};
    pb_int(&m, 1, 8);
    pb_str(&m, 2, "test_onnx");
    pb_sub(&m, 7, graph);
    pb_str(&opset, 1, "");
    pb_int(&opset, 2, 17);
    pb_sub(&m, 8, &opset);
    return m;
}

static const int64_t dims23[2] = {2, 3};

/* The Add model: inputs A, B float32 [2, 3], C = Add(A, B) output. */
static pb add_graph(void)
{
    pb g = {0}, n = node("Add", "add0", "A,B", "C", NULL, 0),
       a = value_info("A", T_F32, 2, dims23, NULL), b = value_info("B", T_F32, 2, dims23, NULL),
       c = value_info("C", T_F32, 2, dims23, NULL);
    pb_sub(&g, 1, &n);
    pb_str(&g, 2, "add_graph");
    pb_sub(&g, 11, &a);
    pb_sub(&g, 11, &b);
    pb_sub(&g, 12, &c);
    return g;
}

/* ---- helpers -------------------------------------------------------------------------------- */

static av__graph *load_ok(const pb *m, const char *base_dir, const char *what)
{
    char err[512] = "";
    av__graph *g = NULL;
    av_status st = av__onnx_load_memory(m->b, m->n, base_dir, &g, err, sizeof err);
    if (st != AV_STATUS_OK) {
        fprintf(stderr, "%s: load failed: %s\n", what, err);
        CHECK_INT(st, AV_STATUS_OK);
    }
    return g;
}

/* Loading must fail with `status` and a message containing `text`. Frees m. */
static void expect_fail(pb *m, const char *base_dir, av_status status, const char *text)
{
    char err[512] = "";
    av__graph *g = (av__graph *)(uintptr_t)1;
    av_status st = av__onnx_load_memory(m->b, m->n, base_dir, &g, err, sizeof err);
    if (st != status || !strstr(err, text)) {
        fprintf(stderr, "expected status %d with \"%s\", got %d \"%s\"\n", (int)status, text,
                (int)st, err);
        CHECK_INT(st, status);
        CHECK(strstr(err, text) != NULL);
    }
    CHECK(g == NULL);
    if (st == AV_STATUS_OK)
        av__graph_free(g);
    pb_free(m);
}

/* A model whose graph is `g` (consumed) must fail as expect_fail says. */
static void expect_graph_fail(pb *g, av_status status, const char *text)
{
    pb m = model(g);
    expect_fail(&m, NULL, status, text);
}

/* A graph with one float32 input X [2, 3], one Identity node X -> Y, output Y, and the extra
 * initializer `init` (consumed; may be empty). */
static pb graph_with_init(pb *init)
{
    pb g = {0}, n = node("Identity", NULL, "X", "Y", NULL, 0),
       x = value_info("X", T_F32, 2, dims23, NULL), y = value_info("Y", T_F32, 2, dims23, NULL);
    pb_sub(&g, 1, &n);
    if (init->n)
        pb_sub(&g, 5, init);
    pb_sub(&g, 11, &x);
    pb_sub(&g, 12, &y);
    return g;
}

static void write_file(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_INT(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static const av__value *value_named(const av__graph *g, const char *name)
{
    int v = av__graph_find_value(g, name);
    CHECK(v >= 0);
    return v >= 0 ? &g->values[v] : NULL;
}

/* ---- the wire reader ---------------------------------------------------------------------- */

static void test_wire(void)
{
    static const uint8_t ok[] = {0x08, 0x96, 0x01,             /* 1: varint 150 */
                                 0x15, 1, 2, 3, 4,             /* 2: fixed32 */
                                 0x19, 1, 0, 0, 0, 0, 0, 0, 0x80, /* 3: fixed64 */
                                 0x22, 2, 'h', 'i',            /* 4: "hi" */
                                 0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    av__wire r = av__wire_reader(ok, sizeof ok);
    av__wire_field f;
    CHECK_INT(av__wire_next(&r, &f), 1);
    CHECK_INT(f.number, 1);
    CHECK_INT(f.type, AV__WIRE_VARINT);
    CHECK_INT(f.value, 150);
    CHECK_INT(av__wire_next(&r, &f), 1);
    CHECK_INT(f.type, AV__WIRE_I32);
    CHECK_INT(f.value, 0x04030201);
    CHECK_INT(av__wire_next(&r, &f), 1);
    CHECK_INT(f.type, AV__WIRE_I64);
    CHECK(f.value == 0x8000000000000001u);
    CHECK_INT(av__wire_next(&r, &f), 1);
    CHECK_INT(f.type, AV__WIRE_LEN);
    CHECK_INT(f.len, 2);
    CHECK(memcmp(f.data, "hi", 2) == 0);
    CHECK_INT(av__wire_next(&r, &f), 1);
    CHECK(f.value == UINT64_MAX);
    CHECK_INT(av__wire_next(&r, &f), 0);
    CHECK_INT(av__wire_next(&r, &f), 0);

    /* Every prefix that cuts a field is malformed; the cuts between fields are clean ends. */
    for (size_t n = 0; n < sizeof ok; n++) {
        av__wire p = av__wire_reader(ok, n);
        int rc, fields = 0;
        while ((rc = av__wire_next(&p, &f)) == 1)
            fields++;
        int boundary = n == 0 || n == 3 || n == 8 || n == 17 || n == 21;
        CHECK_INT(rc, boundary ? 0 : -1);
        (void)fields;
    }

    static const uint8_t overlong[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80,
                                       0x80, 0x80, 0x80, 0x80, 0x80, 0x00}; /* 11 bytes */
    static const uint8_t overflow[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0x02};       /* bit 64 */
    static const uint8_t group[] = {0x0b, 0x0c};                            /* start / end group */
    static const uint8_t wt6[] = {0x0e, 0x00};
    static const uint8_t field0[] = {0x00, 0x01};
    static const uint8_t len_past[] = {0x0a, 0x05, 'a', 'b'};
    static const uint8_t len_huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    static const uint8_t fixed_short[] = {0x0d, 1, 2, 3};
    const struct { const uint8_t *b; size_t n; } bad[] = {
        {overlong, sizeof overlong}, {overflow, sizeof overflow}, {group, sizeof group},
        {wt6, sizeof wt6}, {field0, sizeof field0}, {len_past, sizeof len_past},
        {len_huge, sizeof len_huge}, {fixed_short, sizeof fixed_short},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        av__wire p = av__wire_reader(bad[i].b, bad[i].n);
        const uint8_t *before = p.p;
        CHECK_INT(av__wire_next(&p, &f), -1);
        CHECK(p.p == before);
    }

    /* Packed and unpacked repeated fields. */
    static const uint8_t packed[] = {0x0a, 4, 0x01, 0x96, 0x01, 0x7f};
    r = av__wire_reader(packed, sizeof packed);
    CHECK_INT(av__wire_next(&r, &f), 1);
    CHECK_INT(av__wire_varints_count(&f), 3);
    av__wire_varints it = av__wire_varints_begin(&f);
    uint64_t v, got[3] = {0, 0, 0};
    int k = 0;
    while (av__wire_varints_next(&it, &v) && k < 3)
        got[k++] = v;
    CHECK_INT(k, 3);
    CHECK_INT(got[0], 1);
    CHECK_INT(got[1], 150);
    CHECK_INT(got[2], 127);
    static const uint8_t packed_bad[] = {0x0a, 2, 0x01, 0x96};
    r = av__wire_reader(packed_bad, sizeof packed_bad);
    CHECK_INT(av__wire_next(&r, &f), 1);
    CHECK_INT(av__wire_varints_count(&f), -1);
    CHECK_INT(av__wire_fixed_count(&f, 4), -1);
    CHECK_INT(av__wire_fixed_count(&f, 8), -1);
    static const uint8_t fixed4[] = {0x0a, 8, 1, 0, 0, 0, 2, 0, 0, 0};
    r = av__wire_reader(fixed4, sizeof fixed4);
    CHECK_INT(av__wire_next(&r, &f), 1);
    CHECK_INT(av__wire_fixed_count(&f, 4), 2);
    CHECK_INT(av__wire_fixed_count(&f, 8), 1);
    uint32_t u[2] = {0, 0};
    CHECK_INT(av__wire_fixed_read(&f, 4, u), 2);
    CHECK_INT(u[0], 1);
    CHECK_INT(u[1], 2);
    r = av__wire_reader(ok, sizeof ok);
    CHECK_INT(av__wire_next(&r, &f), 1);           /* a VARINT field is one element */
    CHECK_INT(av__wire_varints_count(&f), 1);
    CHECK_INT(av__wire_fixed_count(&f, 4), -1);
    CHECK_INT(av__wire_next(&r, &f), 1);           /* an I32 field is one fixed32 element */
    CHECK_INT(av__wire_fixed_count(&f, 4), 1);
    CHECK_INT(av__wire_fixed_count(&f, 8), -1);
    CHECK_INT(av__wire_varints_count(&f), -1);
    CHECK_INT(av__wire_fixed_read(&f, 4, u), 1);
    CHECK_INT(u[0], 0x04030201);
}

/* ---- successful imports --------------------------------------------------------------------- */

static void test_minimal_add(void)
{
    pb g = add_graph(), m = model(&g);
    av__graph *gr = load_ok(&m, NULL, "add");
    pb_free(&m);
    if (!gr)
        return;
    CHECK_INT(gr->ir_version, 8);
    CHECK_INT(gr->opset, 17);
    CHECK_STR(gr->producer_name, "test_onnx");
    CHECK_STR(gr->name, "add_graph");
    CHECK_INT(gr->n_nodes, 1);
    CHECK_INT(gr->n_inputs, 2);
    CHECK_INT(gr->n_outputs, 1);
    CHECK_INT(gr->n_values, 3);
    const av__node *n = &gr->nodes[0];
    CHECK_STR(n->op_type, "Add");
    CHECK_STR(n->name, "add0");
    CHECK_STR(n->domain, "");
    CHECK_INT(n->n_inputs, 2);
    CHECK_INT(n->n_outputs, 1);
    CHECK_INT(n->n_attrs, 0);
    CHECK_STR(gr->values[gr->inputs[0]].name, "A");
    CHECK_STR(gr->values[gr->inputs[1]].name, "B");
    CHECK_STR(gr->values[gr->outputs[0]].name, "C");
    CHECK_INT(n->inputs[0], gr->inputs[0]);
    CHECK_INT(n->inputs[1], gr->inputs[1]);
    CHECK_INT(n->outputs[0], gr->outputs[0]);
    const av__value *a = &gr->values[gr->inputs[0]], *c = &gr->values[gr->outputs[0]];
    CHECK_INT(a->flags, AV__VALUE_INPUT);
    CHECK_INT(a->dtype, AV__DT_F32);
    CHECK_INT(a->ndim, 2);
    CHECK_INT(a->dims[0].value, 2);
    CHECK_INT(a->dims[1].value, 3);
    CHECK(a->dims[0].param == NULL);
    CHECK_INT(a->producer, -1);
    CHECK_INT(c->flags, AV__VALUE_OUTPUT);
    CHECK_INT(c->producer, 0);
    CHECK_INT(c->dtype, AV__DT_F32);
    av__graph_free(gr);
}

static void check_floats(const av__value *v, const float *want, size_t n)
{
    if (!v)
        return;
    CHECK(v->flags & AV__VALUE_CONST);
    CHECK_INT(v->constant.dtype, AV__DT_F32);
    CHECK_INT(av__tensor_count(&v->constant), n);
    CHECK((uintptr_t)v->constant.data % 64 == 0);
    const float *d = v->constant.data;
    for (size_t i = 0; d && i < n; i++)
        CHECK_NEAR(d[i], want[i], 0);
}

/* Initializers in every encoding; typed fields of each element type. */
static void test_initializers(void)
{
    static const float w[6] = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f};
    const int64_t d6[1] = {6}, d3[1] = {3}, d4[1] = {4};
    pb g = {0}, t;
    pb n = node("Identity", NULL, "X", "Y", NULL, 0), x = value_info("X", T_F32, 2, dims23, NULL),
       y = value_info("Y", T_F32, 2, dims23, NULL);
    pb_sub(&g, 1, &n);
    t = tensor_f32("raw", 2, dims23, w, 6, RAW);
    pb_sub(&g, 5, &t);
    t = tensor_f32("packed", 1, d6, w, 6, PACKED);
    pb_sub(&g, 5, &t);
    t = tensor_f32("unpacked", 1, d6, w, 6, UNPACKED);
    pb_sub(&g, 5, &t);
    /* float_data split over a packed run and single elements, mixed. */
    t = tensor_head("mixed", T_F32, 1, d6);
    pb_bytes(&t, 4, w, 8);
    pb_f32(&t, 4, w[2]);
    pb_bytes(&t, 4, w + 3, 12);
    pb_sub(&g, 5, &t);
    /* dims packed (proto3 writers) */
    t = (pb){0};
    {
        pb dims = {0};
        pb_varint(&dims, 2);
        pb_varint(&dims, 3);
        pb_sub(&t, 1, &dims);
    }
    pb_int(&t, 2, T_F32);
    pb_str(&t, 8, "packed_dims");
    pb_bytes(&t, 9, w, 24);
    pb_sub(&g, 5, &t);
    /* int64: packed and unpacked int64_data, negative values */
    t = tensor_head("i64", T_I64, 1, d4);
    pb_int(&t, 7, -1);
    {
        pb run = {0};
        pb_varint(&run, (uint64_t)INT64_MIN);
        pb_varint(&run, 300);
        pb_sub(&t, 7, &run);
    }
    pb_int(&t, 7, INT64_MAX);
    pb_sub(&g, 5, &t);
    /* int32_data carries int8 (negative: sign-extended varints), bool, float16 bits, int32 */
    t = tensor_head("i8", T_I8, 1, d3);
    pb_int(&t, 5, -128);
    pb_int(&t, 5, 127);
    pb_int(&t, 5, -1);
    pb_sub(&g, 5, &t);
    t = tensor_head("b", T_BOOL, 1, d3);
    pb_int(&t, 5, 1);
    pb_int(&t, 5, 0);
    pb_int(&t, 5, 1);
    pb_sub(&g, 5, &t);
    t = tensor_head("braw", T_BOOL, 1, d3);
    pb_bytes(&t, 9, "\x00\x02\x01", 3); /* non-zero bytes become 1 */
    pb_sub(&g, 5, &t);
    t = tensor_head("h", T_F16, 1, d3);
    pb_int(&t, 5, 0x3c00);
    pb_int(&t, 5, 0xc000);
    pb_int(&t, 5, 0x7bff);
    pb_sub(&g, 5, &t);
    t = tensor_head("i32", T_I32, 1, d3);
    pb_int(&t, 5, INT32_MIN);
    pb_int(&t, 5, 0);
    pb_int(&t, 5, INT32_MAX);
    pb_sub(&g, 5, &t);
    /* uint64_data: uint32 and uint64 */
    t = tensor_head("u32", T_U32, 1, d3);
    pb_int(&t, 11, 0);
    pb_int(&t, 11, 7);
    pb_int(&t, 11, UINT32_MAX);
    pb_sub(&g, 5, &t);
    t = tensor_head("u64", T_U64, 1, d3);
    pb_int(&t, 11, 1);
    pb_int(&t, 11, 2);
    pb_tag(&t, 11, 0);
    pb_varint(&t, UINT64_MAX);
    pb_sub(&g, 5, &t);
    /* double_data, packed and unpacked */
    t = tensor_head("f64", T_F64, 1, d3);
    {
        const double dd[2] = {0.5, -1e300};
        pb_bytes(&t, 10, dd, 16);
        pb_tag(&t, 10, 1);
        const uint64_t third = 0x4008000000000000u; /* 3.0 */
        unsigned char b[8];
        for (int k = 0; k < 8; k++)
            b[k] = (unsigned char)(third >> (8 * k));
        pb_raw(&t, b, 8);
    }
    pb_sub(&g, 5, &t);
    /* a scalar, an empty tensor, a zero dimension next to a big one; int64 dims */
    t = tensor_head("scalar", T_F32, 0, NULL);
    pb_f32(&t, 4, 42.0f);
    pb_sub(&g, 5, &t);
    {
        const int64_t de[3] = {1, 0, 5000000000};
        t = tensor_head("empty", T_F32, 3, de);
        pb_sub(&g, 5, &t);
    }
    pb_sub(&g, 11, &x);
    pb_sub(&g, 12, &y);
    pb m = model(&g);
    av__graph *gr = load_ok(&m, NULL, "initializers");
    pb_free(&m);
    if (!gr)
        return;
    CHECK_INT(gr->n_inputs, 1);
    const av__value *v = value_named(gr, "raw");
    check_floats(v, w, 6);
    if (v) {
        CHECK_INT(v->ndim, 2);
        CHECK_INT(v->dims[0].value, 2);
        CHECK_INT(v->dims[1].value, 3);
        CHECK_INT(v->constant.shape[1], 3);
        CHECK_INT(v->producer, -1);
        CHECK_INT(v->flags, AV__VALUE_CONST);
    }
    check_floats(value_named(gr, "packed"), w, 6);
    check_floats(value_named(gr, "unpacked"), w, 6);
    check_floats(value_named(gr, "mixed"), w, 6);
    check_floats(value_named(gr, "packed_dims"), w, 6);
    if ((v = value_named(gr, "packed_dims"))) {
        CHECK_INT(v->constant.ndim, 2);
        CHECK_INT(v->constant.shape[0], 2);
    }
    if ((v = value_named(gr, "i64"))) {
        const int64_t *d = v->constant.data;
        CHECK_INT(v->dtype, AV__DT_I64);
        CHECK(d[0] == -1 && d[1] == INT64_MIN && d[2] == 300 && d[3] == INT64_MAX);
    }
    if ((v = value_named(gr, "i8"))) {
        const int8_t *d = v->constant.data;
        CHECK_INT(d[0], -128);
        CHECK_INT(d[1], 127);
        CHECK_INT(d[2], -1);
    }
    if ((v = value_named(gr, "b"))) {
        const uint8_t *d = v->constant.data;
        CHECK(d[0] == 1 && d[1] == 0 && d[2] == 1);
    }
    if ((v = value_named(gr, "braw"))) {
        const uint8_t *d = v->constant.data;
        CHECK(d[0] == 0 && d[1] == 1 && d[2] == 1);
    }
    if ((v = value_named(gr, "h"))) {
        const uint16_t *d = v->constant.data;
        CHECK_INT(v->dtype, AV__DT_F16);
        CHECK(d[0] == 0x3c00 && d[1] == 0xc000 && d[2] == 0x7bff);
    }
    if ((v = value_named(gr, "i32"))) {
        const int32_t *d = v->constant.data;
        CHECK(d[0] == INT32_MIN && d[1] == 0 && d[2] == INT32_MAX);
    }
    if ((v = value_named(gr, "u32"))) {
        const uint32_t *d = v->constant.data;
        CHECK_INT(v->dtype, AV__DT_U32);
        CHECK(d[0] == 0 && d[1] == 7 && d[2] == UINT32_MAX);
    }
    if ((v = value_named(gr, "u64"))) {
        const uint64_t *d = v->constant.data;
        CHECK(d[0] == 1 && d[1] == 2 && d[2] == UINT64_MAX);
    }
    if ((v = value_named(gr, "f64"))) {
        const double *d = v->constant.data;
        CHECK_NEAR(d[0], 0.5, 0);
        CHECK_NEAR(d[1], -1e300, 0);
        CHECK_NEAR(d[2], 3.0, 0);
    }
    if ((v = value_named(gr, "scalar"))) {
        CHECK_INT(v->ndim, 0);
        CHECK_INT(v->constant.ndim, 0);
        CHECK_INT(av__tensor_count(&v->constant), 1);
        CHECK_NEAR(*(const float *)v->constant.data, 42.0f, 0);
    }
    if ((v = value_named(gr, "empty"))) {
        CHECK_INT(v->ndim, 3);
        CHECK_INT(v->dims[2].value, 5000000000);
        CHECK_INT(av__tensor_count(&v->constant), 0);
        CHECK(v->constant.data != NULL);
    }
    av__graph_free(gr);
}

/* dim_param, unknown dims, no shape, int64 dims, value_info on intermediates. */
static void test_shapes(void)
{
    const int64_t dx[3] = {-1, 3, -1};
    const char *const px[2] = {"batch", ""};
    const int64_t dbig[2] = {5000000000, 0};
    const int64_t dh[1] = {-1};
    const char *const ph[1] = {"time"};
    pb g = {0}, n1 = node("Relu", "r", "X", "H", NULL, 0), n2 = node("Neg", "n", "H", "Y", NULL, 0),
       x = value_info("X", T_F32, 3, dx, px), y = value_info("Y", T_F32, -1, NULL, NULL),
       big = value_info("BIG", T_I64, 2, dbig, NULL), h = value_info("H", T_F16, 1, dh, ph),
       unused = value_info("nobody", T_F32, 0, NULL, NULL);
    pb_sub(&g, 1, &n1);
    pb_sub(&g, 1, &n2);
    pb_sub(&g, 11, &x);
    pb_sub(&g, 11, &big);
    pb_sub(&g, 12, &y);
    pb_sub(&g, 13, &h);
    pb_sub(&g, 13, &unused);
    pb m = model(&g);
    av__graph *gr = load_ok(&m, NULL, "shapes");
    pb_free(&m);
    if (!gr)
        return;
    const av__value *v = value_named(gr, "X");
    if (v) {
        CHECK_INT(v->ndim, 3);
        CHECK_INT(v->dims[0].value, -1);
        CHECK_STR(v->dims[0].param, "batch");
        CHECK_INT(v->dims[1].value, 3);
        CHECK(v->dims[1].param == NULL);
        CHECK_INT(v->dims[2].value, -1);
        CHECK(v->dims[2].param == NULL);
    }
    if ((v = value_named(gr, "Y"))) {
        CHECK_INT(v->ndim, -1);
        CHECK_INT(v->dtype, AV__DT_F32);
    }
    if ((v = value_named(gr, "BIG"))) {
        CHECK_INT(v->dtype, AV__DT_I64);
        CHECK_INT(v->dims[0].value, 5000000000);
        CHECK_INT(v->dims[1].value, 0);
    }
    if ((v = value_named(gr, "H"))) { /* value_info */
        CHECK_INT(v->dtype, AV__DT_F16);
        CHECK_INT(v->ndim, 1);
        CHECK_STR(v->dims[0].param, "time");
        CHECK_INT(v->flags, 0);
        CHECK_INT(v->producer, 0);
    }
    CHECK_INT(av__graph_find_value(gr, "nobody"), -1); /* value_info of no value: ignored */
    av__graph_free(gr);
}

static pb attr_head(const char *name, int type)
{
    pb a = {0};
    pb_str(&a, 1, name);
    if (type)
        pb_int(&a, 20, type);
    return a;
}

static void test_attributes(void)
{
    pb at[14];
    int k = 0;
    at[k] = attr_head("alpha", 1);
    pb_f32(&at[k++], 2, 0.25f);
    at[k] = attr_head("axis", 2);
    pb_int(&at[k++], 3, -3);
    at[k] = attr_head("mode", 3);
    pb_bytes(&at[k++], 4, "lin\0ear", 7);
    at[k] = attr_head("value", 4);
    {
        const int64_t d[1] = {2};
        const float v[2] = {7.0f, 8.0f};
        pb t = tensor_f32("cval", 1, d, v, 2, RAW);
        pb_sub(&at[k++], 5, &t);
    }
    at[k] = attr_head("body", 5);
    {
        pb sub = add_graph();
        pb_sub(&at[k++], 6, &sub);
    }
    at[k] = attr_head("scales", 6); /* packed floats */
    {
        const float f[3] = {1.0f, 2.0f, 0.5f};
        pb_bytes(&at[k++], 7, f, 12);
    }
    at[k] = attr_head("scales_u", 6); /* unpacked floats */
    pb_f32(&at[k], 7, -1.0f);
    pb_f32(&at[k++], 7, 4.0f);
    at[k] = attr_head("pads", 7); /* unpacked ints */
    pb_int(&at[k], 8, 1);
    pb_int(&at[k], 8, -2);
    pb_int(&at[k++], 8, INT64_MAX);
    at[k] = attr_head("perm", 7); /* packed ints */
    {
        pb run = {0};
        pb_varint(&run, 2);
        pb_varint(&run, 0);
        pb_varint(&run, (uint64_t)-1);
        pb_sub(&at[k++], 8, &run);
    }
    at[k] = attr_head("names", 8);
    pb_str(&at[k], 9, "a");
    pb_str(&at[k], 9, "");
    pb_str(&at[k++], 9, "ccc");
    at[k] = attr_head("many", 9); /* TENSORS: no slot in the IR */
    {
        pb t = tensor_head("t0", T_F32, 0, NULL);
        pb_f32(&t, 4, 1.0f);
        pb_sub(&at[k++], 10, &t);
    }
    /* IR 1: no type field, the kind follows from the field present */
    at[k] = attr_head("old_ints", 0);
    pb_int(&at[k], 8, 5);
    pb_int(&at[k++], 8, 6);
    at[k] = attr_head("old_f", 0);
    pb_f32(&at[k++], 2, 2.5f);
    at[k] = attr_head("empty_ints", 7);
    k++;
    pb g = {0}, n = node("Custom", "c", "X", "Y", at, k),
       x = value_info("X", T_F32, 2, dims23, NULL), y = value_info("Y", T_F32, 2, dims23, NULL);
    pb_sub(&g, 1, &n);
    pb_sub(&g, 11, &x);
    pb_sub(&g, 12, &y);
    pb m = model(&g);
    av__graph *gr = load_ok(&m, NULL, "attributes");
    pb_free(&m);
    if (!gr)
        return;
    const av__node *nd = &gr->nodes[0];
    CHECK_INT(nd->n_attrs, 14);
    CHECK_NEAR(av__attr_float(nd, "alpha", 0), 0.25, 0);
    CHECK_INT(av__attr_int(nd, "axis", 0), -3);
    const av__attr *a = av__node_attr(nd, "mode");
    CHECK(a != NULL);
    if (a) {
        CHECK_INT(a->type, AV__ATTR_STRING);
        CHECK_INT(a->s_len, 7);
        CHECK(memcmp(a->s, "lin\0ear", 8) == 0);
    }
    const av__tensor *t = av__attr_tensor(nd, "value");
    CHECK(t != NULL);
    if (t) {
        CHECK_INT(t->dtype, AV__DT_F32);
        CHECK_INT(t->ndim, 1);
        CHECK_INT(t->shape[0], 2);
        CHECK((uintptr_t)t->data % 64 == 0);
        CHECK_NEAR(((const float *)t->data)[1], 8.0, 0);
    }
    CHECK_INT(av__graph_find_value(gr, "cval"), -1); /* Constant tensors stay attributes */
    a = av__node_attr(nd, "body");
    CHECK(a && a->type == AV__ATTR_GRAPH);
    CHECK_INT(av__graph_find_value(gr, "A"), -1); /* the subgraph is not imported */
    int count;
    const float *f = av__attr_floats(nd, "scales", &count);
    CHECK_INT(count, 3);
    if (f && count == 3)
        CHECK(f[0] == 1.0f && f[1] == 2.0f && f[2] == 0.5f);
    f = av__attr_floats(nd, "scales_u", &count);
    CHECK_INT(count, 2);
    if (f && count == 2)
        CHECK(f[0] == -1.0f && f[1] == 4.0f);
    const int64_t *i = av__attr_ints(nd, "pads", &count);
    CHECK_INT(count, 3);
    if (i && count == 3)
        CHECK(i[0] == 1 && i[1] == -2 && i[2] == INT64_MAX);
    i = av__attr_ints(nd, "perm", &count);
    CHECK_INT(count, 3);
    if (i && count == 3)
        CHECK(i[0] == 2 && i[1] == 0 && i[2] == -1);
    a = av__node_attr(nd, "names");
    CHECK(a != NULL);
    if (a) {
        CHECK_INT(a->type, AV__ATTR_STRINGS);
        CHECK_INT(a->count, 3);
        if (a->count == 3) {
            CHECK_STR(a->strings[0], "a");
            CHECK_STR(a->strings[1], "");
            CHECK_STR(a->strings[2], "ccc");
        }
    }
    a = av__node_attr(nd, "many");
    CHECK(a && a->type == AV__ATTR_UNDEFINED);
    i = av__attr_ints(nd, "old_ints", &count);
    CHECK_INT(count, 2);
    if (i && count == 2)
        CHECK(i[0] == 5 && i[1] == 6);
    CHECK_NEAR(av__attr_float(nd, "old_f", 0), 2.5, 0);
    a = av__node_attr(nd, "empty_ints");
    CHECK(a && a->type == AV__ATTR_INTS && a->count == 0);
    av__graph_free(gr);
}

static int log_lines;
static char log_last[256];
static void log_cb(av_log_level level, const char *message, void *user)
{
    (void)user;
    if (level == AV_LOG_LEVEL_INFO) {
        log_lines++;
        snprintf(log_last, sizeof log_last, "%s", message);
    }
}

static void test_opset(void)
{
    /* Several opset entries: ai.onnx counts as the default domain; others are logged. */
    pb g = add_graph(), m = {0}, o1 = {0}, o2 = {0};
    pb_int(&m, 1, 7);
    pb_str(&o1, 1, "com.microsoft");
    pb_int(&o1, 2, 1);
    pb_sub(&m, 8, &o1);
    pb_sub(&m, 7, &g); /* graph after an opset: field order does not matter */
    pb_str(&o2, 1, "ai.onnx");
    pb_int(&o2, 2, 13);
    pb_sub(&m, 8, &o2);
    av_log_set_callback(log_cb, NULL);
    av__graph *gr = load_ok(&m, NULL, "opset");
    av_log_set_callback(NULL, NULL);
    pb_free(&m);
    if (gr) {
        CHECK_INT(gr->opset, 13);
        CHECK_INT(gr->ir_version, 7);
        CHECK(gr->producer_name == NULL);
        av__graph_free(gr);
    }
    CHECK_INT(log_lines, 1);
    CHECK(strstr(log_last, "com.microsoft") != NULL);

    /* No opset_import (IR 1 / 2): opset 1. */
    g = add_graph();
    pb_sub(&m, 7, &g);
    gr = load_ok(&m, NULL, "no opset");
    pb_free(&m);
    if (gr) {
        CHECK_INT(gr->opset, 1);
        av__graph_free(gr);
    }
}

/* IR 3: the initializer W is listed among the inputs too; it is a constant, not an input. */
static void test_ir3_initializer_input(void)
{
    static const float wv[6] = {1, 2, 3, 4, 5, 6};
    pb g = {0}, n = node("Add", NULL, "X,W", "Y", NULL, 0),
       t = tensor_f32("W", 2, dims23, wv, 6, RAW), x = value_info("X", T_F32, 2, dims23, NULL),
       w = value_info("W", T_F32, 2, dims23, NULL), y = value_info("Y", T_F32, 2, dims23, NULL);
    pb_sub(&g, 11, &x); /* inputs before the initializer in the file */
    pb_sub(&g, 11, &w);
    pb_sub(&g, 1, &n);
    pb_sub(&g, 5, &t);
    pb_sub(&g, 12, &y);
    pb m = {0};
    pb_int(&m, 1, 3);
    pb_sub(&m, 7, &g);
    av__graph *gr = load_ok(&m, NULL, "ir3");
    pb_free(&m);
    if (!gr)
        return;
    CHECK_INT(gr->n_inputs, 1);
    CHECK_STR(gr->values[gr->inputs[0]].name, "X");
    const av__value *v = value_named(gr, "W");
    if (v) {
        CHECK_INT(v->flags, AV__VALUE_CONST);
        check_floats(v, wv, 6);
    }
    av__graph_free(gr);
}

/* Unnamed nodes, omitted optional inputs / outputs, nodes out of order, a graph input passed
 * straight to an output. */
static void test_nodes(void)
{
    pb g = {0}, n1 = node("Relu", NULL, "H", "Y", NULL, 0),
       n2 = node("Dropout", NULL, "X,,", "H,", NULL, 0),
       x = value_info("X", T_F32, 2, dims23, NULL), y = value_info("Y", T_F32, 2, dims23, NULL),
       x2 = value_info("X", T_F32, 2, dims23, NULL);
    pb_sub(&g, 1, &n1); /* consumer first: the sort fixes it */
    pb_sub(&g, 1, &n2);
    pb_sub(&g, 11, &x);
    pb_sub(&g, 12, &y);
    pb_sub(&g, 12, &x2);
    pb m = model(&g);
    av__graph *gr = load_ok(&m, NULL, "nodes");
    pb_free(&m);
    if (!gr)
        return;
    CHECK_INT(gr->n_nodes, 2);
    CHECK_STR(gr->nodes[0].op_type, "Dropout");
    CHECK_STR(gr->nodes[1].op_type, "Relu");
    CHECK_INT(gr->nodes[0].n_inputs, 3);
    CHECK_INT(gr->nodes[0].inputs[1], -1);
    CHECK_INT(gr->nodes[0].inputs[2], -1);
    CHECK_INT(gr->nodes[0].n_outputs, 2);
    CHECK_INT(gr->nodes[0].outputs[1], -1);
    CHECK_INT(value_named(gr, "H")->producer, 0);
    CHECK_INT(value_named(gr, "Y")->producer, 1);
    CHECK_INT(gr->n_outputs, 2);
    CHECK_INT(value_named(gr, "X")->flags, AV__VALUE_INPUT | AV__VALUE_OUTPUT);
    CHECK_INT(av__graph_find_value(gr, ""), -1);
    av__graph_free(gr);
}

/* ---- external data ------------------------------------------------------------------------ */

static pb external_tensor(const char *location, const char *offset, const char *length)
{
    pb t = tensor_head("W", T_F32, 2, dims23);
    const char *keys[3] = {"location", "offset", "length"};
    const char *vals[3] = {location, offset, length};
    for (int k = 0; k < 3; k++) {
        if (!vals[k])
            continue;
        pb e = {0};
        pb_str(&e, 1, keys[k]);
        pb_str(&e, 2, vals[k]);
        pb_sub(&t, 13, &e);
    }
    pb_int(&t, 14, 1);
    return t;
}

static pb external_model(const char *location, const char *offset, const char *length)
{
    pb t = external_tensor(location, offset, length), g = graph_with_init(&t);
    return model(&g);
}

static void test_external(void)
{
    static const float wv[6] = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f};
    unsigned char file[16 + 24 + 8];
    memset(file, 0xab, sizeof file);
    memcpy(file + 16, wv, 24);
    write_file(AV_TEST_TMPDIR "/onnx_weights.bin", file, sizeof file);
    write_file(AV_TEST_TMPDIR "/onnx_weights_exact.bin", wv, 24);

    pb m = external_model("onnx_weights.bin", "16", "24");
    av__graph *gr = load_ok(&m, AV_TEST_TMPDIR, "external");
    if (gr) {
        check_floats(value_named(gr, "W"), wv, 6);
        av__graph_free(gr);
    }
    /* The same model from a file: external data relative to the file's directory. */
    write_file(AV_TEST_TMPDIR "/onnx_external.onnx", m.b, m.n);
    char err[512] = "";
    gr = NULL;
    CHECK_INT(av__onnx_load_file(AV_TEST_TMPDIR "/onnx_external.onnx", &gr, err, sizeof err),
              AV_STATUS_OK);
    if (gr) {
        check_floats(value_named(gr, "W"), wv, 6);
        av__graph_free(gr);
    } else {
        fprintf(stderr, "external from file: %s\n", err);
    }
    /* From memory, external data has nowhere to come from. */
    expect_fail(&m, NULL, AV_STATUS_UNSUPPORTED, "initializer 'W': external data");

    /* Offset and length are optional. */
    m = external_model("onnx_weights_exact.bin", NULL, NULL);
    gr = load_ok(&m, AV_TEST_TMPDIR, "external whole file");
    if (gr) {
        check_floats(value_named(gr, "W"), wv, 6);
        av__graph_free(gr);
    }
    pb_free(&m);
    m = external_model("./onnx_weights.bin", "16", NULL); /* whole rest: 32 bytes, not 24 */
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "external data has 32 bytes");

    m = external_model("../onnx_weights.bin", "16", "24");
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "must be a relative path without '..'");
    m = external_model("sub/../../x.bin", NULL, NULL);
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "without '..'");
    m = external_model("..", NULL, NULL);
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "without '..'");
    m = external_model(AV_TEST_TMPDIR "/onnx_weights.bin", "16", "24");
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "must be a relative path");
    m = external_model("..\\onnx_weights.bin", NULL, NULL);
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "without '..'");
    m = external_model("onnx_weights.bin", "100", NULL);
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "past the end");
    m = external_model("onnx_weights.bin", "40", "24");
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "runs past the end");
    m = external_model("onnx_weights.bin", "0", "20");
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "external data has 20 bytes");
    m = external_model("onnx_weights.bin", "1x", "24");
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "not a number");
    m = external_model("onnx_weights.bin", "99999999999999999999999", "24");
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "not a number");
    m = external_model("no_such_file.bin", NULL, NULL);
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_IO, "cannot open");
    m = external_model(NULL, NULL, NULL);
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "without a location");
    /* external plus raw_data */
    pb t = external_tensor("onnx_weights.bin", "16", "24");
    pb_bytes(&t, 9, wv, 24);
    pb g = graph_with_init(&t);
    m = model(&g);
    expect_fail(&m, AV_TEST_TMPDIR, AV_STATUS_FORMAT, "more than one form");
}

/* ---- refusals ----------------------------------------------------------------------------- */

static void fail_init(pb *t, av_status status, const char *text)
{
    pb g = graph_with_init(t);
    expect_graph_fail(&g, status, text);
}

static void test_tensor_refusals(void)
{
    static const float w[6] = {0};
    const int64_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const int64_t dneg[2] = {2, -3};
    const int64_t dhuge[3] = {1LL << 40, 1LL << 40, 0};
    const int64_t dhuge2[2] = {1LL << 40, 1LL << 40};
    const int64_t d2[1] = {2};
    pb t;

    t = tensor_head("s", T_STRING, 1, d2);
    pb_str(&t, 6, "hello");
    pb_str(&t, 6, "world");
    fail_init(&t, AV_STATUS_UNSUPPORTED, "initializer 's': string tensors are not supported");
    t = tensor_head("s", T_STRING, 0, NULL);
    fail_init(&t, AV_STATUS_UNSUPPORTED, "string tensors are not supported");
    t = tensor_f32("w9", 9, d9, w, 1, RAW);
    fail_init(&t, AV_STATUS_FORMAT, "initializer 'w9': 9 dimensions");
    t = tensor_f32("wn", 2, dneg, w, 6, RAW);
    fail_init(&t, AV_STATUS_FORMAT, "initializer 'wn': negative dimension");
    t = tensor_f32("wh", 3, dhuge, w, 0, RAW);
    fail_init(&t, AV_STATUS_FORMAT, "initializer 'wh': shape float32 [1099511627776, "
                                    "1099511627776, 0] is too large");
    t = tensor_f32("wh2", 2, dhuge2, w, 0, PACKED);
    fail_init(&t, AV_STATUS_FORMAT, "too large");
    t = tensor_f32("wr", 2, dims23, w, 5, RAW);
    fail_init(&t, AV_STATUS_FORMAT,
              "initializer 'wr': raw_data has 20 bytes, float32 [2, 3] needs 24");
    t = tensor_f32("wp", 2, dims23, w, 5, PACKED);
    fail_init(&t, AV_STATUS_FORMAT, "float_data has 5 elements, float32 [2, 3] needs 6");
    t = tensor_f32("wu", 2, dims23, w, 6, UNPACKED);
    pb_f32(&t, 4, 1.0f);
    fail_init(&t, AV_STATUS_FORMAT, "float_data has 7 elements");
    t = tensor_head("nodata", T_F32, 2, dims23);
    fail_init(&t, AV_STATUS_FORMAT, "has 0 elements, float32 [2, 3] needs 6");
    t = tensor_head("u", 99, 1, d2);
    fail_init(&t, AV_STATUS_FORMAT, "initializer 'u': unknown data_type 99");
    t = tensor_head("u0", 0, 1, d2);
    fail_init(&t, AV_STATUS_FORMAT, "unknown data_type 0");
    t = tensor_head("c", 14, 1, d2);
    pb_bytes(&t, 9, w, 16);
    fail_init(&t, AV_STATUS_UNSUPPORTED, "complex64 tensors are not supported");
    t = tensor_head("f8", 17, 1, d2);
    pb_bytes(&t, 9, w, 2);
    fail_init(&t, AV_STATUS_UNSUPPORTED, "float8e4m3fn tensors are not supported");
    t = tensor_head("wrongfield", T_F32, 1, d2);
    pb_int(&t, 7, 1);
    pb_int(&t, 7, 2);
    fail_init(&t, AV_STATUS_FORMAT, "int64_data given for a float32 tensor");
    t = tensor_f32("both", 1, d2, w, 2, RAW);
    pb_f32(&t, 4, 1.0f);
    pb_f32(&t, 4, 1.0f);
    fail_init(&t, AV_STATUS_FORMAT, "more than one form");
    t = tensor_head("seg", T_F32, 1, d2);
    {
        pb seg = {0};
        pb_int(&seg, 1, 0);
        pb_int(&seg, 2, 2);
        pb_sub(&t, 3, &seg);
    }
    fail_init(&t, AV_STATUS_UNSUPPORTED, "segmented tensors are not supported");
    t = tensor_head("badpacked", T_F32, 1, d2);
    pb_bytes(&t, 4, w, 7); /* not a multiple of 4 */
    fail_init(&t, AV_STATUS_FORMAT, "malformed float_data");
    t = tensor_head("badint", T_I64, 1, d2);
    pb_bytes(&t, 7, "\x80\x80", 2); /* a run ending inside a varint */
    fail_init(&t, AV_STATUS_FORMAT, "malformed int64_data");
    t = tensor_head("loc", T_F32, 1, d2);
    pb_bytes(&t, 9, w, 8);
    pb_int(&t, 14, 7);
    fail_init(&t, AV_STATUS_FORMAT, "unknown data_location 7");
    t = tensor_f32(NULL, 1, d2, w, 2, RAW);
    fail_init(&t, AV_STATUS_FORMAT, "initializer #0 has no name");
    t = (pb){0};
    pb_tag(&t, 2, 2); /* data_type as a LEN field */
    pb_varint(&t, 0);
    fail_init(&t, AV_STATUS_FORMAT, "malformed field 2");

    /* the same name twice */
    pb t2 = tensor_f32("W", 1, d2, w, 2, RAW), t3 = tensor_f32("W", 1, d2, w, 2, RAW);
    pb g = graph_with_init(&t2);
    pb_sub(&g, 5, &t3);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "initializer 'W' is given twice");
}

static void test_graph_refusals(void)
{
    pb g, n, n2, x, y, t;
    const int64_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const int64_t dneg[1] = {-2};

    /* a cycle: A = Relu(B), B = Relu(A), Y = Relu(A) */
    g = (pb){0};
    n = node("Relu", "first", "B", "A", NULL, 0);
    n2 = node("Relu", "second", "A", "B", NULL, 0);
    pb_sub(&g, 1, &n);
    pb_sub(&g, 1, &n2);
    n = node("Relu", "out", "A", "Y", NULL, 0);
    pb_sub(&g, 1, &n);
    y = value_info("Y", T_F32, 0, NULL, NULL);
    pb_sub(&g, 12, &y);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "graph has a cycle through node ");
    /* a node reading its own output, unnamed */
    g = (pb){0};
    n = node("Relu", NULL, "X", "Z", NULL, 0);
    n2 = node("Add", NULL, "Z,Y", "Y", NULL, 0);
    pb_sub(&g, 1, &n);
    pb_sub(&g, 1, &n2);
    x = value_info("X", T_F32, 0, NULL, NULL);
    y = value_info("Y", T_F32, 0, NULL, NULL);
    pb_sub(&g, 11, &x);
    pb_sub(&g, 12, &y);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "graph has a cycle through node #1 (Add)");

    /* a value produced twice */
    g = (pb){0};
    n = node("Relu", "r1", "X", "Y", NULL, 0);
    n2 = node("Neg", NULL, "X", "Y", NULL, 0);
    pb_sub(&g, 1, &n);
    pb_sub(&g, 1, &n2);
    x = value_info("X", T_F32, 0, NULL, NULL);
    y = value_info("Y", T_F32, 0, NULL, NULL);
    pb_sub(&g, 11, &x);
    pb_sub(&g, 12, &y);
    expect_graph_fail(&g, AV_STATUS_FORMAT,
                      "value 'Y' is produced by both node r1 (Relu) and node #1 (Neg)");
    /* twice by one node */
    g = (pb){0};
    n = node("Split", "sp", "X", "Y,Y", NULL, 0);
    pb_sub(&g, 1, &n);
    x = value_info("X", T_F32, 0, NULL, NULL);
    y = value_info("Y", T_F32, 0, NULL, NULL);
    pb_sub(&g, 11, &x);
    pb_sub(&g, 12, &y);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "produced by both node sp (Split) and node sp");
    /* a node writing a graph input / an initializer */
    g = (pb){0};
    n = node("Relu", "w", "Y", "X", NULL, 0);
    pb_sub(&g, 1, &n);
    x = value_info("X", T_F32, 0, NULL, NULL);
    y = value_info("Y", T_F32, 0, NULL, NULL);
    pb_sub(&g, 11, &x);
    pb_sub(&g, 11, &y);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "node w (Relu) writes 'X', which is a graph input");
    {
        const int64_t d1[1] = {1};
        const float one = 1.0f;
        t = tensor_f32("K", 1, d1, &one, 1, RAW);
        g = graph_with_init(&t);
        n = node("Neg", NULL, "X", "K", NULL, 0);
        pb_sub(&g, 1, &n);
        expect_graph_fail(&g, AV_STATUS_FORMAT,
                          "node #1 (Neg) writes 'K', which is an initializer");
    }

    /* an undefined input */
    g = (pb){0};
    n = node("Add", "add", "X,missing", "Y", NULL, 0);
    pb_sub(&g, 1, &n);
    x = value_info("X", T_F32, 0, NULL, NULL);
    y = value_info("Y", T_F32, 0, NULL, NULL);
    pb_sub(&g, 11, &x);
    pb_sub(&g, 12, &y);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "node add (Add): input 'missing' is not a graph "
                                            "input, an initializer or the output of any node");
    /* an undefined output */
    g = add_graph();
    y = value_info("nowhere", T_F32, 0, NULL, NULL);
    pb_sub(&g, 12, &y);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "graph output 'nowhere' is not a graph input");

    /* inputs / outputs listed twice */
    g = add_graph();
    x = value_info("A", T_F32, 0, NULL, NULL);
    pb_sub(&g, 11, &x);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "graph input 'A' is listed twice");
    g = add_graph();
    y = value_info("C", T_F32, 0, NULL, NULL);
    pb_sub(&g, 12, &y);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "graph output 'C' is listed twice");

    /* non-tensor inputs and outputs */
    {
        const unsigned kinds[4] = {4, 5, 9, 8};
        const char *names[4] = {"a sequence", "a map", "an optional value", "a sparse tensor"};
        for (int k = 0; k < 4; k++) {
            pb type = {0}, inner = {0}, vi = {0};
            pb_int(&inner, 1, T_F32);
            pb_sub(&type, kinds[k], &inner);
            pb_str(&vi, 1, "seq_in");
            pb_sub(&vi, 2, &type);
            g = add_graph();
            pb_sub(&g, 11, &vi);
            char want[128];
            snprintf(want, sizeof want, "graph input 'seq_in' is %s; only tensors", names[k]);
            expect_graph_fail(&g, AV_STATUS_UNSUPPORTED, want);
        }
        pb type = {0}, inner = {0}, vi = {0};
        pb_sub(&type, 4, &inner);
        pb_str(&vi, 1, "C");
        pb_sub(&vi, 2, &type);
        g = (pb){0};
        n = node("SequenceConstruct", NULL, "A", "C", NULL, 0);
        pb_sub(&g, 1, &n);
        x = value_info("A", T_F32, 0, NULL, NULL);
        pb_sub(&g, 11, &x);
        pb_sub(&g, 12, &vi);
        expect_graph_fail(&g, AV_STATUS_UNSUPPORTED, "graph output 'C' is a sequence");
    }
    /* element types on inputs: string declared is fine, complex / unknown are not */
    g = add_graph();
    x = value_info("S", T_STRING, 1, dims23, NULL);
    pb_sub(&g, 11, &x);
    {
        pb m = model(&g);
        av__graph *gr = load_ok(&m, NULL, "string input");
        pb_free(&m);
        if (gr) {
            CHECK_INT(value_named(gr, "S")->dtype, AV__DT_STRING);
            av__graph_free(gr);
        }
    }
    g = add_graph();
    x = value_info("Z", 15, 1, dims23, NULL);
    pb_sub(&g, 11, &x);
    expect_graph_fail(&g, AV_STATUS_UNSUPPORTED, "graph input 'Z' has element type complex128");
    g = add_graph();
    x = value_info("Z", 77, 1, dims23, NULL);
    pb_sub(&g, 11, &x);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "graph input 'Z' has unknown element type 77");
    g = add_graph();
    x = value_info("Z", T_F32, 9, d9, NULL);
    pb_sub(&g, 11, &x);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "graph input 'Z' has 9 dimensions");
    g = add_graph();
    x = value_info("Z", T_F32, 1, dneg, NULL);
    pb_sub(&g, 11, &x);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "graph input 'Z' has a negative dimension (-2)");

    /* sparse initializers */
    g = add_graph();
    t = (pb){0};
    pb_int(&t, 3, 4);
    pb_sub(&g, 15, &t);
    expect_graph_fail(&g, AV_STATUS_UNSUPPORTED, "sparse initializers are not supported");

    /* nodes */
    g = add_graph();
    n = (pb){0};
    pb_str(&n, 1, "A");
    pb_str(&n, 2, "Q");
    pb_sub(&g, 1, &n);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "node #1 has no valid op_type");
    {
        pb at[2];
        at[0] = attr_head("k", 2);
        at[1] = attr_head("k", 2);
        g = add_graph();
        n = node("Relu", "twice", "A", "R", at, 2);
        pb_sub(&g, 1, &n);
        expect_graph_fail(&g, AV_STATUS_FORMAT, "node twice (Relu) has attribute 'k' twice");
        at[0] = (pb){0};
        pb_int(&at[0], 20, 2);
        g = add_graph();
        n = node("Relu", NULL, "A", "R", at, 1);
        pb_sub(&g, 1, &n);
        expect_graph_fail(&g, AV_STATUS_FORMAT, "node #1 (Relu): attribute without a valid name");
        at[0] = attr_head("value", 4);
        g = add_graph();
        n = node("Constant", "k", NULL, "R", at, 1);
        pb_sub(&g, 1, &n);
        expect_graph_fail(&g, AV_STATUS_FORMAT, "node k (Constant): attribute 'value' of type "
                                                "TENSOR has no tensor");
        at[0] = attr_head("value", 4);
        t = tensor_head("sv", T_STRING, 0, NULL);
        pb_str(&t, 6, "x");
        pb_sub(&at[0], 5, &t);
        g = add_graph();
        n = node("Constant", "k", NULL, "R", at, 1);
        pb_sub(&g, 1, &n);
        expect_graph_fail(&g, AV_STATUS_UNSUPPORTED, "node k (Constant): attribute 'value' "
                                                     "tensor 'sv': string tensors are not "
                                                     "supported");
        at[0] = attr_head("f", 1);
        pb_int(&at[0], 2, 1); /* f as a varint */
        g = add_graph();
        n = node("Relu", "wt", "A", "R", at, 1);
        pb_sub(&g, 1, &n);
        expect_graph_fail(&g, AV_STATUS_FORMAT, "node wt (Relu): attribute: malformed");
    }
    g = add_graph();
    n = node("Relu", NULL, "A", "R", NULL, 0);
    pb_bytes(&n, 1, "A\0B", 3);
    pb_sub(&g, 1, &n);
    expect_graph_fail(&g, AV_STATUS_FORMAT, "a value name contains a NUL byte");
}

static void test_model_refusals(void)
{
    pb m = {0};
    expect_fail(&m, NULL, AV_STATUS_FORMAT, "no graph");
    pb_int(&m, 1, 8);
    expect_fail(&m, NULL, AV_STATUS_FORMAT, "no graph");
    pb g1 = add_graph(), g2 = add_graph();
    pb_sub(&m, 7, &g1);
    pb_sub(&m, 7, &g2);
    expect_fail(&m, NULL, AV_STATUS_FORMAT, "model has 2 graphs");
    pb_raw(&m, "\x0b\x0c", 2); /* a group */
    expect_fail(&m, NULL, AV_STATUS_FORMAT, "malformed protobuf at byte 0");
    pb_int(&m, 1, 8);
    pb_raw(&m, "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11); /* varint overflow */
    expect_fail(&m, NULL, AV_STATUS_FORMAT, "malformed protobuf at byte 2");
    pb_str(&m, 1, "ir_version as a string");
    expect_fail(&m, NULL, AV_STATUS_FORMAT, "malformed protobuf");
    m = (pb){0};
    pb_raw(&m, "\x3a\x10", 2); /* graph longer than the buffer */
    expect_fail(&m, NULL, AV_STATUS_FORMAT, "malformed protobuf");
    m = (pb){0};
    pb_raw(&m, "not an onnx file at all\n", 24);
    expect_fail(&m, NULL, AV_STATUS_FORMAT, "not an ONNX model");
    /* a malformed graph inside a well-formed model */
    m = (pb){0};
    pb_bytes(&m, 7, "\x0a\x05\x01", 3);
    expect_fail(&m, NULL, AV_STATUS_FORMAT, "graph: malformed protobuf");

    char err[64] = "x";
    av__graph *g = NULL;
    CHECK_INT(av__onnx_load_memory(NULL, 5, NULL, &g, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__onnx_load_memory("", 0, NULL, NULL, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__onnx_load_memory(NULL, 0, NULL, &g, NULL, 0), AV_STATUS_FORMAT);
    CHECK(g == NULL);
    char long_err[1024]; /* the path's length depends on where the repository lives */
    CHECK_INT(av__onnx_load_file(AV_TEST_TMPDIR "/no_such.onnx", &g, long_err, sizeof long_err),
              AV_STATUS_IO);
    CHECK(strstr(long_err, "/no_such.onnx: cannot open: ") != NULL);
    CHECK(g == NULL);
}

/* A model with a bit of everything, for the prefix test: a prefix must fail with a message or,
 * where it happens to end between fields and still holds a whole valid graph, load. */
static pb rich_model(void)
{
    static const float w[6] = {1, 2, 3, 4, 5, 6};
    pb at[3];
    at[0] = attr_head("alpha", 1);
    pb_f32(&at[0], 2, 0.5f);
    at[1] = attr_head("pads", 7);
    pb_int(&at[1], 8, 1);
    pb_int(&at[1], 8, 2);
    at[2] = attr_head("value", 4);
    {
        const int64_t d[1] = {2};
        pb tt = tensor_f32("c", 1, d, w, 2, PACKED);
        pb_sub(&at[2], 5, &tt);
    }
    pb t = tensor_f32("W", 2, dims23, w, 6, RAW);
    pb g = graph_with_init(&t);
    pb n = node("Add", "add", "Y,W", "Z", at, 3), z = value_info("Z", T_F32, 2, dims23, NULL);
    pb_sub(&g, 1, &n);
    pb_sub(&g, 12, &z);
    return model(&g);
}

static void test_prefixes(void)
{
    pb m = rich_model();
    av__graph *g = load_ok(&m, NULL, "rich model");
    if (g) {
        CHECK_INT(g->n_nodes, 2);
        av__graph_free(g);
    }
    int ok = 0, failed = 0;
    for (size_t n = 0; n < m.n; n++) {
        /* a copy of exactly n bytes, so ASan sees any read past the end */
        unsigned char *copy = malloc(n ? n : 1);
        if (n)
            memcpy(copy, m.b, n);
        char err[256];
        err[0] = '\0';
        g = (av__graph *)(uintptr_t)1;
        av_status st = av__onnx_load_memory(copy, n, NULL, &g, err, sizeof err);
        if (st == AV_STATUS_OK) {
            ok++;
            CHECK(g != NULL);
            av__graph_free(g);
        } else {
            failed++;
            CHECK(g == NULL);
            CHECK(err[0] != '\0');
        }
        free(copy);
    }
    printf("prefixes of a %zu-byte model: %d load, %d refused\n", m.n, ok, failed);
    CHECK(failed > 0);
    pb_free(&m);
}

/* ---- topological sort on graphs built with the IR API ------------------------------------- */

static int add_node(av__graph *g, const char *op, const char *name, const char *in0,
                    const char *in1, const char *out)
{
    int i = av__graph_add_node(g, op, "", name);
    int v0 = av__graph_value(g, in0), v1 = in1 ? av__graph_value(g, in1) : -1;
    int vo = av__graph_value(g, out);
    av__node *n = &g->nodes[i];
    n->inputs = av__calloc(2, sizeof(int));
    n->outputs = av__calloc(1, sizeof(int));
    n->inputs[n->n_inputs++] = v0;
    if (in1)
        n->inputs[n->n_inputs++] = v1;
    n->outputs[n->n_outputs++] = vo;
    return i;
}

static void test_toposort(void)
{
    char err[256];
    /* already sorted: unchanged (a diamond, where other orders would be valid too) */
    av__graph *g = av__graph_create();
    int xv = av__graph_value(g, "x"); /* before indexing: it may move g->values */
    g->values[xv].flags = AV__VALUE_INPUT;
    add_node(g, "Relu", "a", "x", NULL, "a");
    add_node(g, "Neg", "c", "x", NULL, "c");
    add_node(g, "Exp", "b", "a", NULL, "b");
    add_node(g, "Add", "d", "b", "c", "d");
    CHECK_INT(av__graph_toposort(g, err, sizeof err), AV_STATUS_OK);
    CHECK_STR(g->nodes[0].name, "a");
    CHECK_STR(g->nodes[1].name, "c");
    CHECK_STR(g->nodes[2].name, "b");
    CHECK_STR(g->nodes[3].name, "d");
    CHECK_INT(g->values[av__graph_find_value(g, "b")].producer, 2);
    CHECK_INT(g->values[av__graph_find_value(g, "x")].producer, -1);
    av__graph_free(g);

    /* reversed chain plus an independent node: each node as early as its inputs allow, ties
     * broken by the original position */
    g = av__graph_create();
    add_node(g, "D", "d", "c", NULL, "d");
    add_node(g, "C", "c", "b", NULL, "c");
    add_node(g, "Z", "z", "x", NULL, "z");
    add_node(g, "B", "b", "a", NULL, "b");
    add_node(g, "A", "a", "x", NULL, "a");
    CHECK_INT(av__graph_toposort(g, err, sizeof err), AV_STATUS_OK);
    const char *want[5] = {"z", "a", "b", "c", "d"};
    for (int k = 0; k < 5; k++) {
        CHECK_STR(g->nodes[k].name, want[k]);
        CHECK_INT(g->values[g->nodes[k].outputs[0]].producer, k);
    }
    av__graph_free(g);

    /* a cycle behind a node that is not on it: the message names a node on the cycle */
    g = av__graph_create();
    add_node(g, "Tail", "", "p", NULL, "t");
    add_node(g, "P", "", "q", NULL, "p");
    add_node(g, "Q", "qq", "p", "x", "q");
    err[0] = '\0';
    CHECK_INT(av__graph_toposort(g, err, sizeof err), AV_STATUS_FORMAT);
    CHECK(strcmp(err, "graph has a cycle through node #1 (P)") == 0 ||
          strcmp(err, "graph has a cycle through node qq (Q)") == 0);
    if (!strstr(err, "(P)") && !strstr(err, "(Q)"))
        fprintf(stderr, "cycle message: %s\n", err);
    av__graph_free(g);

    /* two producers */
    g = av__graph_create();
    add_node(g, "A", "one", "x", NULL, "y");
    add_node(g, "B", "two", "x", NULL, "y");
    CHECK_INT(av__graph_toposort(g, err, sizeof err), AV_STATUS_FORMAT);
    CHECK_STR(err, "value 'y' is produced by both node one (A) and node two (B)");
    av__graph_free(g);

    /* empty graph */
    g = av__graph_create();
    CHECK_INT(av__graph_toposort(g, err, sizeof err), AV_STATUS_OK);
    av__graph_free(g);

    /* a long chain in reverse order: no recursion, any depth */
    g = av__graph_create();
    enum { N = 5000 };
    char a[32], b[32];
    for (int i = N - 1; i >= 0; i--) {
        snprintf(a, sizeof a, "v%d", i);
        snprintf(b, sizeof b, "v%d", i + 1);
        add_node(g, "Relu", "", a, NULL, b);
    }
    CHECK_INT(av__graph_toposort(g, err, sizeof err), AV_STATUS_OK);
    int sorted = 1;
    for (int i = 0; i < N; i++) {
        snprintf(a, sizeof a, "v%d", i);
        sorted &= strcmp(g->values[g->nodes[i].inputs[0]].name, a) == 0;
    }
    CHECK(sorted);
    av__graph_free(g);
}

/* ---- TensorProto files -------------------------------------------------------------------- */

static void test_tensor_file(void)
{
    static const float w[6] = {1, 2, 3, 4, 5, 6};
    pb t = tensor_f32("input_name", 2, dims23, w, 6, RAW);
    write_file(AV_TEST_TMPDIR "/onnx_tensor.pb", t.b, t.n);
    av__tensor out;
    char name[64], err[512] = "";
    CHECK_INT(av__onnx_load_tensor_file(AV_TEST_TMPDIR "/onnx_tensor.pb", &out, name, sizeof name,
                                        err, sizeof err), AV_STATUS_OK);
    CHECK_STR(name, "input_name");
    CHECK_INT(out.dtype, AV__DT_F32);
    CHECK_INT(out.ndim, 2);
    CHECK_INT(out.shape[1], 3);
    if (out.data)
        CHECK(memcmp(out.data, w, 24) == 0);
    av__aligned_free(out.data);
    /* a short name buffer truncates; no name buffer at all is fine */
    char shortname[6];
    CHECK_INT(av__onnx_load_tensor_file(AV_TEST_TMPDIR "/onnx_tensor.pb", &out, shortname,
                                        sizeof shortname, err, sizeof err), AV_STATUS_OK);
    CHECK_STR(shortname, "input");
    av__aligned_free(out.data);
    CHECK_INT(av__onnx_load_tensor_file(AV_TEST_TMPDIR "/onnx_tensor.pb", &out, NULL, 0, NULL, 0),
              AV_STATUS_OK);
    av__aligned_free(out.data);
    pb_free(&t);
    /* errors carry the path */
    t = tensor_f32("x", 2, dims23, w, 5, RAW);
    write_file(AV_TEST_TMPDIR "/onnx_tensor_bad.pb", t.b, t.n);
    pb_free(&t);
    CHECK_INT(av__onnx_load_tensor_file(AV_TEST_TMPDIR "/onnx_tensor_bad.pb", &out, name,
                                        sizeof name, err, sizeof err), AV_STATUS_FORMAT);
    CHECK_STR(err, AV_TEST_TMPDIR "/onnx_tensor_bad.pb: tensor 'x': raw_data has 20 bytes, "
                                  "float32 [2, 3] needs 24");
    CHECK(out.data == NULL && out.ndim == 0);
    CHECK_STR(name, "");
    CHECK_INT(av__onnx_load_tensor_file(AV_TEST_TMPDIR "/none.pb", &out, name, sizeof name, err,
                                        sizeof err), AV_STATUS_IO);
    CHECK(strstr(err, "/none.pb: cannot open: ") != NULL);
    /* a truncated message */
    t = tensor_f32("x", 2, dims23, w, 6, RAW);
    write_file(AV_TEST_TMPDIR "/onnx_tensor_cut.pb", t.b, t.n - 1);
    pb_free(&t);
    CHECK_INT(av__onnx_load_tensor_file(AV_TEST_TMPDIR "/onnx_tensor_cut.pb", &out, name,
                                        sizeof name, err, sizeof err), AV_STATUS_FORMAT);
    CHECK(strstr(err, "tensor: malformed protobuf") != NULL);
}

/* ---- the fuzz corpus ---------------------------------------------------------------------- */

static av_status parse_onnx(const char *path, const char *name, uint8_t *data, size_t size,
                            char *err, size_t err_size)
{
    (void)path, (void)name;
    av__graph *g = NULL;
    av_status st = av__onnx_load_memory(data, size, NULL, &g, err, err_size);
    av__graph_free(g);
    return st;
}

static void test_corpus(void)
{
    corpus_counts n = replay_corpus(CORPUS_DIR, parse_onnx, (corpus_rules){AV_STATUS_OK, 0});
    CHECK(n.ok >= 3 && n.bad >= 3);
}

int main(void)
{
    test_wire();
    test_minimal_add();
    test_initializers();
    test_shapes();
    test_attributes();
    test_opset();
    test_ir3_initializer_input();
    test_nodes();
    test_external();
    test_tensor_refusals();
    test_graph_refusals();
    test_model_refusals();
    test_prefixes();
    test_toposort();
    test_tensor_file();
    test_corpus();
    return check_report("test_onnx");
}
