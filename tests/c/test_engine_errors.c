/* The engine's public API on bad input: every case returns an error with a message that names
 * the problem, never crashes, and leaves the session usable. Models are built here as protobuf
 * bytes (a minimal encoder below), so nothing depends on files. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>

#include "autovoice/engine.h"
#include "check.h"

typedef struct buf {
    unsigned char d[4096];
    size_t n;
} buf;

static void put_varint(buf *b, uint64_t v)
{
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        b->d[b->n++] = c | (v ? 0x80 : 0);
    } while (v);
}

static void put_int(buf *b, int field, uint64_t v)
{
    put_varint(b, (uint64_t)field << 3);
    put_varint(b, v);
}

static void put_bytes(buf *b, int field, const void *p, size_t n)
{
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, n);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put_str(buf *b, int field, const char *s) { put_bytes(b, field, s, strlen(s)); }
static void put_msg(buf *b, int field, const buf *m) { put_bytes(b, field, m->d, m->n); }

/* ValueInfoProto: float32 tensor of rank 1 with the given size (-1: symbolic "n") */
static void value_info(buf *out, int field, const char *name, int64_t size)
{
    buf dim = {0}, shape = {0}, tensor = {0}, type = {0}, vi = {0};
    if (size >= 0)
        put_int(&dim, 1, (uint64_t)size);
    else
        put_str(&dim, 2, "n");
    put_msg(&shape, 1, &dim);
    put_int(&tensor, 1, 1); /* float32 */
    put_msg(&tensor, 2, &shape);
    put_msg(&type, 1, &tensor);
    put_str(&vi, 1, name);
    put_msg(&vi, 2, &type);
    put_msg(out, field, &vi);
}

/* z = OP(x, y) over float32 vectors of `size` elements; node2 non-NULL adds w = node2(z) and
 * makes w the output instead. */
static void make_model(buf *model, const char *op, int64_t size, const char *node2)
{
    buf node = {0}, graph = {0}, opset = {0};
    memset(model, 0, sizeof *model);
    put_str(&node, 1, "x");
    put_str(&node, 1, "y");
    put_str(&node, 2, "z");
    put_str(&node, 3, "first_node");
    put_str(&node, 4, op);
    put_msg(&graph, 1, &node);
    if (node2) {
        buf n2 = {0};
        put_str(&n2, 1, "z");
        put_str(&n2, 2, "w");
        put_str(&n2, 3, "second_node");
        put_str(&n2, 4, node2);
        put_msg(&graph, 1, &n2);
    }
    put_str(&graph, 2, "g");
    value_info(&graph, 11, "x", size);
    value_info(&graph, 11, "y", size);
    value_info(&graph, 12, node2 ? "w" : "z", size);
    put_int(model, 1, 8);
    put_str(&opset, 1, "");
    put_int(&opset, 2, 17);
    put_msg(model, 8, &opset);
    put_msg(model, 7, &graph);
}

