/* Plans (src/engine/plan.c, plan_write.c; layout in engine/plan_format.h).
 *   test_plan FIXTURE_PACKAGE SCRATCH_DIR
 * FIXTURE_PACKAGE: the `small` fixture model package (random weights). Checks: XXH64 against the
 * reference implementation's values; build -> save -> load -> bit-identical outputs on every
 * component and every fixture case, re-saving gives the same bytes; refusal of a wrong magic,
 * another format or library version, another target, a missing or unknown CPU feature,
 * truncation at every offset of the header and sections, flipped bytes (checksum), and damage
 * behind a valid checksum (never a crash); profiles at build time (errors) and at run time
 * (enforcement); freshness of a plan against its ONNX file and the converter's choice; the fuzz
 * corpus tests/fuzz/corpus/plan (ok_* load, bad_* are refused with a message). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autovoice/autovoice.h"
#include "check.h"
#include "corpus.h"
#include "engine/plan_format.h"

#define CORPUS_DIR AV_FIXTURES_DIR "/../fuzz/corpus/plan"
#define REFERENCE_DIR AV_FIXTURES_DIR "/reference"

static const char *pkg_dir, *tmp_dir;

/* ---- helpers ------------------------------------------------------------------------------------ */

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *d = NULL;
    *size = 0;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        rewind(f);
        d = malloc(n > 0 ? (size_t)n : 1);
        if (d && n >= 0 && fread(d, 1, (size_t)n, f) == (size_t)n)
            *size = (size_t)n;
    }
    fclose(f);
    return d;
}

static void write_all(const char *path, const void *d, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, size, f) != size) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void fix_checksum(uint8_t *d, size_t size)
{
    uint64_t sum = av__plan_checksum(d, size);
    memcpy(d + AV__PLAN_OFF_CHECKSUM, &sum, 8);
}

static void set_u32(uint8_t *d, int off, uint32_t v) { memcpy(d + off, &v, 4); }
static void set_u64(uint8_t *d, int off, uint64_t v) { memcpy(d + off, &v, 8); }
static uint64_t get_u64(const uint8_t *d, int off)
{
    uint64_t v;
    memcpy(&v, d + off, 8);
    return v;
}

static void path_in_tmp(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmp_dir, name);
}

/* Loads bytes from a file named `name` in the scratch directory: must be refused with `want`
 * (0: any error) and a message that starts with the path and contains `substr`. */
static void expect_refused(const uint8_t *d, size_t size, const char *name, av_status want,
                           const char *substr)
{
    char path[4096], err[2048] = "";
    path_in_tmp(path, sizeof path, name);
    write_all(path, d, size);
    av_model *m = (av_model *)(uintptr_t)1;
    av_status st = av_model_load(path, &m, err, sizeof err);
    if (st == AV_STATUS_OK || (want && st != want) || m || strncmp(err, path, strlen(path)) != 0 ||
        (substr && !strstr(err, substr))) {
        fprintf(stderr, "%s: status %d (want %d), message \"%s\", want \"%s\"\n", name, (int)st,
                (int)want, err, substr ? substr : "");
        check_failures++;
    }
    if (st == AV_STATUS_OK)
        av_model_free(m);
}

/* The same from memory, as a plan whatever its first bytes; returns the status (the model, if
 * any, is freed). */
static av_status load_mem(const uint8_t *d, size_t size, char *err, size_t err_size)
{
    av_model *m = NULL;
    av_status st = av__plan_load_memory(d, size, "mem.plan", &m, err, err_size);
    if (st == AV_STATUS_OK && (!m || !av_model_is_plan(m)))
        check_failures++;
    if (st != AV_STATUS_OK && (m || !err[0]))
        check_failures++;
    av_model_free(m);
    return st;
}

/* ---- XXH64 --------------------------------------------------------------------------------------- */

static void test_xxh64(void)
{
    /* values of the reference implementation (libxxhash 0.8.1, XXH64()) */
    uint8_t seq[1000];
    for (int i = 0; i < 1000; i++)
        seq[i] = (uint8_t)(i * 7 % 251);
    uint8_t first37[37];
    for (int i = 0; i < 37; i++)
        first37[i] = (uint8_t)i;
    CHECK(av__xxh64_once("", 0, 0) == 0xef46db3751d8e999ull);
    CHECK(av__xxh64_once("a", 1, 0) == 0xd24ec4f1a98c6e5bull);
    CHECK(av__xxh64_once("abc", 3, 0) == 0x44bc2cf5ad770999ull);
    CHECK(av__xxh64_once(seq, 1000, 0) == 0x023fd2ed1ff957d5ull);
    CHECK(av__xxh64_once(seq, 1000, 0x9e3779b1) == 0xeae0db0c40f2ce5aull);
    CHECK(av__xxh64_once(first37, 37, 0) == 0xd93fa2dfee5c24c9ull);
    /* streaming in awkward pieces gives the one-shot value */
    static const size_t pieces[] = {1, 3, 31, 32, 33, 7, 64, 2, 97};
    av__xxh64 h;
    av__xxh64_init(&h, 0);
    size_t at = 0;
    for (int k = 0; at < 1000; k++) {
        size_t n = pieces[k % 9] < 1000 - at ? pieces[k % 9] : 1000 - at;
        av__xxh64_update(&h, seq + at, n);
        at += n;
    }
    CHECK(av__xxh64_digest(&h) == 0x023fd2ed1ff957d5ull);
}

