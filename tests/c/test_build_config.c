/* builder/build_config: config/model_config.yaml parses into the defaults of issue 5; a parsed
 * configuration written back as YAML parses into the same struct; every error class (YAML syntax,
 * unknown key, repeated key, wrong type, out of range, min > max, rank mismatch, non-positive
 * dimension, bad method name, missing min/opt/max) is refused with "file:line:column: key path"
 * checked exactly; profile and keep_precision lookups; the fuzz corpus
 * tests/fuzz/corpus/build_config (ok_* parse, bad_* are refused with the file named). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "builder/build_config.h"
#include "check.h"
#include "corpus.h"

#define CORPUS_DIR AV_FIXTURES_DIR "/../fuzz/corpus/build_config"

#define CONFIG_FILE AV_FIXTURES_DIR "/../../config/model_config.yaml"

static char err[1024];

static void check_profile(const av__build_config *cfg, const char *comp, const char *input,
                          int rank, const int64_t *mn, const int64_t *op, const int64_t *mx)
{
    const av__build_profile *p = av__build_config_profile(cfg, comp, input);
    if (!p) {
        fprintf(stderr, "no profile for %s/%s\n", comp, input);
        check_failures++;
        return;
    }
    CHECK_STR(p->component, comp);
    CHECK_STR(p->input, input);
    CHECK_INT(p->rank, rank);
    for (int d = 0; d < rank && d < p->rank; d++) {
        CHECK_INT(p->min[d], mn[d]);
        CHECK_INT(p->opt[d], op[d]);
        CHECK_INT(p->max[d], mx[d]);
    }
}

/* The project file carries the defaults of issue 5. */
static void check_project_defaults(const av__build_config *c)
{
    CHECK_INT(c->fp16, 1);
    CHECK_INT(c->bf16, 1);
    CHECK_INT(c->int8, 0);
    CHECK_INT(c->strict_types, 0);
    CHECK_INT(c->workspace_mb, 2048);
    CHECK_INT(c->profile_count, 8);
    check_profile(c, "content_encoder", "input_audio", 2, (int64_t[]){1, 1024},
                  (int64_t[]){1, 160000}, (int64_t[]){1, 736000});
    check_profile(c, "pitch_encoder", "f0_input", 2, (int64_t[]){1, 1}, (int64_t[]){1, 1000},
                  (int64_t[]){1, 4600});
    check_profile(c, "pitch_encoder", "voiced_mask", 2, (int64_t[]){1, 1}, (int64_t[]){1, 1000},
                  (int64_t[]){1, 4600});
    check_profile(c, "flow_decoder", "latent_input", 3, (int64_t[]){1, 192, 1},
                  (int64_t[]){1, 192, 862}, (int64_t[]){1, 192, 3968});
    check_profile(c, "flow_decoder", "mask", 3, (int64_t[]){1, 1, 1}, (int64_t[]){1, 1, 862},
                  (int64_t[]){1, 1, 3968});
    check_profile(c, "flow_decoder", "conditioning", 3, (int64_t[]){1, 704, 1},
                  (int64_t[]){1, 704, 862}, (int64_t[]){1, 704, 3968});
    check_profile(c, "mel_projection", "latent_input", 3, (int64_t[]){1, 192, 1},
                  (int64_t[]){1, 192, 862}, (int64_t[]){1, 192, 3968});
    check_profile(c, "vocoder", "mel_input", 3, (int64_t[]){1, 80, 1}, (int64_t[]){1, 80, 862},
                  (int64_t[]){1, 80, 3968});
    CHECK(av__build_config_profile(c, "vocoder", "latent_input") == NULL);
    CHECK(av__build_config_profile(c, "decoder", "mel_input") == NULL);
    CHECK(av__build_config_profile(c, NULL, "mel_input") == NULL);
    CHECK_INT(c->calib.method, AV__CALIB_METHOD_ENTROPY);
    CHECK(c->calib.percentile == 99.99);
    CHECK_STR(c->calib.data, "calib.npz");
    CHECK_STR(c->calib.cache_dir, "build/calib");
    CHECK_INT(c->calib.batches, 32);
    CHECK_INT(c->keep_count, 1);
    const av__build_keep *k = av__build_config_keep(c, "vocoder");
    CHECK(k != NULL);
    if (k) {
        CHECK_INT(k->count, 3);
        if (k->count == 3) {
            CHECK_STR(k->layers[0], "first_conv");
            CHECK_STR(k->layers[1], "upsamplers");
            CHECK_STR(k->layers[2], "last_conv");
            for (int i = 0; i < 3; i++)
                CHECK(av__build_keep_is_group(k->layers[i]));
        }
    }
    CHECK(av__build_config_keep(c, "flow_decoder") == NULL);
}