static int contains(const char *s, const char *needle)
{
    if (!strstr(s, needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", s, needle);
        return 0;
    }
    return 1;
}

int main(void)
{
    char err[1024];
    buf model;
    av_model *m = NULL;

    /* a good model runs */
    make_model(&model, "Add", 3, NULL);
    CHECK_INT(av_model_load_memory(model.d, model.n, NULL, &m, err, sizeof err), AV_STATUS_OK);
    av_session *s = NULL;
    av_session_config cfg = av_session_config_default();
    cfg.threads = 2;
    CHECK_INT(av_session_create(m, &cfg, &s, err, sizeof err), AV_STATUS_OK);
    const float x[3] = {1, 2, 3}, y[3] = {10, 20, 30};
    const int64_t shape3[1] = {3}, shape4[1] = {4};
    const int32_t xi[3] = {1, 2, 3};

    /* run before binding: names the missing input */
    CHECK(av_session_run(s) != AV_STATUS_OK);
    CHECK(contains(av_session_last_error(s), "'x' was not set"));
    CHECK_INT(av_session_set_input(s, "x", AV_DTYPE_FLOAT32, 1, shape3, x), AV_STATUS_OK);
    CHECK(av_session_run(s) != AV_STATUS_OK);
    CHECK(contains(av_session_last_error(s), "'y' was not set"));
    /* wrong dtype, rank, fixed dimension, unknown name, NULL data */
    CHECK_INT(av_session_set_input(s, "y", AV_DTYPE_INT32, 1, shape3, xi), AV_STATUS_INVALID_ARGUMENT);
    CHECK(contains(av_session_last_error(s), "is float32, got int32"));
    CHECK_INT(av_session_set_input(s, "y", AV_DTYPE_FLOAT32, 0, NULL, y), AV_STATUS_INVALID_ARGUMENT);
    CHECK(contains(av_session_last_error(s), "rank 1, got rank 0"));
    CHECK_INT(av_session_set_input(s, "y", AV_DTYPE_FLOAT32, 1, shape4, y), AV_STATUS_INVALID_ARGUMENT);
    CHECK(contains(av_session_last_error(s), "dimension 0 must be 3, got 4"));
    CHECK_INT(av_session_set_input(s, "nope", AV_DTYPE_FLOAT32, 1, shape3, y), AV_STATUS_NOT_FOUND);
    CHECK(contains(av_session_last_error(s), "no input named 'nope' (inputs: x, y)"));
    CHECK_INT(av_session_set_input(s, "y", AV_DTYPE_FLOAT32, 1, shape3, NULL), AV_STATUS_INVALID_ARGUMENT);
    /* still usable */
    CHECK_INT(av_session_set_input(s, "y", AV_DTYPE_FLOAT32, 1, shape3, y), AV_STATUS_OK);
    CHECK_INT(av_session_run(s), AV_STATUS_OK);
    av_tensor out;
    CHECK_INT(av_session_get_output(s, "z", &out), AV_STATUS_OK);
    if (out.data) {
        const float *z = out.data;
        CHECK_NEAR(z[0], 11, 0);
        CHECK_NEAR(z[2], 33, 0);
    }
    CHECK_INT(av_session_get_output(s, "q", &out), AV_STATUS_NOT_FOUND);
    av_session_free(s);
    av_model_free(m);
    m = NULL;

    /* symbolic dimension: any length; mismatched lengths between x and y fail at planning */
    make_model(&model, "Add", -1, NULL);
    CHECK_INT(av_model_load_memory(model.d, model.n, NULL, &m, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_session_create(m, &cfg, &s, err, sizeof err), AV_STATUS_OK);
    const float y4[4] = {1, 1, 1, 1};
    CHECK_INT(av_session_set_input(s, "x", AV_DTYPE_FLOAT32, 1, shape3, x), AV_STATUS_OK);
    CHECK_INT(av_session_set_input(s, "y", AV_DTYPE_FLOAT32, 1, shape4, y4), AV_STATUS_OK);
    CHECK(av_session_run(s) != AV_STATUS_OK);
    CHECK(contains(av_session_last_error(s), "first_node"));
    CHECK_INT(av_session_set_input(s, "y", AV_DTYPE_FLOAT32, 1, shape3, y), AV_STATUS_OK);
    CHECK_INT(av_session_run(s), AV_STATUS_OK); /* re-plans and recovers */
    av_session_free(s);
    av_model_free(m);
    m = NULL;

    /* an unknown operator: named with its node */
    make_model(&model, "Add", 3, "FrobnicateOp");
    CHECK_INT(av_model_load_memory(model.d, model.n, NULL, &m, err, sizeof err), AV_STATUS_UNSUPPORTED);
    CHECK(m == NULL);
    CHECK(contains(err, "unsupported operator 'FrobnicateOp'"));
    CHECK(contains(err, "second_node"));

    /* a node whose attributes are invalid fails when it is folded or planned, naming the node */
    make_model(&model, "Gemm", 3, NULL);
    CHECK_INT(av_model_load_memory(model.d, model.n, NULL, &m, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_session_create(m, &cfg, &s, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_session_set_input(s, "x", AV_DTYPE_FLOAT32, 1, shape3, x), AV_STATUS_OK);
    CHECK_INT(av_session_set_input(s, "y", AV_DTYPE_FLOAT32, 1, shape3, y), AV_STATUS_OK);
    CHECK(av_session_run(s) != AV_STATUS_OK); /* Gemm needs 2-D operands */
    CHECK(contains(av_session_last_error(s), "first_node"));
    av_session_free(s);
    av_model_free(m);
    m = NULL;

    /* every truncation of a valid model: an error with a message, or (at a field boundary) a
     * model; never a crash */
    make_model(&model, "Add", 3, NULL);
    int refused = 0;
    for (size_t n = 0; n < model.n; n++) {
        err[0] = '\0';
        av_status st = av_model_load_memory(model.d, n, NULL, &m, err, sizeof err);
        if (st != AV_STATUS_OK) {
            refused++;
            CHECK(err[0] != '\0');
            CHECK(m == NULL);
        }
        av_model_free(m);
        m = NULL;
    }
    CHECK(refused > (int)model.n / 2);

    /* files: missing, not ONNX */
    CHECK_INT(av_model_load(AV_TEST_TMPDIR "/missing.onnx", &m, err, sizeof err), AV_STATUS_IO);
    CHECK(contains(err, "missing.onnx"));
    FILE *f = fopen(AV_TEST_TMPDIR "/garbage.onnx", "wb");
    if (f) {
        fputs("this is not a protobuf at all\xff\xff\xff", f);
        fclose(f);
        CHECK(av_model_load(AV_TEST_TMPDIR "/garbage.onnx", &m, err, sizeof err) != AV_STATUS_OK);
        CHECK(contains(err, "garbage.onnx"));
        CHECK(m == NULL);
    }
    /* an NPY file that lies about its size */
    f = fopen(AV_TEST_TMPDIR "/lies.npy", "wb");
    if (f) {
        static const char hdr[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }";
        char pre[128];
        size_t hl = 118 - 10;
        memcpy(pre, "\x93NUMPY\x01\x00", 8);
        pre[8] = (char)hl;
        pre[9] = 0;
        fwrite(pre, 1, 10, f);
        char h[128];
        memset(h, ' ', sizeof h);
        memcpy(h, hdr, sizeof hdr - 1);
        h[hl - 1] = '\n';
        fwrite(h, 1, hl, f);
        fwrite(x, sizeof x, 1, f); /* 12 bytes instead of 400 */
        fclose(f);
        av_tensor t;
        CHECK(av_npy_read(AV_TEST_TMPDIR "/lies.npy", &t, err, sizeof err) != AV_STATUS_OK);
        CHECK(contains(err, "lies.npy"));
    }
    return check_report("test_engine_errors");
}