/* ---- round trip ---------------------------------------------------------------------------------- */

typedef struct case_input {
    char name[64];
    av_tensor t;
} case_input;

/* Runs `m` on the fixture case's inputs; the outputs are copied into out[] (malloc'd). */
static int run_case(av_model *m, case_input *in, int n_in, av_tensor *out, void **out_data)
{
    av_session_config cfg = av_session_config_default();
    cfg.threads = 2;
    av_session *s;
    char err[1024];
    if (av_session_create(m, &cfg, &s, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "%s\n", err);
        return 0;
    }
    int ok = 1;
    for (int i = 0; i < n_in && ok; i++)
        ok = av_session_set_input(s, in[i].name, in[i].t.dtype, in[i].t.ndim, in[i].t.shape,
                                  in[i].t.data) == AV_STATUS_OK;
    ok = ok && av_session_run(s) == AV_STATUS_OK;
    for (int o = 0; ok && o < av_model_output_count(m); o++) {
        av_tensor info;
        av_model_output(m, o, &info);
        ok = av_session_get_output(s, info.name, &out[o]) == AV_STATUS_OK;
        size_t bytes = av_dtype_size(out[o].dtype);
        for (int d = 0; ok && d < out[o].ndim; d++)
            bytes *= (size_t)out[o].shape[d];
        out_data[o] = ok ? malloc(bytes ? bytes : 1) : NULL;
        if (out_data[o])
            memcpy(out_data[o], out[o].data, bytes);
        out[o].data = out_data[o];
    }
    if (!ok)
        fprintf(stderr, "run: %s\n", av_session_last_error(s));
    av_session_free(s);
    return ok;
}

/* Every fixture case of `component` through both models: bit-identical outputs. */
static void compare_cases(const char *component, av_model *onnx, av_model *plan)
{
    char line[512], last_case[64] = "";
    FILE *f = fopen(REFERENCE_DIR "/MANIFEST", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    int cases = 0;
    for (;;) {
        char comp[64], cas[64], kind[16], tensor[64];
        int more = fgets(line, sizeof line, f) != NULL;
        int parsed = more && sscanf(line, "%63s %63s %15s %63s", comp, cas, kind, tensor) == 4;
        if (more && (!parsed || strcmp(comp, component)))
            continue;
        if (more && !strcmp(cas, last_case))
            continue;
        if (!more)
            break;
        /* a new case: read its inputs from the manifest's input lines */
        snprintf(last_case, sizeof last_case, "%s", cas);
        case_input in[8];
        int n_in = 0;
        for (int i = 0; i < av_model_input_count(onnx) && i < 8; i++) {
            av_tensor info;
            char path[4096], err[512];
            av_model_input(onnx, i, &info);
            snprintf(in[n_in].name, sizeof in[n_in].name, "%s", info.name);
            snprintf(path, sizeof path, REFERENCE_DIR "/%s/%s/%s.npy", component, cas, info.name);
            if (av_npy_read(path, &in[n_in].t, err, sizeof err) != AV_STATUS_OK) {
                fprintf(stderr, "%s\n", err);
                check_failures++;
                break;
            }
            n_in++;
        }
        av_tensor a[8], b[8];
        void *da[8] = {0}, *db[8] = {0};
        int n_out = av_model_output_count(onnx);
        if (n_in == av_model_input_count(onnx) && n_out <= 8 && run_case(onnx, in, n_in, a, da) &&
            run_case(plan, in, n_in, b, db)) {
            for (int o = 0; o < n_out; o++) {
                size_t bytes = av_dtype_size(a[o].dtype);
                for (int d = 0; d < a[o].ndim; d++)
                    bytes *= (size_t)a[o].shape[d];
                int same = a[o].dtype == b[o].dtype && a[o].ndim == b[o].ndim &&
                           !memcmp(a[o].shape, b[o].shape, sizeof a[o].shape[0] * (size_t)a[o].ndim) &&
                           !memcmp(a[o].data, b[o].data, bytes);
                if (!same) {
                    fprintf(stderr, "%s/%s: output %d differs between ONNX and plan\n", component,
                            cas, o);
                    check_failures++;
                }
            }
            cases++;
        } else {
            fprintf(stderr, "%s/%s: could not run\n", component, cas);
            check_failures++;
        }
        for (int o = 0; o < 8; o++) {
            free(da[o]);
            free(db[o]);
        }
        for (int i = 0; i < n_in; i++)
            av_npy_free(&in[i].t);
    }
    fclose(f);
    printf("%s: %d fixture case%s bit-identical through the plan\n", component, cases,
           cases == 1 ? "" : "s");
    CHECK(cases >= 3);
}

static int tensors_equal(const av_tensor *a, const av_tensor *b)
{
    if (strcmp(a->name, b->name) || a->dtype != b->dtype || a->ndim != b->ndim)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d] || !a->dim_names[d] != !b->dim_names[d] ||
            (a->dim_names[d] && strcmp(a->dim_names[d], b->dim_names[d])))
            return 0;
    return 1;
}