/* Writes cfg back as YAML (block style, every key) into out. */
static void emit(const av__build_config *c, char *out, size_t size)
{
    size_t n = 0;
#define OUT(...) n += (size_t)snprintf(out + n, n < size ? size - n : 0, __VA_ARGS__)
    OUT("tensorrt:\n  voice_conversion:\n    precision:\n");
    OUT("      fp16: %s\n      bf16: %s\n      int8: %s\n      strict_types: %s\n",
        c->fp16 ? "true" : "false", c->bf16 ? "true" : "false", c->int8 ? "true" : "false",
        c->strict_types ? "true" : "false");
    OUT("    workspace_mb: %" PRId64 "\n    dynamic_shapes:\n", c->workspace_mb);
    for (size_t i = 0; i < c->profile_count; i++) {
        const av__build_profile *p = &c->profiles[i];
        int first = i == 0 || strcmp(c->profiles[i - 1].component, p->component) != 0;
        if (first)
            OUT("      %s:\n", p->component);
        OUT("        %s:\n", p->input);
        const int64_t *dims[] = {p->min, p->opt, p->max};
        const char *names[] = {"min", "opt", "max"};
        for (int k = 0; k < 3; k++) {
            OUT("          %s: [", names[k]);
            for (int d = 0; d < p->rank; d++)
                OUT("%s%" PRId64, d ? ", " : "", dims[k][d]);
            OUT("]\n");
        }
    }
    OUT("    int8_calibration:\n      method: %s\n      percentile: %.17g\n",
        av__calib_method_name(c->calib.method), c->calib.percentile);
    OUT("      data: '%s'\n      cache_dir: \"%s\"\n      batches: %d\n", c->calib.data,
        c->calib.cache_dir, c->calib.batches);
    OUT("    keep_precision:\n");
    for (size_t i = 0; i < c->keep_count; i++) {
        OUT("      %s:\n", c->keep[i].component);
        for (size_t k = 0; k < c->keep[i].count; k++)
            OUT("        - %s\n", c->keep[i].layers[k]);
    }
#undef OUT
}

static int same_config(const av__build_config *a, const av__build_config *b)
{
    if (a->fp16 != b->fp16 || a->bf16 != b->bf16 || a->int8 != b->int8 ||
        a->strict_types != b->strict_types || a->workspace_mb != b->workspace_mb ||
        a->profile_count != b->profile_count || a->keep_count != b->keep_count ||
        a->calib.method != b->calib.method || a->calib.percentile != b->calib.percentile ||
        a->calib.batches != b->calib.batches || strcmp(a->calib.data, b->calib.data) ||
        strcmp(a->calib.cache_dir, b->calib.cache_dir))
        return 0;
    for (size_t i = 0; i < a->profile_count; i++) {
        const av__build_profile *p = &a->profiles[i], *q = &b->profiles[i];
        if (strcmp(p->component, q->component) || strcmp(p->input, q->input) ||
            p->rank != q->rank)
            return 0;
        for (int d = 0; d < p->rank; d++)
            if (p->min[d] != q->min[d] || p->opt[d] != q->opt[d] || p->max[d] != q->max[d])
                return 0;
    }
    for (size_t i = 0; i < a->keep_count; i++) {
        if (strcmp(a->keep[i].component, b->keep[i].component) ||
            a->keep[i].count != b->keep[i].count)
            return 0;
        for (size_t k = 0; k < a->keep[i].count; k++)
            if (strcmp(a->keep[i].layers[k], b->keep[i].layers[k]))
                return 0;
    }
    return 1;
}

