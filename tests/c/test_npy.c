/* util/npy: save/load round trips, hand-written headers of every version, every refusal (each
 * checked through both av__npy_parse and av__npy_load), files written by numpy, and a replay of
 * the fuzz corpus tests/fuzz/corpus/npy (ok_* must parse, bad_* must fail, others must not
 * crash). */
#define _POSIX_C_SOURCE 200809L /* opendir */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "corpus.h"
#include "util/npy.h"

#define TMP_NPY AV_TEST_TMPDIR "/test_npy.npy"
#define CORPUS_DIR AV_FIXTURES_DIR "/../fuzz/corpus/npy"

static unsigned char buf[1 << 16];

/* A file of format `major`.0 with `header` as the dict text (no padding added) and `n` data
 * bytes. Returns its size in buf. */
static size_t build(int major, const char *header, const void *data, size_t n)
{
    size_t len = strlen(header), at = major == 1 ? 10 : 12;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < at - 8; i++)
        buf[8 + i] = (unsigned char)(len >> (8 * i));
    memcpy(buf + at, header, len);
    if (n)
        memcpy(buf + at + len, data, n);
    return at + len + n;
}

static size_t hdr(const char *header, const void *data, size_t n)
{
    return build(1, header, data, n);
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

/* Parses buf[0..n) and loads it from a file; both must succeed and agree. *out gets the parse. */
static int expect_ok(size_t n, av__npy_array *out, const char *what)
{
    char err[256] = "";
    av__npy_array loaded;
    av_status st = av__npy_parse(buf, n, out, err, sizeof err);
    if (st != AV_STATUS_OK) {
        fprintf(stderr, "%s: parse failed: %s\n", what, err);
        CHECK_INT(st, AV_STATUS_OK);
        return 0;
    }
    write_file(TMP_NPY, buf, n);
    st = av__npy_load(TMP_NPY, &loaded, err, sizeof err);
    CHECK_INT(st, AV_STATUS_OK);
    if (st == AV_STATUS_OK) {
        CHECK_INT(loaded.dtype, out->dtype);
        CHECK_INT(loaded.ndim, out->ndim);
        CHECK_INT(loaded.count, out->count);
        CHECK(memcmp(loaded.shape, out->shape, sizeof out->shape) == 0);
        CHECK(memcmp(loaded.data, out->data, out->count * out->item_size) == 0);
    } else {
        fprintf(stderr, "%s: load failed: %s\n", what, err);
    }
    av__npy_free(&loaded);
    return 1;
}

/* Parsing buf[0..n) and loading it as a file must both fail with `status` and a message that
 * contains `text`; the load's message must start with the path. */
static void expect_fail(size_t n, av_status status, const char *text)
{
    char err[512] = "";
    av__npy_array a;
    av_status st = av__npy_parse(buf, n, &a, err, sizeof err);
    CHECK_INT(st, status);
    CHECK(a.data == NULL && a.alloc == NULL && a.ndim == 0);
    if (!strstr(err, text))
        CHECK_STR(err, text);
    write_file(TMP_NPY, buf, n);
    st = av__npy_load(TMP_NPY, &a, err, sizeof err);
    CHECK_INT(st, status);
    CHECK(a.data == NULL && a.alloc == NULL);
    if (!strstr(err, text) || strncmp(err, TMP_NPY ": ", strlen(TMP_NPY) + 2) != 0)
        CHECK_STR(err, text);
}

static void test_dtype_names(void)
{
    static const char *const names[] = {"float32", "float64", "float16", "int64",
                                        "int32",   "int8",    "uint8",   "bool"};
    static const size_t sizes[] = {4, 8, 2, 8, 4, 1, 1, 1};
    for (int t = 0; t < AV__NPY_DTYPE_COUNT; t++) {
        CHECK_STR(av__npy_dtype_name((av__npy_dtype)t), names[t]);
        CHECK_INT(av__npy_dtype_size((av__npy_dtype)t), sizes[t]);
    }
    CHECK_STR(av__npy_dtype_name((av__npy_dtype)99), "unknown");
    CHECK_INT(av__npy_dtype_size((av__npy_dtype)99), 0);
}

static void test_round_trip(void)
{
    static const int64_t shapes[][4] = {
        {0}, {1, 1}, {1, 0}, {1, 5}, {2, 7, 13}, {3, 2, 3, 4}, {3, 3, 0, 2}, {2, 1, 1},
    };
    static unsigned char data[2 * 3 * 4 * 8 * 16];
    char err[256];
    for (int t = 0; t < AV__NPY_DTYPE_COUNT; t++) {
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            av__npy_array a = {0}, b;
            a.dtype = (av__npy_dtype)t;
            a.ndim = (int)shapes[s][0];
            a.item_size = av__npy_dtype_size(a.dtype);
            a.count = 1;
            for (int k = 0; k < a.ndim; k++) {
                a.shape[k] = shapes[s][k + 1];
                a.count *= (size_t)a.shape[k];
            }
            size_t nbytes = a.count * a.item_size;
            for (size_t i = 0; i < nbytes; i++)
                data[i] = t == AV__NPY_BOOL ? (unsigned char)(i % 3 == 0)
                                            : (unsigned char)(i * 37 + (size_t)t * 11 + s);
            a.data = data;
            av_status st = av__npy_save(TMP_NPY, &a, err, sizeof err);
            CHECK_INT(st, AV_STATUS_OK);
            st = av__npy_load(TMP_NPY, &b, err, sizeof err);
            CHECK_INT(st, AV_STATUS_OK);
            if (st != AV_STATUS_OK) {
                fprintf(stderr, "dtype %d shape #%zu: %s\n", t, s, err);
                continue;
            }
            CHECK_INT(b.dtype, t);
            CHECK_INT(b.ndim, a.ndim);
            CHECK_INT(b.count, a.count);
            CHECK_INT(b.item_size, a.item_size);
            for (int k = 0; k < AV__NPY_MAX_DIMS; k++)
                CHECK_INT(b.shape[k], a.shape[k]);
            CHECK_INT((uintptr_t)b.data % 64, 0);
            if (memcmp(b.data, data, nbytes) != 0) {
                fprintf(stderr, "dtype %s shape #%zu: data differs\n", av__npy_dtype_name(a.dtype),
                        s);
                CHECK(0);
            }
            av__npy_free(&b);
            CHECK(b.data == NULL && b.alloc == NULL);
            av__npy_free(&b); /* twice is fine */
        }
    }
    av__npy_free(NULL);
}