static void test_round_trip(void)
{
    for (int c = 0; c < AV_PACKAGE_COMPONENTS; c++) {
        const char *name;
        char onnx[4096], pkg_plan[4096], plan[4096], resave[4096], err[1024];
        CHECK_INT(av_package_component(pkg_dir, c, &name, onnx, pkg_plan, sizeof onnx, err,
                                       sizeof err), AV_STATUS_OK);
        snprintf(plan, sizeof plan, "%s/%s.plan", tmp_dir, name);
        snprintf(resave, sizeof resave, "%s/%s.resaved.plan", tmp_dir, name);
        av_model *a = NULL, *b = NULL, *r = NULL;
        CHECK_INT(av_model_load(onnx, &a, err, sizeof err), AV_STATUS_OK);
        if (!a)
            continue;
        CHECK(!av_model_is_plan(a));
        av_plan_info info;
        CHECK_INT(av_model_plan_info(a, &info), AV_STATUS_NOT_FOUND);
        av_plan_options opt = av_plan_options_default();
        opt.source_path = onnx;
        opt.component = name;
        CHECK_INT(av_model_save_plan(a, plan, &opt, err, sizeof err), AV_STATUS_OK);
        CHECK_INT(av_model_load(plan, &b, err, sizeof err), AV_STATUS_OK);
        if (!b) {
            fprintf(stderr, "%s\n", err);
            av_model_free(a);
            continue;
        }
        CHECK(av_model_is_plan(b));
        av_model_stats sa, sb;
        av_model_get_stats(a, &sa);
        av_model_get_stats(b, &sb);
        CHECK_INT(sa.nodes, sb.nodes);
        CHECK_INT(sa.parameters, sb.parameters);
        CHECK_INT(sa.opset, sb.opset);
        CHECK_INT(sa.ir_version, sb.ir_version);
        CHECK_STR(sa.producer, sb.producer);
        CHECK_INT(av_model_input_count(a), av_model_input_count(b));
        CHECK_INT(av_model_output_count(a), av_model_output_count(b));
        for (int i = 0; i < av_model_input_count(a); i++) {
            av_tensor x, y;
            av_model_input(a, i, &x);
            av_model_input(b, i, &y);
            CHECK(tensors_equal(&x, &y));
        }
        for (int i = 0; i < av_model_output_count(a); i++) {
            av_tensor x, y;
            av_model_output(a, i, &x);
            av_model_output(b, i, &y);
            CHECK(tensors_equal(&x, &y));
        }
        CHECK_INT(av_model_plan_info(b, &info), AV_STATUS_OK);
        CHECK_INT(info.format_version, 1);
        CHECK_STR(info.library_version, av_version_string());
        CHECK_STR(info.target, "cpu x86-64");
        CHECK_STR(info.cpu_needed, "none");
        CHECK_INT(info.precision, AV_PRECISION_FP32);
        CHECK_INT(info.nodes_by_precision[AV_PRECISION_FP32], sb.nodes);
        CHECK_STR(info.component, name);
        CHECK_STR(info.source_path, onnx);
        struct stat st;
        CHECK(stat(onnx, &st) == 0 && info.source_size == st.st_size);
        CHECK(stat(plan, &st) == 0 && info.file_bytes == st.st_size);
        CHECK_INT(info.n_profiles, 0);
        compare_cases(name, a, b);

        /* re-saving the loaded plan gives the very same bytes (a deterministic writer that keeps
         * the source record and component) */
        CHECK_INT(av_model_save_plan(b, resave, NULL, err, sizeof err), AV_STATUS_OK);
        size_t n1, n2;
        uint8_t *d1 = read_all(plan, &n1), *d2 = read_all(resave, &n2);
        CHECK(d1 && d2 && n1 == n2 && !memcmp(d1, d2, n1));
        /* from memory too */
        CHECK_INT(av_model_load_memory(d1, n1, NULL, &r, err, sizeof err), AV_STATUS_OK);
        CHECK(r && av_model_is_plan(r));
        /* weights are 64-byte aligned in the file */
        CHECK(get_u64(d1, AV__PLAN_OFF_WEIGHTS) % 64 == 0);
        free(d1);
        free(d2);
        av_model_free(r);
        av_model_free(b);
        av_model_free(a);
    }
}

/* ---- refusals -------------------------------------------------------------------------------------- */