static void test_project_file(void)
{
    av__build_config cfg;
    av_status st = av__build_config_load(CONFIG_FILE, &cfg, err, sizeof err);
    if (st != AV_STATUS_OK)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(st, AV_STATUS_OK);
    check_project_defaults(&cfg);

    /* struct -> YAML -> struct */
    static char yaml[16384];
    emit(&cfg, yaml, sizeof yaml);
    av__build_config again;
    st = av__build_config_parse(yaml, strlen(yaml), "emitted.yaml", &again, err, sizeof err);
    if (st != AV_STATUS_OK)
        fprintf(stderr, "%s\n%s", err, yaml);
    CHECK_INT(st, AV_STATUS_OK);
    CHECK(same_config(&cfg, &again));
    check_project_defaults(&again);
    av__build_config_free(&again);
    av__build_config_free(&cfg);
    /* free leaves the defaults; twice is harmless */
    CHECK_INT(cfg.profile_count, 0);
    CHECK(cfg.profiles == NULL && cfg.calib.data == NULL);
    av__build_config_free(&cfg);
    av__build_config_free(NULL);
}

static void test_valid_variants(void)
{
    /* A model.yaml-like file: other top-level keys are ignored; every optional key can go. */
    const char *y = "format: autovoice-model\n"
                    "components: {vocoder: vocoder.onnx}\n"
                    "tensorrt:\n"
                    "  voice_conversion:\n"
                    "    precision: {int8: TRUE, fp16: False}\n"
                    "    int8_calibration:\n"
                    "      method: percentile\n"
                    "      percentile: 99.9\n"
                    "    dynamic_shapes:\n"
                    "      vocoder:\n"
                    "        mel_input: {min: [1, 80, 1], opt: [1, 80, 1], max: [1, 80, 1]}\n"
                    "    keep_precision: {vocoder: ['/conv_pre/Conv', upsamplers], flow_decoder: []}\n"
                    "other: [1, 2, 3]\n";
    av__build_config c;
    av_status st = av__build_config_parse(y, strlen(y), "model.yaml", &c, err, sizeof err);
    if (st != AV_STATUS_OK)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(st, AV_STATUS_OK);
    CHECK_INT(c.int8, 1);
    CHECK_INT(c.fp16, 0);
    CHECK_INT(c.bf16, 0);
    CHECK_INT(c.workspace_mb, 0);
    CHECK_INT(c.calib.method, AV__CALIB_METHOD_PERCENTILE);
    CHECK(c.calib.percentile == 99.9);
    CHECK(c.calib.data == NULL && c.calib.cache_dir == NULL);
    CHECK_INT(c.calib.batches, 32);
    check_profile(&c, "vocoder", "mel_input", 3, (int64_t[]){1, 80, 1}, (int64_t[]){1, 80, 1},
                  (int64_t[]){1, 80, 1});
    const av__build_keep *k = av__build_config_keep(&c, "vocoder");
    CHECK(k && k->count == 2);
    if (k && k->count == 2) {
        CHECK_STR(k->layers[0], "/conv_pre/Conv");
        CHECK(!av__build_keep_is_group(k->layers[0]));
        CHECK(av__build_keep_is_group(k->layers[1]));
    }
    k = av__build_config_keep(&c, "flow_decoder");
    CHECK(k && k->count == 0);
    av__build_config_free(&c);

    /* an empty voice_conversion block: all defaults */
    y = "tensorrt:\n  voice_conversion: {}\n";
    CHECK_INT(av__build_config_parse(y, strlen(y), "x", &c, err, sizeof err), AV_STATUS_OK);
    CHECK(c.fp16 == 0 && c.bf16 == 0 && c.int8 == 0 && c.strict_types == 0);
    CHECK(c.workspace_mb == 0 && c.profile_count == 0 && c.keep_count == 0);
    CHECK(c.calib.method == AV__CALIB_METHOD_ENTROPY && c.calib.percentile == 99.99);
    CHECK(c.calib.batches == 32 && c.calib.data == NULL && c.calib.cache_dir == NULL);
    av__build_config_free(&c);

    /* no tensorrt block: NOT_FOUND (the builder falls back to another file) */
    y = "format: autovoice-model\n";
    CHECK_INT(av__build_config_parse(y, strlen(y), "m.yaml", &c, err, sizeof err),
              AV_STATUS_NOT_FOUND);
    CHECK_STR(err, "m.yaml: no 'tensorrt' block");
    CHECK_INT(av__build_config_parse("", 0, "empty.yaml", &c, err, sizeof err),
              AV_STATUS_NOT_FOUND);
    CHECK_INT(av__build_config_load(AV_TEST_TMPDIR "/no/such/file.yaml", &c, err, sizeof err),
              AV_STATUS_IO);
    CHECK(strstr(err, "no/such/file.yaml") != NULL);
    CHECK_INT(av__build_config_parse(NULL, 0, "x", &c, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
}

/* Parsing `yaml` fails with FORMAT and exactly the message `want`. */
static void expect_error(const char *yaml, const char *want, int line)
{
    av__build_config c;
    err[0] = '\0';
    av_status st = av__build_config_parse(yaml, strlen(yaml), "cfg.yaml", &c, err, sizeof err);
    if (st != AV_STATUS_FORMAT || strcmp(err, want) != 0) {
        fprintf(stderr, "test_build_config.c:%d: expected FORMAT \"%s\"\n  got %d \"%s\"\n", line,
                want, (int)st, err);
        check_failures++;
    }
    /* a failed parse leaves the defaults and nothing to free */
    CHECK(c.profiles == NULL && c.keep == NULL && c.calib.data == NULL && c.profile_count == 0);
}

#define EXPECT_ERROR(yaml, want) expect_error(yaml, want, __LINE__)
#define HEAD "tensorrt:\n  voice_conversion:\n"
#define SHAPES HEAD "    dynamic_shapes:\n      content_encoder:\n"

static void test_errors(void)
{
    /* YAML syntax */
    EXPECT_ERROR(HEAD "    precision: {fp16: true\n",
                 "cfg.yaml:4:1: YAML syntax error: did not find expected ',' or '}' while parsing "
                 "a flow mapping");
    /* unknown keys, at every level */
    EXPECT_ERROR("tensorrt:\n  voice_conversoin: {}\n",
                 "cfg.yaml:2:3: tensorrt: unknown key 'voice_conversoin' (expected one of: "
                 "voice_conversion)");
    EXPECT_ERROR(HEAD "    enabled: true\n",
                 "cfg.yaml:3:5: tensorrt.voice_conversion: unknown key 'enabled' (expected one "
                 "of: precision, workspace_mb, dynamic_shapes, int8_calibration, keep_precision)");
    EXPECT_ERROR(HEAD "    precision: {fp16: true, fp32: true}\n",
                 "cfg.yaml:3:29: tensorrt.voice_conversion.precision: unknown key 'fp32' "
                 "(expected one of: fp16, bf16, int8, strict_types)");
    EXPECT_ERROR(HEAD "    dynamic_shapes:\n      decoder: {}\n",
                 "cfg.yaml:4:7: tensorrt.voice_conversion.dynamic_shapes: unknown key 'decoder' "
                 "(expected one of: content_encoder, pitch_encoder, flow_decoder, "
                 "mel_projection, vocoder)");
    EXPECT_ERROR(SHAPES "        audio: {min: [1, 1], opt: [1, 1], max: [1, 1]}\n",
                 "cfg.yaml:5:9: tensorrt.voice_conversion.dynamic_shapes.content_encoder: unknown "
                 "key 'audio' (expected one of: input_audio)");
    EXPECT_ERROR(SHAPES "        input_audio: {min: [1, 1], mid: [1, 1], max: [1, 1]}\n",
                 "cfg.yaml:5:36: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio: unknown key 'mid' (expected one of: min, opt, max)");
    EXPECT_ERROR(HEAD "    int8_calibration: {cache_file: x.cache}\n",
                 "cfg.yaml:3:24: tensorrt.voice_conversion.int8_calibration: unknown key "
                 "'cache_file' (expected one of: method, percentile, data, cache_dir, batches)");
    EXPECT_ERROR(HEAD "    keep_precision: {hifigan: [first_conv]}\n",
                 "cfg.yaml:3:22: tensorrt.voice_conversion.keep_precision: unknown key 'hifigan' "
                 "(expected one of: content_encoder, pitch_encoder, flow_decoder, "
                 "mel_projection, vocoder)");
    /* repeated keys */
    EXPECT_ERROR(HEAD "    workspace_mb: 1\n    workspace_mb: 2\n",
                 "cfg.yaml:4:5: tensorrt.voice_conversion: key 'workspace_mb' given twice (first "
                 "on line 3)");
    EXPECT_ERROR(HEAD "  voice_conversion: {}\n",
                 "cfg.yaml:3:3: tensorrt: key 'voice_conversion' given twice (first on line 2)");
    /* wrong types */
    EXPECT_ERROR(HEAD "    precision: fp16\n",
                 "cfg.yaml:3:16: tensorrt.voice_conversion.precision: expected a mapping, got a "
                 "plain scalar");
    EXPECT_ERROR(HEAD "    precision: {fp16: yes}\n",
                 "cfg.yaml:3:23: tensorrt.voice_conversion.precision.fp16: expected true or "
                 "false, got 'yes'");
    EXPECT_ERROR(HEAD "    precision: {bf16: \"true\"}\n",
                 "cfg.yaml:3:23: tensorrt.voice_conversion.precision.bf16: expected true or "
                 "false, got 'true'");
    EXPECT_ERROR(HEAD "    precision: {int8: }\n",
                 "cfg.yaml:3:23: tensorrt.voice_conversion.precision.int8: expected true or "
                 "false, got nothing (null)");
    EXPECT_ERROR(HEAD "    workspace_mb: \"2048\"\n",
                 "cfg.yaml:3:19: tensorrt.voice_conversion.workspace_mb: expected an integer, got "
                 "a quoted string");
    EXPECT_ERROR(HEAD "    workspace_mb: 1.5\n",
                 "cfg.yaml:3:19: tensorrt.voice_conversion.workspace_mb: expected an integer, got "
                 "'1.5'");
    EXPECT_ERROR(HEAD "    workspace_mb: [2048]\n",
                 "cfg.yaml:3:19: tensorrt.voice_conversion.workspace_mb: expected an integer, got "
                 "a list");
    EXPECT_ERROR(SHAPES "        input_audio: {min: 8000, opt: [1, 1], max: [1, 1]}\n",
                 "cfg.yaml:5:28: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio.min: expected a list of dimensions like [1, 8000], got a plain "
                 "scalar");
    EXPECT_ERROR(SHAPES "        input_audio: {min: [1, x], opt: [1, 1], max: [1, 1]}\n",
                 "cfg.yaml:5:32: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio.min[1]: expected an integer, got 'x'");
    EXPECT_ERROR(SHAPES "        input_audio: [1, 8000]\n",
                 "cfg.yaml:5:22: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio: expected a mapping, got a list");
    EXPECT_ERROR(HEAD "    int8_calibration: {data: [a.npz]}\n",
                 "cfg.yaml:3:30: tensorrt.voice_conversion.int8_calibration.data: expected a "
                 "non-empty string, got a list");
    EXPECT_ERROR(HEAD "    int8_calibration: {cache_dir: ''}\n",
                 "cfg.yaml:3:35: tensorrt.voice_conversion.int8_calibration.cache_dir: expected a "
                 "non-empty string without NUL characters");
    EXPECT_ERROR(HEAD "    keep_precision: {vocoder: first_conv}\n",
                 "cfg.yaml:3:31: tensorrt.voice_conversion.keep_precision.vocoder: expected a "
                 "list of layer names or first_conv, upsamplers, last_conv; got a plain scalar");
    EXPECT_ERROR(HEAD "    keep_precision: {vocoder: [first_conv, {a: b}]}\n",
                 "cfg.yaml:3:44: tensorrt.voice_conversion.keep_precision.vocoder[1]: expected a "
                 "non-empty string, got a mapping");
    EXPECT_ERROR("- tensorrt\n", "cfg.yaml:1:1: (top level): expected a mapping, got a list");
    EXPECT_ERROR("tensorrt: 1\n", "cfg.yaml:1:11: tensorrt: expected a mapping, got a plain "
                                  "scalar");
    EXPECT_ERROR("tensorrt: {}\n", "cfg.yaml:1:11: tensorrt: missing 'voice_conversion'");
    /* out of range */
    EXPECT_ERROR(HEAD "    workspace_mb: 0\n",
                 "cfg.yaml:3:19: tensorrt.voice_conversion.workspace_mb: 0 is out of range [1, "
                 "1048576]");
    EXPECT_ERROR(HEAD "    workspace_mb: 99999999999999999999\n",
                 "cfg.yaml:3:19: tensorrt.voice_conversion.workspace_mb: 99999999999999999999 is "
                 "out of range [1, 1048576]");
    EXPECT_ERROR(HEAD "    int8_calibration:\n      batches: -3\n",
                 "cfg.yaml:4:16: tensorrt.voice_conversion.int8_calibration.batches: -3 is out of "
                 "range [1, 1000000]");
    EXPECT_ERROR(HEAD "    int8_calibration: {percentile: 100.5}\n",
                 "cfg.yaml:3:36: tensorrt.voice_conversion.int8_calibration.percentile: 100.5 is "
                 "out of range (0, 100]");
    EXPECT_ERROR(HEAD "    int8_calibration: {percentile: high}\n",
                 "cfg.yaml:3:36: tensorrt.voice_conversion.int8_calibration.percentile: expected "
                 "a number, got 'high'");
    /* bad method name */
    EXPECT_ERROR(HEAD "    int8_calibration: {method: kl}\n",
                 "cfg.yaml:3:32: tensorrt.voice_conversion.int8_calibration.method: unknown "
                 "calibration method 'kl' (expected entropy, minmax or percentile)");
    EXPECT_ERROR(HEAD "    int8_calibration: {method: [entropy]}\n",
                 "cfg.yaml:3:32: tensorrt.voice_conversion.int8_calibration.method: expected "
                 "entropy, minmax or percentile, got a list");
    /* profiles: min > max, opt > max, rank mismatch, non-positive, rank limits, missing parts */
    EXPECT_ERROR(SHAPES "        input_audio:\n"
                        "          min: [1, 480000]\n"
                        "          opt: [1, 160000]\n"
                        "          max: [1, 8000]\n",
                 "cfg.yaml:7:20: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio.opt[1]: min <= opt <= max does not hold in dimension 1: min 480000, "
                 "opt 160000, max 8000");
    EXPECT_ERROR(SHAPES "        input_audio: {min: [1, 8000], opt: [1, 160000], max: [1, 16000]}\n",
                 "cfg.yaml:5:66: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio.max[1]: min <= opt <= max does not hold in dimension 1: min 8000, "
                 "opt 160000, max 16000");
    EXPECT_ERROR(SHAPES "        input_audio: {min: [1, 8000], opt: [1, 1, 160000], max: [1, 16000]}\n",
                 "cfg.yaml:5:44: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio.opt: rank mismatch: min has 2 dimensions, opt has 3");
    EXPECT_ERROR(SHAPES "        input_audio: {min: [1, -8000], opt: [1, 1], max: [1, 1]}\n",
                 "cfg.yaml:5:32: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio.min[1]: dimension -8000 is not positive (dimensions are >= 1)");
    EXPECT_ERROR(SHAPES "        input_audio: {min: [0, 1], opt: [1, 1], max: [1, 1]}\n",
                 "cfg.yaml:5:29: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio.min[0]: dimension 0 is not positive (dimensions are >= 1)");
    EXPECT_ERROR(SHAPES "        input_audio: {min: [1, 1], opt: [1, 1], max: [1, 4294967296]}\n",
                 "cfg.yaml:5:58: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio.max[1]: dimension 4294967296 is out of range [1, 2147483647]");
    EXPECT_ERROR(SHAPES "        input_audio: {min: [], opt: [1, 1], max: [1, 1]}\n",
                 "cfg.yaml:5:28: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio.min: a shape has 1 to 8 dimensions, this one 0");
    EXPECT_ERROR(SHAPES "        input_audio: {min: [1,1,1,1,1,1,1,1,1], opt: [1], max: [1]}\n",
                 "cfg.yaml:5:28: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio.min: a shape has 1 to 8 dimensions, this one 9");
    EXPECT_ERROR(SHAPES "        input_audio: {min: [1, 1], max: [1, 1]}\n",
                 "cfg.yaml:5:22: tensorrt.voice_conversion.dynamic_shapes.content_encoder."
                 "input_audio: missing 'opt' (a profile needs min, opt and max)");
}

static av_status parse_config_file(const char *path, const char *name, uint8_t *data,
                                   size_t size, char *e, size_t e_size)
{
    (void)path;
    av__build_config c;
    av_status st = av__build_config_parse((const char *)data, size, name, &c, e, e_size);
    av__build_config_free(&c);
    return st;
}

int main(void)
{
    /* bad_ files fail with FORMAT, or NOT_FOUND without a tensorrt block */
    corpus_counts n = replay_corpus(CORPUS_DIR, parse_config_file, (corpus_rules){AV_STATUS_OK, 1});
    CHECK(n.ok >= 5 && n.bad >= 30);
    test_project_file();
    test_valid_variants();
    test_errors();
    CHECK(!av__build_keep_is_group("conv_post"));
    CHECK(!av__build_keep_is_group(NULL));
    return check_report("test_build_config");
}