/* The header av__npy_save writes is byte for byte what numpy 1.x writes. */
static void test_save_layout(void)
{
    static const char expected[] =
        "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (7, 13), }";
    static float data[7 * 13];
    av__npy_array a = {.dtype = AV__NPY_F32,
                       .ndim = 2,
                       .shape = {7, 13},
                       .count = 91,
                       .item_size = 4,
                       .data = data};
    char err[256];
    CHECK_INT(av__npy_save(TMP_NPY, &a, err, sizeof err), AV_STATUS_OK);
    FILE *f = fopen(TMP_NPY, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    CHECK_INT(n, 128 + sizeof data);
    CHECK(memcmp(buf, expected, sizeof expected - 1) == 0);
    CHECK_INT(buf[127], '\n');
    for (size_t i = sizeof expected - 1; i < 127; i++)
        CHECK_INT(buf[i], ' ');
}

static void test_save_errors(void)
{
    unsigned char bools[3] = {1, 2, 0};
    float x = 1.0f;
    av__npy_array a = {
        .dtype = AV__NPY_F32, .ndim = 1, .shape = {1}, .count = 1, .item_size = 4, .data = &x};
    char err[256];
    CHECK_INT(av__npy_save(TMP_NPY, &a, err, sizeof err), AV_STATUS_OK);

    av__npy_array bad = a;
    bad.count = 2;
    CHECK_INT(av__npy_save(TMP_NPY, &bad, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    bad = a;
    bad.item_size = 8;
    CHECK_INT(av__npy_save(TMP_NPY, &bad, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    bad = a;
    bad.data = NULL;
    CHECK_INT(av__npy_save(TMP_NPY, &bad, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    bad = a;
    bad.shape[0] = -1;
    CHECK_INT(av__npy_save(TMP_NPY, &bad, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    bad = a;
    bad.ndim = AV__NPY_MAX_DIMS + 1;
    CHECK_INT(av__npy_save(TMP_NPY, &bad, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    bad = (av__npy_array){
        .dtype = AV__NPY_BOOL, .ndim = 1, .shape = {3}, .count = 3, .item_size = 1, .data = bools};
    CHECK_INT(av__npy_save(TMP_NPY, &bad, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    if (!strstr(err, "bool element 1"))
        CHECK_STR(err, "... bool element 1 ...");
    CHECK_INT(av__npy_save(NULL, &a, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__npy_save(TMP_NPY, NULL, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);

    /* The refused saves left the first file alone. */
    av__npy_array b;
    CHECK_INT(av__npy_load(TMP_NPY, &b, err, sizeof err), AV_STATUS_OK);
    CHECK(b.count == 1 && b.data && *(float *)b.data == 1.0f);
    av__npy_free(&b);

    /* Unwritable places: an I/O error naming the path, and no PATH.tmp left behind. */
    const char *missing = AV_TEST_TMPDIR "/no/such/dir/x.npy";
    CHECK_INT(av__npy_save(missing, &a, err, sizeof err), AV_STATUS_IO);
    if (strncmp(err, missing, strlen(missing)) != 0)
        CHECK_STR(err, missing);
    /* a directory as the target: the temporary file is written, rename() fails */
    CHECK_INT(av__npy_save(AV_TEST_TMPDIR, &a, err, sizeof err), AV_STATUS_IO);
    FILE *left = fopen(AV_TEST_TMPDIR ".tmp", "rb");
    CHECK(left == NULL);
    if (left)
        fclose(left);
}

static void test_headers(void)
{
    static const int32_t i32[2] = {7, -7};
    av__npy_array a;
    size_t n;

    n = hdr("{ \"shape\" :(2 ,1),\n\t'fortran_order' :False ,  'descr':'<i4'}  \n", i32, 8);
    if (expect_ok(n, &a, "odd whitespace")) {
        CHECK(a.dtype == AV__NPY_I32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 1);
        CHECK(((int32_t *)a.data)[0] == 7 && ((int32_t *)a.data)[1] == -7);
        av__npy_free(&a);
    }
    n = hdr("{'descr':'=f8','fortran_order':False,'shape':( ),}", "\0\0\0\0\0\0\xf0\x3f", 8);
    if (expect_ok(n, &a, "scalar, '=' order")) {
        CHECK(a.dtype == AV__NPY_F64 && a.ndim == 0 && a.count == 1);
        CHECK_NEAR(*(double *)a.data, 1.0, 0);
        av__npy_free(&a);
    }
    n = hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 0L), }\n", NULL, 0);
    if (expect_ok(n, &a, "Python 2 longs, empty")) {
        CHECK(a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 0 && a.count == 0);
        av__npy_free(&a);
    }
    static const char *const one_byte[][2] = {
        {"<u1", "u8"}, {">u1", "u8"},   {"|i1", "i8"},
        {"<i1", "i8"}, {"=b1", "bool"}, {"<b1", "bool"},
    };
    for (size_t i = 0; i < sizeof one_byte / sizeof one_byte[0]; i++) {
        char h[128];
        snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }",
                 one_byte[i][0]);
        n = hdr(h, "\x01\x00", 2);
        if (expect_ok(n, &a, one_byte[i][0])) {
            CHECK_INT(a.item_size, 1);
            CHECK_STR(av__npy_dtype_name(a.dtype), one_byte[i][1][0] == 'u'   ? "uint8"
                                                   : one_byte[i][1][0] == 'i' ? "int8"
                                                                              : "bool");
            av__npy_free(&a);
        }
    }

    static const int64_t i64[3] = {5, -6, 1LL << 40};
    n = build(2, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }      \n", i64, 24);
    if (expect_ok(n, &a, "version 2.0")) {
        CHECK(a.dtype == AV__NPY_I64 && a.count == 3);
        CHECK(memcmp(a.data, i64, 24) == 0);
        av__npy_free(&a);
    }
    static const uint16_t f16[2] = {0x3c00, 0xc000}; /* 1.0, -2.0 */
    n = build(3, "{'shape': (1, 2), 'descr': '<f2', 'fortran_order': False}\n", f16, 4);
    if (expect_ok(n, &a, "version 3.0")) {
        CHECK(a.dtype == AV__NPY_F16 && a.ndim == 2 && a.count == 2);
        CHECK_INT(((uint16_t *)a.data)[1], 0xc000);
        av__npy_free(&a);
    }
}

/* fortran_order True: the data is reordered into C order. */
static void test_fortran(void)
{
    int32_t f[2 * 3 * 4];
    av__npy_array a;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                f[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
    size_t n = hdr("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }", f, sizeof f);
    if (expect_ok(n, &a, "fortran 3-D")) {
        const int32_t *c = a.data;
        for (int i = 0; i < 24; i++)
            CHECK_INT(c[i], 100 * (i / 12) + 10 * (i / 4 % 3) + i % 4);
        av__npy_free(&a);
    }
    static const float f23[6] = {1, 4, 2, 5, 3, 6}; /* [[1, 2, 3], [4, 5, 6]] in Fortran order */
    n = hdr("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f23, sizeof f23);
    if (expect_ok(n, &a, "fortran 2-D")) {
        for (int i = 0; i < 6; i++)
            CHECK_NEAR(((float *)a.data)[i], i + 1, 0);
        av__npy_free(&a);
    }
    n = hdr("{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }", f23, sizeof f23);
    if (expect_ok(n, &a, "fortran 1-D")) {
        CHECK(memcmp(a.data, f23, sizeof f23) == 0);
        av__npy_free(&a);
    }
    n = hdr("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 0, 3), }", NULL, 0);
    if (expect_ok(n, &a, "fortran empty")) {
        CHECK_INT(a.count, 0);
        av__npy_free(&a);
    }
    static const unsigned char b[4] = {1, 0, 2, 1};
    n = hdr("{'descr': '|b1', 'fortran_order': True, 'shape': (2, 2), }", b, 4);
    expect_fail(n, AV_STATUS_FORMAT, "bool element 2 of the data is 2");
}

static void test_errors(void)
{
    static const unsigned char zeros[64];
    const char *f32 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
    size_t n;

    expect_fail(0, AV_STATUS_FORMAT, "truncated header: 0 bytes");
    memcpy(buf, "\x93NUMP", 5);
    expect_fail(5, AV_STATUS_FORMAT, "truncated header: 5 bytes");
    n = hdr(f32, zeros, 24);
    buf[5] = 'Z';
    expect_fail(n, AV_STATUS_FORMAT, "not an NPY file (bad magic)");
    memcpy(buf, "PK\x03\x04", 4);
    expect_fail(4, AV_STATUS_FORMAT, "bad magic");
    n = hdr(f32, zeros, 24);
    buf[6] = 4;
    expect_fail(n, AV_STATUS_FORMAT, "unsupported format version 4.0 (known: 1.0, 2.0, 3.0)");
    buf[6] = 1;
    buf[7] = 1;
    expect_fail(n, AV_STATUS_FORMAT, "unsupported format version 1.1");
    buf[6] = 0;
    buf[7] = 0;
    expect_fail(n, AV_STATUS_FORMAT, "unsupported format version 0.0");
    build(2, f32, NULL, 0);
    expect_fail(11, AV_STATUS_FORMAT, "a version 2.0 preamble needs 12");
    n = hdr(f32, NULL, 0);
    expect_fail(n - 5, AV_STATUS_FORMAT,
                "truncated header: header length says 60 bytes, file has 55");
    build(2, f32, NULL, 0);
    buf[10] = 1; /* header length 65536 + 60 */
    expect_fail(80, AV_STATUS_FORMAT, "header length 65596 exceeds the limit of 65536 bytes");

    n = hdr(f32, zeros, 20);
    expect_fail(n, AV_STATUS_FORMAT,
                "truncated data: header says float32 (2, 3) = 24 bytes, file has 20");
    /* the full message of a load, as the user sees it */
    {
        char err[256];
        av__npy_array a;
        write_file(TMP_NPY, buf, n);
        CHECK_INT(av__npy_load(TMP_NPY, &a, err, sizeof err), AV_STATUS_FORMAT);
        CHECK_STR(err,
                  TMP_NPY ": truncated data: header says float32 (2, 3) = 24 bytes, file has 20");
    }
    n = hdr(f32, zeros, 28);
    expect_fail(
        n, AV_STATUS_FORMAT,
        "trailing bytes after the data: header says float32 (2, 3) = 24 bytes, file has 28");
    n = hdr("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", zeros, 39);
    expect_fail(n, AV_STATUS_FORMAT, "int64 (5,) = 40 bytes, file has 39");
    n = hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", zeros, 0);
    expect_fail(n, AV_STATUS_FORMAT, "float64 () = 8 bytes, file has 0");

    static const struct {
        const char *header, *text;
    } bad[] = {
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
         "unsupported dtype '>f4' (big-endian)"},
        {"{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }", "'>i8' (big-endian)"},
        {"{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }",
         "invalid dtype '|f4' (no byte order on a multi-byte type)"},
        {"{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype '<u4'"},
        {"{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype '<i2'"},
        {"{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype '<U5'"},
        {"{'descr': '<f4x', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype '<f4x'"},
        {"{'descr': '<M8[nanoseconds_since_the_epoch]', 'fortran_order': False, 'shape': (1,), }",
         "unsupported dtype '<M8[nanoseconds_since_t...'"},
        {"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "object arrays"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
         "structured dtypes are not supported"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }",
         "negative dimension -1 in shape"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
         "shape (4294967296, 4294967296) of float32 is too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904, 3), }",
         "is too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 99999999999999999999), }",
         "dimension 1 of the shape is too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }",
         "more than 8 dimensions"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (5), }", "is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [5], }",
         "expected a tuple for 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (,), }", "expected a dimension"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,,), }", "expected a dimension"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }",
         "expected ',' or ')' in the shape, found '3'"},
        {"{'descr': '<f4', 'shape': (1,), }", "header has no 'fortran_order' key"},
        {"{'fortran_order': False, 'shape': (1,), }", "header has no 'descr' key"},
        {"{'descr': '<f4', 'fortran_order': False}", "header has no 'shape' key"},
        {"{}", "header has no 'descr' key"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,)}",
         "duplicate key 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
         "unknown key 'extra'"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", "True or False"},
        {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,), }", "True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", "only whitespace after"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "found the end"},
        {"{'descr': '<f\\4', 'fortran_order': False, 'shape': (1,), }",
         "quoted string for 'descr'"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,), }", "expected ',' or '}'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\x01", "found byte 0x01"},
        {"['descr', '<f4']", "expected '{', found '['"},
        {"{descr: '<f4', 'fortran_order': False, 'shape': (1,), }", "a quoted key or '}'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = hdr(bad[i].header, zeros, 4);
        expect_fail(n, AV_STATUS_FORMAT, bad[i].text);
    }

    const char *nul = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\x01";
    n = hdr(nul, zeros, 4);
    buf[10 + strlen(nul) - 1] = 0; /* a NUL byte inside the header */
    expect_fail(n, AV_STATUS_FORMAT, "found byte 0x00");

    static const unsigned char b[3] = {1, 0, 2};
    n = hdr("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b, 3);
    expect_fail(n, AV_STATUS_FORMAT, "bool element 2 of the data is 2 (only 0 and 1 are valid)");

    /* open failures: AV_STATUS_IO and the path */
    char err[256];
    av__npy_array a;
    CHECK_INT(av__npy_load(AV_TEST_TMPDIR "/missing.npy", &a, err, sizeof err), AV_STATUS_IO);
    CHECK_STR(err, AV_TEST_TMPDIR "/missing.npy: cannot open: No such file or directory");
    CHECK(av__npy_load(AV_TEST_TMPDIR, &a, err, sizeof err) != AV_STATUS_OK);
    CHECK(a.data == NULL);
    CHECK_INT(av__npy_load(NULL, &a, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__npy_parse(NULL, 3, &a, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__npy_parse(buf, 3, NULL, NULL, 0), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__npy_parse(buf, 3, &a, NULL, 0), AV_STATUS_FORMAT); /* no message buffer */
    char tiny[8];
    CHECK_INT(av__npy_load(AV_TEST_TMPDIR "/missing.npy", &a, tiny, sizeof tiny), AV_STATUS_IO);
    CHECK_INT(strlen(tiny), sizeof tiny - 1); /* cut, NUL-terminated */
    CHECK(strncmp(tiny, AV_TEST_TMPDIR, sizeof tiny - 1) == 0);
}

/* Files written by Debian's numpy 1.24 (tests/fixtures/npy). */
static void test_numpy_files(void)
{
    char err[256];
    av__npy_array a;
    if (av__npy_load(AV_FIXTURES_DIR "/npy/f32_2x3.npy", &a, err, sizeof err) != AV_STATUS_OK) {
        CHECK_STR(err, "(loaded)");
    } else {
        static const float want[6] = {0.0f, 1.5f, -2.0f, 3.25f, 1e-3f, 65504.0f};
        CHECK(a.dtype == AV__NPY_F32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3);
        for (int i = 0; i < 6; i++)
            CHECK_NEAR(((float *)a.data)[i], want[i], 0);
        av__npy_free(&a);
    }
    if (av__npy_load(AV_FIXTURES_DIR "/npy/i64_1d.npy", &a, err, sizeof err) != AV_STATUS_OK) {
        CHECK_STR(err, "(loaded)");
    } else {
        static const int64_t want[6] = {INT64_MIN, -1, 0, 1, 1LL << 40, INT64_MAX};
        CHECK(a.dtype == AV__NPY_I64 && a.ndim == 1 && a.count == 6);
        for (int i = 0; i < 6; i++)
            CHECK_INT(((int64_t *)a.data)[i], want[i]);
        av__npy_free(&a);
    }
    if (av__npy_load(AV_FIXTURES_DIR "/npy/bool_1d.npy", &a, err, sizeof err) != AV_STATUS_OK) {
        CHECK_STR(err, "(loaded)");
    } else {
        static const unsigned char want[5] = {1, 0, 1, 1, 0};
        CHECK(a.dtype == AV__NPY_BOOL && a.ndim == 1 && a.count == 5);
        for (int i = 0; i < 5; i++)
            CHECK_INT(((unsigned char *)a.data)[i], want[i]);
        av__npy_free(&a);
    }
}

/* Every file of the fuzz corpus: ok_* parse, bad_* are refused as FORMAT, the rest (crashers
 * the fuzzer found) only must not crash. */
static av_status parse_npy(const char *path, const char *name, uint8_t *data, size_t size, char *err,
                           size_t err_size)
{
    (void)path, (void)name;
    av__npy_array a;
    av_status st = av__npy_parse(data, size, &a, err, err_size);
    av__npy_free(&a);
    return st;
}

static void test_corpus(void)
{
    corpus_counts n = replay_corpus(CORPUS_DIR, parse_npy, (corpus_rules){AV_STATUS_FORMAT, 0});
    CHECK(n.files >= 20);
}

int main(void)
{
    test_dtype_names();
    test_round_trip();
    test_save_layout();
    test_save_errors();
    test_headers();
    test_fortran();
    test_errors();
    test_numpy_files();
    test_corpus();
    remove(TMP_NPY);
    return check_report("test_npy");
}