static void test_refusals(void)
{
    char plan[4096], err[2048];
    snprintf(plan, sizeof plan, "%s/mel_projection.plan", tmp_dir);
    size_t size;
    uint8_t *orig = read_all(plan, &size);
    CHECK(orig != NULL && size > AV__PLAN_HEADER_SIZE);
    if (!orig)
        return;
    uint8_t *d = malloc(size + 1);
    char source_hint[4200], lib_msg[256];
    av_plan_info info;
    av_model *m = NULL;
    CHECK_INT(av_model_load(plan, &m, err, sizeof err), AV_STATUS_OK);
    av_model_plan_info(m, &info);
    snprintf(source_hint, sizeof source_hint, "rebuild it with `autovoice build %s -o ",
             info.source_path);
    av_model_free(m);

#define FRESH() memcpy(d, orig, size)
    FRESH();
    d[0] = 'X';
    expect_refused(d, size, "magic.plan", AV_STATUS_FORMAT, "not an autovoice plan (wrong magic)");
    FRESH();
    set_u32(d, AV__PLAN_OFF_FORMAT, 2);
    expect_refused(d, size, "format.plan", AV_STATUS_UNSUPPORTED,
                   "(plan format 2); this is autovoice");
    expect_refused(d, size, "format.plan", AV_STATUS_UNSUPPORTED,
                   "rebuild it with `autovoice build MODEL.onnx -o ");
    FRESH();
    memset(d + AV__PLAN_OFF_LIBRARY, 0, AV__PLAN_LIBRARY_SIZE);
    memcpy(d + AV__PLAN_OFF_LIBRARY, "0.0.9", 5);
    expect_refused(d, size, "library_nosum.plan", AV_STATUS_FORMAT, "corrupt plan (checksum");
    fix_checksum(d, size);
    snprintf(lib_msg, sizeof lib_msg, "built by autovoice 0.0.9 (plan format 1); this is autovoice %s",
             av_version_string());
    expect_refused(d, size, "library.plan", AV_STATUS_UNSUPPORTED, lib_msg);
    expect_refused(d, size, "library.plan", AV_STATUS_UNSUPPORTED, source_hint);
    FRESH();
    set_u32(d, AV__PLAN_OFF_TARGET_KIND, AV__PLAN_TARGET_CUDA);
    set_u32(d, AV__PLAN_OFF_TARGET_ARCH, 90);
    fix_checksum(d, size);
    expect_refused(d, size, "cuda.plan", AV_STATUS_UNSUPPORTED, "built for cuda sm_90");
    FRESH();
    set_u64(d, AV__PLAN_OFF_CPU_NEEDED, 1ull << 40);
    fix_checksum(d, size);
    expect_refused(d, size, "cpu_unknown.plan", AV_STATUS_UNSUPPORTED,
                   "needs CPU features unknown to autovoice");
    /* a feature this CPU lacks, when there is one to pick */
    uint64_t have = av__plan_cpu_features();
    for (int bit = 0; bit < 10; bit++) {
        if (have & (1ull << bit))
            continue;
        char names[64], want[128];
        av__plan_cpu_feature_names(1ull << bit, names, sizeof names);
        snprintf(want, sizeof want, "needs CPU features this CPU lacks: %s (built on", names);
        FRESH();
        set_u64(d, AV__PLAN_OFF_CPU_NEEDED, 1ull << bit);
        fix_checksum(d, size);
        expect_refused(d, size, "cpu_missing.plan", AV_STATUS_UNSUPPORTED, want);
        printf("missing CPU feature faked with %s\n", names);
        break;
    }
    /* a feature it has is fine */
    if (have & AV__PLAN_CPU_SSE42) {
        FRESH();
        set_u64(d, AV__PLAN_OFF_CPU_NEEDED, AV__PLAN_CPU_SSE42);
        fix_checksum(d, size);
        CHECK_INT(load_mem(d, size, err, sizeof err), AV_STATUS_OK);
    }
    FRESH();
    d[size] = 0;
    expect_refused(d, size + 1, "trailing.plan", AV_STATUS_FORMAT, "its header says");

    /* truncation: every length through the header and sections, then every 4099th */
    uint64_t graph_end = get_u64(orig, AV__PLAN_OFF_GRAPH) + get_u64(orig, AV__PLAN_OFF_GRAPH + 8);
    int refused = 0, tried = 0;
    for (size_t n = 0; n < size; n += n < graph_end + 64 ? 1 : 4099) {
        err[0] = '\0';
        av_status st = load_mem(orig, n, err, sizeof err);
        tried++;
        if (st == AV_STATUS_FORMAT && strstr(err, "truncated plan"))
            refused++;
        else if (tried - refused < 5)
            fprintf(stderr, "truncated at %zu: status %d, \"%s\"\n", n, (int)st, err);
    }
    CHECK_INT(refused, tried);
    printf("truncation: %d lengths refused\n", refused);
    expect_refused(orig, 100, "truncated_header.plan", AV_STATUS_FORMAT, "truncated plan (100 bytes");
    expect_refused(orig, size - 1, "truncated_end.plan", AV_STATUS_FORMAT, "truncated plan (");

    /* flipped bytes: every byte of the header and sections, every 997th of the weights */
    refused = tried = 0;
    for (size_t i = 0; i < size; i += i < graph_end ? 1 : 997) {
        FRESH();
        d[i] ^= 0x5a;
        tried++;
        if (load_mem(d, size, err, sizeof err) != AV_STATUS_OK)
            refused++;
        else if (tried - refused < 5)
            fprintf(stderr, "flipped byte %zu: loaded\n", i);
    }
    CHECK_INT(refused, tried);
    printf("flipped bytes: %d of %d refused\n", refused, tried);
    expect_refused(d, size, "flipped.plan", AV_STATUS_FORMAT, "corrupt plan (checksum");

    /* damage behind a valid checksum: every byte of the meta and graph sections, three ways;
     * refused or loaded, never a crash (the sanitizer build watches) */
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    refused = tried = 0;
    for (size_t i = AV__PLAN_OFF_FILE_SIZE; i < graph_end; i++)
        for (int k = 0; k < 3; k++) {
            if (i >= AV__PLAN_OFF_CHECKSUM && i < AV__PLAN_OFF_CHECKSUM + 8)
                continue;
            FRESH();
            d[i] ^= masks[k];
            fix_checksum(d, size);
            tried++;
            refused += load_mem(d, size, err, sizeof err) != AV_STATUS_OK;
        }
    printf("damage behind a valid checksum: %d of %d refused, the rest loaded\n", refused, tried);
    CHECK(refused > 0);
#undef FRESH
    free(d);
    free(orig);
}

/* ---- profiles ---------------------------------------------------------------------------------------- */

static av_status bind(av_session *s, int64_t frames, int64_t batch, float *buf)
{
    int64_t shape[3] = {batch, 80, frames};
    return av_session_set_input(s, "mel_input", AV_DTYPE_FLOAT32, 3, shape, buf);
}

static av_status save_with(av_model *m, const char *path, const av_plan_profile *p, int n,
                           char *err, size_t err_size)
{
    av_plan_options o = av_plan_options_default();
    o.profiles = p;
    o.n_profiles = n;
    return av_model_save_plan(m, path, &o, err, err_size);
}

static void test_profiles(void)
{
    char onnx[4096], unused[4096], plan[4096], err[2048];
    const char *name;
    CHECK_INT(av_package_component(pkg_dir, 4, &name, onnx, unused, sizeof onnx, err, sizeof err),
              AV_STATUS_OK);
    CHECK_STR(name, "vocoder");
    av_model *m = NULL, *p = NULL;
    CHECK_INT(av_model_load(onnx, &m, err, sizeof err), AV_STATUS_OK);
    if (!m)
        return;
    snprintf(plan, sizeof plan, "%s/profile.plan", tmp_dir);
    av_plan_profile prof = {.input = "mel_input", .ndim = 3, .min = {1, 80, 10}, .opt = {1, 80, 50},
                            .max = {1, 80, 100}};
    CHECK_INT(save_with(m, plan, &prof, 1, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_model_load(plan, &p, err, sizeof err), AV_STATUS_OK);
    if (!p) {
        av_model_free(m);
        return;
    }
    av_plan_info info;
    av_plan_profile got;
    CHECK_INT(av_model_plan_info(p, &info), AV_STATUS_OK);
    CHECK_INT(info.n_profiles, 1);
    CHECK_INT(av_model_plan_profile(p, 0, &got), AV_STATUS_OK);
    CHECK_STR(got.input, "mel_input");
    CHECK(got.ndim == 3 && got.min[2] == 10 && got.opt[2] == 50 && got.max[2] == 100 &&
          got.min[1] == 80 && got.max[0] == 1);
    CHECK_INT(av_model_plan_profile(p, 1, &got), AV_STATUS_INVALID_ARGUMENT);

    float *buf = calloc(2 * 80 * 200, sizeof(float));
    av_session *s = NULL, *so = NULL;
    CHECK_INT(av_session_create(p, NULL, &s, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_session_create(m, NULL, &so, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(bind(s, 5, 1, buf), AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(av_session_last_error(s), "input 'mel_input': shape [1, 80, 5] is outside the "
                                           "plan's profile, min [1, 80, 10] to max [1, 80, 100]"));
    CHECK_INT(bind(s, 101, 1, buf), AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(av_session_last_error(s), "[1, 80, 101]"));
    CHECK_INT(bind(s, 50, 2, buf), AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(bind(s, 100, 1, buf), AV_STATUS_OK);
    CHECK_INT(bind(s, 10, 1, buf), AV_STATUS_OK);
    CHECK_INT(av_session_run(s), AV_STATUS_OK);
    /* the ONNX model has no profile: any length */
    CHECK_INT(bind(so, 5, 1, buf), AV_STATUS_OK);
    CHECK_INT(bind(so, 150, 2, buf), AV_STATUS_OK);
    av_session_free(s);
    av_session_free(so);
    free(buf);

    /* re-saving keeps the profiles */
    char resaved[4096];
    av_model *q = NULL;
    snprintf(resaved, sizeof resaved, "%s/profile.resaved.plan", tmp_dir);
    CHECK_INT(av_model_save_plan(p, resaved, NULL, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_model_load(resaved, &q, err, sizeof err), AV_STATUS_OK);
    CHECK(q && av_model_plan_info(q, &info) == AV_STATUS_OK && info.n_profiles == 1);
    av_model_free(q);
    av_model_free(p);

    /* refused at build time, and nothing written */
    char bad[4096], tmpfile[4200];
    snprintf(bad, sizeof bad, "%s/never.plan", tmp_dir);
    snprintf(tmpfile, sizeof tmpfile, "%s.tmp", bad);
    struct {
        av_plan_profile p[2];
        int n;
        const char *want;
    } cases[] = {
        {{{.input = "mel", .ndim = 3, .min = {1, 80, 1}, .opt = {1, 80, 1}, .max = {1, 80, 1}}}, 1,
         "profile for 'mel' (given): the model has no such input (inputs: mel_input)"},
        {{{.input = "mel_input", .ndim = 2, .min = {1, 80}, .opt = {1, 80}, .max = {1, 80}}}, 1,
         "profile for 'mel_input' (given) has 2 dimensions; the input has 3"},
        {{{.input = "mel_input", .ndim = 3, .min = {1, 64, 10}, .opt = {1, 64, 20}, .max = {1, 64, 30}}}, 1,
         "the model fixes dimension 1 at 80, the profile gives 1x64x10 to 1x64x30"},
        {{{.input = "mel_input", .ndim = 3, .min = {1, 80, 30}, .opt = {1, 80, 20}, .max = {1, 80, 40}}}, 1,
         "dimension 2 needs 1 <= min <= opt <= max, got 30/20/40"},
        {{{.input = "mel_input", .ndim = 3, .min = {0, 80, 3}, .opt = {1, 80, 20}, .max = {1, 80, 40}}}, 1,
         "dimension 0 needs 1 <= min <= opt <= max, got 0/1/1"},
        {{{.input = "mel_input", .ndim = 3, .min = {1, 80, 3}, .opt = {1, 80, 3}, .max = {1, 80, 3}},
          {.input = "mel_input", .ndim = 3, .min = {1, 80, 3}, .opt = {1, 80, 3}, .max = {1, 80, 3}}}, 2,
         "input 'mel_input' is given two profiles"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        CHECK_INT(save_with(m, bad, cases[i].p, cases[i].n, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
        if (!strstr(err, cases[i].want) || strncmp(err, bad, strlen(bad))) {
            fprintf(stderr, "profile case %zu: \"%s\", want \"%s\"\n", i, err, cases[i].want);
            check_failures++;
        }
    }
    av_plan_options o = av_plan_options_default();
    o.precision = AV_PRECISION_FP16;
    CHECK_INT(av_model_save_plan(m, bad, &o, err, sizeof err), AV_STATUS_UNSUPPORTED);
    CHECK(strstr(err, "fp16 plans are not implemented on the CPU") != NULL);
    CHECK(access(bad, F_OK) != 0 && access(tmpfile, F_OK) != 0);
    o = av_plan_options_default();
    o.source_path = onnx;
    CHECK_INT(av_model_save_plan(m, onnx, &o, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(err, "is the source model itself") != NULL);

    /* profiles from a build configuration; a given profile replaces the configuration's */
    char cfg[4096], nocfg[4096];
    snprintf(cfg, sizeof cfg, "%s/build.yaml", tmp_dir);
    snprintf(nocfg, sizeof nocfg, "%s/notrt.yaml", tmp_dir);
    const char *yaml = "tensorrt:\n  voice_conversion:\n    dynamic_shapes:\n      vocoder:\n"
                       "        mel_input: {min: [1, 80, 20], opt: [1, 80, 40], max: [1, 80, 60]}\n"
                       "      mel_projection:\n"
                       "        latent_input: {min: [1, 192, 2], opt: [1, 192, 4], max: [1, 192, 6]}\n";
    write_all(cfg, yaml, strlen(yaml));
    write_all(nocfg, "other: 1\n", 9);
    CHECK_INT(av_build_config_check(cfg, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_build_config_check(nocfg, err, sizeof err), AV_STATUS_NOT_FOUND);
    o = av_plan_options_default();
    o.config_path = cfg;
    o.component = "vocoder";
    CHECK_INT(av_model_save_plan(m, plan, &o, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_model_load(plan, &p, err, sizeof err), AV_STATUS_OK);
    CHECK(p && av_model_plan_profile(p, 0, &got) == AV_STATUS_OK && got.min[2] == 20 &&
          got.opt[2] == 40 && got.max[2] == 60);
    av_model_free(p);
    o.profiles = &prof;
    o.n_profiles = 1;
    CHECK_INT(av_model_save_plan(m, plan, &o, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_model_load(plan, &p, err, sizeof err), AV_STATUS_OK);
    CHECK(p && av_model_plan_info(p, &info) == AV_STATUS_OK && info.n_profiles == 1 &&
          av_model_plan_profile(p, 0, &got) == AV_STATUS_OK && got.min[2] == 10 && got.max[2] == 100);
    av_model_free(p);
    o.n_profiles = 0;
    o.component = "mel_projection"; /* its input is not the vocoder's */
    CHECK_INT(av_model_save_plan(m, plan, &o, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(err, "profile for 'latent_input'") && strstr(err, "build.yaml"));
    o.component = NULL;
    CHECK_INT(av_model_save_plan(m, plan, &o, err, sizeof err), AV_STATUS_INVALID_ARGUMENT);
    o.component = "vocoder";
    o.config_path = nocfg;
    CHECK_INT(av_model_save_plan(m, plan, &o, err, sizeof err), AV_STATUS_NOT_FOUND);
    CHECK(strstr(err, "no 'tensorrt' block") != NULL);
    av_model_free(m);
}

/* ---- freshness ----------------------------------------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
    size_t n;
    uint8_t *d = read_all(from, &n);
    if (!d) {
        fprintf(stderr, "cannot read %s\n", from);
        exit(1);
    }
    write_all(to, d, n);
    free(d);
}

static void build_plan(const char *onnx, const char *plan, const char *source, int max_frames)
{
    char err[1024];
    av_model *m = NULL;
    CHECK_INT(av_model_load(onnx, &m, err, sizeof err), AV_STATUS_OK);
    av_plan_profile prof = {.input = "mel_input", .ndim = 3, .min = {1, 80, 1},
                            .opt = {1, 80, max_frames}, .max = {1, 80, max_frames}};
    av_plan_options o = av_plan_options_default();
    o.source_path = source;
    o.profiles = &prof;
    o.n_profiles = max_frames > 0;
    CHECK_INT(av_model_save_plan(m, plan, &o, err, sizeof err), AV_STATUS_OK);
    av_model_free(m);
}

static void test_fresh(void)
{
    char onnx[4096], unused[4096], x[4096], plan[4096], err[1024];
    CHECK_INT(av_package_component(pkg_dir, 3, NULL, onnx, unused, sizeof onnx, err, sizeof err),
              AV_STATUS_OK);
    path_in_tmp(x, sizeof x, "fresh.onnx");
    path_in_tmp(plan, sizeof plan, "fresh.plan");
    copy_file(onnx, x);
    build_plan(x, plan, x, 0);
    CHECK_INT(av__plan_is_fresh(plan, x), 1);
    struct timespec times[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    CHECK(utimensat(AT_FDCWD, x, times, 0) == 0);
    CHECK_INT(av__plan_is_fresh(plan, x), 1); /* another mtime alone: still the same bytes */
    size_t n;
    uint8_t *d = read_all(x, &n);
    d[n / 2] ^= 1;
    write_all(x, d, n);
    CHECK_INT(av__plan_is_fresh(plan, x), 0); /* same size, other bytes */
    d[n / 2] ^= 1;
    write_all(x, d, n);
    CHECK_INT(av__plan_is_fresh(plan, x), 1);
    d = realloc(d, n + 1);
    d[n] = 0;
    write_all(x, d, n + 1);
    CHECK_INT(av__plan_is_fresh(plan, x), 0); /* other size */
    write_all(x, d, n);
    CHECK_INT(av__plan_is_fresh(plan, x), 1);
    free(d);
    CHECK_INT(av__plan_is_fresh(plan, "/nonexistent.onnx"), 0);
    CHECK_INT(av__plan_is_fresh("/nonexistent.plan", x), 0);
    /* a plan of another library version is never fresh */
    uint8_t *p = read_all(plan, &n);
    memcpy(p + AV__PLAN_OFF_LIBRARY, "0.0.9", 6);
    fix_checksum(p, n);
    write_all(plan, p, n);
    CHECK_INT(av__plan_is_fresh(plan, x), 0);
    free(p);
    write_all(plan, "AVPLAN", 6);
    CHECK_INT(av__plan_is_fresh(plan, x), 0);
}

/* The converter takes DIR/<component>.plan while it is fresh, the ONNX file otherwise. */
static char log_line[1024];
static void remember_log(av_log_level level, const char *message, void *user)
{
    (void)level;
    (void)user;
    snprintf(log_line, sizeof log_line, "%s", message);
}

static void test_package_plans(void)
{
    char dir[4096], err[1024];
    path_in_tmp(dir, sizeof dir, "package");
    mkdir(dir, 0755);
    static const char *const files[] = {"model.yaml", "speakers.npy", "content_encoder.onnx",
                                        "pitch_encoder.onnx", "flow_decoder.onnx",
                                        "mel_projection.onnx", "vocoder.onnx"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char from[4096], to[8300];
        snprintf(from, sizeof from, "%s/%s", pkg_dir, files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        copy_file(from, to);
    }
    for (int c = 0; c < AV_PACKAGE_COMPONENTS; c++) { /* plans of earlier runs */
        char onnx[4096], plan[4096];
        if (av_package_component(dir, c, NULL, onnx, plan, sizeof onnx, err, sizeof err) == AV_STATUS_OK)
            unlink(plan);
    }
    av_audio in = {.sample_rate = 22050, .frames = 22050};
    in.samples = malloc(sizeof(float) * (size_t)in.frames);
    for (int64_t i = 0; i < in.frames; i++)
        in.samples[i] = 0.5f * sinf(2 * 3.14159265f * 220.0f * (float)i / 22050.0f);
    av_convert_config cfg = av_convert_config_default();
    cfg.f0_method = AV_F0_METHOD_YIN;
    av_audio ref = {0}, out = {0};
    av_converter *cv = NULL;
    CHECK_INT(av_converter_create(dir, 2, &cv, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_convert(cv, &in, &cfg, &ref), AV_STATUS_OK);
    av_converter_free(cv);

    /* every component from a fresh plan: the same samples */
    for (int c = 0; c < AV_PACKAGE_COMPONENTS; c++) {
        char onnx[4096], plan[4096];
        av_model *m = NULL;
        CHECK_INT(av_package_component(dir, c, NULL, onnx, plan, sizeof onnx, err, sizeof err),
                  AV_STATUS_OK);
        CHECK_INT(av_model_load(onnx, &m, err, sizeof err), AV_STATUS_OK);
        av_plan_options o = av_plan_options_default();
        o.source_path = onnx;
        CHECK_INT(av_model_save_plan(m, plan, &o, err, sizeof err), AV_STATUS_OK);
        CHECK_INT(av__plan_is_fresh(plan, onnx), 1);
        av_model_free(m);
    }
    CHECK_INT(av_converter_create(dir, 2, &cv, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_convert(cv, &in, &cfg, &out), AV_STATUS_OK);
    CHECK(out.frames == ref.frames && !memcmp(out.samples, ref.samples, sizeof(float) * (size_t)ref.frames));
    av_converter_free(cv);
    av_audio_free(&out);

    /* proof that the plan is what runs: a fresh vocoder plan whose profile is too short makes the
     * converter say so and run the vocoder's ONNX file instead, with the same samples */
    char onnx[4096], plan[4096], other[4096], unused[4096];
    CHECK_INT(av_package_component(dir, 4, NULL, onnx, plan, sizeof onnx, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_package_component(dir, 3, NULL, other, unused, sizeof other, err, sizeof err), AV_STATUS_OK);
    build_plan(onnx, plan, onnx, 10);
    log_line[0] = '\0';
    av_log_set_callback(remember_log, NULL);
    CHECK_INT(av_converter_create(dir, 2, &cv, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_convert(cv, &in, &cfg, &out), AV_STATUS_OK);
    av_log_set_callback(NULL, NULL);
    CHECK(strstr(log_line, "vocoder: input shapes outside the plan's profiles; running") != NULL);
    CHECK(out.frames == ref.frames && !memcmp(out.samples, ref.samples, sizeof(float) * (size_t)ref.frames));
    av_converter_free(cv);
    av_audio_free(&out);
    /* the same plan recorded as built from another file: stale, so the ONNX file runs */
    build_plan(onnx, plan, other, 10);
    CHECK_INT(av__plan_is_fresh(plan, onnx), 0);
    CHECK_INT(av_converter_create(dir, 2, &cv, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av_convert(cv, &in, &cfg, &out), AV_STATUS_OK);
    CHECK(out.frames == ref.frames && !memcmp(out.samples, ref.samples, sizeof(float) * (size_t)ref.frames));
    av_converter_free(cv);
    av_audio_free(&out);
    av_audio_free(&ref);
    free(in.samples);
}

/* ---- the fuzz corpus ----------------------------------------------------------------------------------- */

/* As the fuzz target does: a plan-shaped input gets this library's version and a correct
 * checksum, so that the corpus exercises the parser and stays valid across versions. */
static void normalise(uint8_t *d, size_t size)
{
    if (size < AV__PLAN_HEADER_SIZE || memcmp(d, AV__PLAN_MAGIC, AV__PLAN_MAGIC_SIZE))
        return;
    memset(d + AV__PLAN_OFF_LIBRARY, 0, AV__PLAN_LIBRARY_SIZE);
    memcpy(d + AV__PLAN_OFF_LIBRARY, av_version_string(), strlen(av_version_string()));
    fix_checksum(d, size);
}

static av_status parse_plan(const char *path, const char *name, uint8_t *data, size_t size,
                            char *err, size_t err_size)
{
    (void)path;
    normalise(data, size);
    av_model *m = NULL;
    av_status st = av__plan_load_memory(data, size, name, &m, err, err_size);
    if (st != AV_STATUS_OK && m) {
        fprintf(stderr, "corpus %s: a refused plan left a model\n", name);
        check_failures++;
    }
    av_model_free(m);
    return st;
}

static void test_corpus(void)
{
    corpus_counts n = replay_corpus(CORPUS_DIR, parse_plan, (corpus_rules){AV_STATUS_OK, 1});
    CHECK(n.ok >= 3 && n.bad >= 10);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_plan FIXTURE_PACKAGE SCRATCH_DIR\n");
        return 2;
    }
    pkg_dir = argv[1];
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/plan", argv[2]);
    mkdir(argv[2], 0755);
    mkdir(tmp, 0755);
    tmp_dir = tmp;
    test_xxh64();
    test_corpus();
    test_round_trip();
    test_refusals();
    test_profiles();
    test_fresh();
    test_package_plans();
    return check_report("test_plan");
}
