/* svc/package: model.yaml parsed from memory (the example of docs/MODEL_PACKAGE.md, its mel
 * blocks, every kind of error with the file and key in the message), av__package_load's file
 * handling up to the components, and a replay of the fuzz corpus tests/fuzz/corpus/package
 * (ok_* must parse, bad_* must fail with a message, others must not crash). */
#define _POSIX_C_SOURCE 200809L /* opendir, mkdir */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "corpus.h"
#include "svc/package.h"
#include "util/npy.h"

#define CORPUS_DIR AV_FIXTURES_DIR "/../fuzz/corpus/package"
#define NAME "pkg/model.yaml"

/* docs/MODEL_PACKAGE.md, "Complete example" */
static const char example[] =
    "# autovoice model package (schema: docs/MODEL_PACKAGE.md)\n"
    "format: autovoice-model\n"
    "format_version: 1\n"
    "name: fixture-small\n"
    "preset: small\n"
    "source: random-init seed 20261124\n"
    "components:\n"
    "  content_encoder: content_encoder.onnx\n"
    "  pitch_encoder: pitch_encoder.onnx\n"
    "  flow_decoder: flow_decoder.onnx\n"
    "  mel_projection: mel_projection.onnx\n"
    "  vocoder: vocoder.onnx\n"
    "content_encoder:\n"
    "  sample_rate: 16000\n"
    "  peak_normalise: true\n"
    "  frame_rate: 50\n"
    "  mel:\n"
    "    n_fft: 1024\n"
    "    win_length: 1024\n"
    "    hop_length: 320\n"
    "    window: hann_periodic\n"
    "    center: true\n"
    "    n_mels: 80\n"
    "    f_min: 0\n"
    "    f_max: 8000\n"
    "    mel_scale: htk\n"
    "    mel_norm: none\n"
    "    power: 2\n"
    "    log: add      # ln(mel + log_floor)\n"
    "    log_floor: 1.0e-08\n"
    "decoder:\n"
    "  sample_rate: 22050\n"
    "  hop_length: 256\n"
    "  frame_rate: 86.1328\n"
    "  mel:\n"
    "    n_fft: 1024\n"
    "    win_length: 1024\n"
    "    hop_length: 256\n"
    "    window: hann_periodic\n"
    "    center: false\n"
    "    n_mels: 80\n"
    "    f_min: 0\n"
    "    f_max: 8000\n"
    "    mel_scale: slaney\n"
    "    mel_norm: slaney\n"
    "    power: 1\n"
    "    log: clamp    # ln(max(mel, log_floor))\n"
    "    log_floor: 1.0e-05\n"
    "pitch:\n"
    "  f0_min: 80\n"
    "  f0_max: 1000\n"
    "  bins: 256\n"
    "  unvoiced_bin: 256\n"
    "  frame_rate: 100\n"
    "dimensions:\n"
    "  content: 256\n"
    "  pitch: 192\n"
    "  speaker: 256\n"
    "  conditioning: 704\n"
    "  latent: 192\n"
    "  mel: 80\n"
    "inference:\n"
    "  temperature: 1\n"
    "output:\n"
    "  sample_rate: 44100\n"
    "speakers:\n"
    "  embeddings: speakers.npy\n"
    "  names:\n"
    "    - alto\n"
    "    - tenor\n"
    "    - soprano\n"
    "    - bass\n";

static char text[8192];

/* example with the first occurrence of `from` replaced by `to` (from must occur after `after`,
 * which may be NULL) */
static const char *edit(const char *after, const char *from, const char *to)
{
    const char *base = after ? strstr(example, after) : example;
    const char *at = base ? strstr(base, from) : NULL;
    if (!at) {
        fprintf(stderr, "test bug: '%s' not in the example\n", from);
        check_failures++;
        return example;
    }
    size_t head = (size_t)(at - example);
    snprintf(text, sizeof text, "%.*s%s%s", (int)head, example, to, at + strlen(from));
    return text;
}

static void expect_ok(const char *yaml, av__package *pkg)
{
    char err[512] = "";
    av_status st = av__package_parse_yaml(yaml, strlen(yaml), NAME, pkg, err, sizeof err);
    CHECK_INT(st, AV_STATUS_OK);
    if (st != AV_STATUS_OK)
        fprintf(stderr, "  message: %s\n", err);
}

/* Must fail with `want`, a message starting with the file name and containing `text_`, and an
 * empty package. */
static void expect_error(const char *yaml, av_status want, const char *text_)
{
    char err[512] = "";
    av__package pkg;
    memset(&pkg, 0xab, sizeof pkg);
    av_status st = av__package_parse_yaml(yaml, strlen(yaml), NAME, &pkg, err, sizeof err);
    CHECK_INT(st, want);
    if (strncmp(err, NAME ": ", strlen(NAME) + 2) != 0 || !strstr(err, text_)) {
        fprintf(stderr, "  message \"%s\" lacks \"" NAME ": ...%s\"\n", err, text_);
        check_failures++;
    }
    CHECK(pkg.speaker_names == NULL && pkg.n_speakers == 0 && pkg.name[0] == '\0');
    if (st == AV_STATUS_OK)
        av__package_free(&pkg);
}

static void test_example(void)
{
    av__package pkg;
    expect_ok(example, &pkg);
    CHECK_STR(pkg.name, "fixture-small");
    CHECK_STR(pkg.preset, "small");
    CHECK_INT(pkg.content_rate, 16000);
    CHECK_INT(pkg.content_hop, 320);
    CHECK_INT(pkg.decoder_rate, 22050);
    CHECK_INT(pkg.hop_length, 256);
    CHECK_INT(pkg.dim_mel, 80);
    CHECK_INT(pkg.n_speakers, 4);
    if (pkg.n_speakers == 4)
        CHECK_STR(pkg.speaker_names[3], "bass");
    CHECK_STR(pkg.speakers_file, "speakers.npy");
    CHECK_STR(pkg.component_files[AV__COMP_CONTENT], "content_encoder.onnx");
    CHECK_STR(pkg.component_files[AV__COMP_VOCODER], "vocoder.onnx");
    CHECK(pkg.speakers == NULL && pkg.models[AV__COMP_CONTENT] == NULL);

    const av__mel_spec *c = &pkg.content_mel, *d = &pkg.decoder_mel;
    CHECK_INT(c->sample_rate, 16000);
    CHECK_INT(c->n_fft, 1024);
    CHECK_INT(c->win_length, 1024);
    CHECK_INT(c->hop_length, 320);
    CHECK_INT(c->center, 1);
    CHECK_INT(c->n_mels, 80);
    CHECK(c->f_min == 0.0 && c->f_max == 8000.0);
    CHECK_INT(c->scale, AV__MEL_SCALE_HTK);
    CHECK_INT(c->norm, AV__MEL_NORM_NONE);
    CHECK_INT(c->power, 2);
    CHECK_INT(c->log, AV__MEL_LOG_ADD);
    CHECK(c->log_floor == 1e-8);
    CHECK_INT(d->sample_rate, 22050);
    CHECK_INT(d->hop_length, 256);
    CHECK_INT(d->center, 0);
    CHECK_INT(d->scale, AV__MEL_SCALE_SLANEY);
    CHECK_INT(d->norm, AV__MEL_NORM_SLANEY);
    CHECK_INT(d->power, 1);
    CHECK_INT(d->log, AV__MEL_LOG_CLAMP);
    CHECK(d->log_floor == 1e-5);
    CHECK_INT(av__mel_spec_check(c, NULL, 0), AV_STATUS_OK);
    CHECK_INT(av__mel_spec_check(d, NULL, 0), AV_STATUS_OK);
    CHECK_INT(av__package_find_speaker(&pkg, "soprano"), 2);
    CHECK_INT(av__package_find_speaker(&pkg, "baritone"), -1);
    av__package_free(&pkg);

    /* no vocoder; True as a boolean; unknown keys are ignored; a NULL name */
    const char *v = edit(NULL, "  vocoder: vocoder.onnx\n", "");
    char buf[8192];
    snprintf(buf, sizeof buf, "%s", v);
    char err[256] = "";
    CHECK_INT(av__package_parse_yaml(buf, strlen(buf), NULL, &pkg, err, sizeof err), AV_STATUS_OK);
    CHECK_STR(pkg.component_files[AV__COMP_VOCODER], "");
    av__package_free(&pkg);
    expect_ok(edit("content_encoder:", "center: true", "center: True"), &pkg);
    CHECK_INT(pkg.content_mel.center, 1);
    av__package_free(&pkg);
    expect_ok(edit(NULL, "inference:", "future_key: {a: 1}\ninference:"), &pkg);
    av__package_free(&pkg);
}

static void test_errors(void)
{
    /* missing keys */
    expect_error(edit("\ndecoder:", "    log_floor: 1.0e-05\n", ""), AV_STATUS_FORMAT,
                 "missing key 'decoder.mel.log_floor'");
    expect_error(edit(NULL, "  mel:\n    n_fft: 1024\n    win_length: 1024\n    hop_length: 320\n"
                            "    window: hann_periodic\n    center: true\n    n_mels: 80\n"
                            "    f_min: 0\n    f_max: 8000\n    mel_scale: htk\n"
                            "    mel_norm: none\n    power: 2\n    log: add      # ln(mel + "
                            "log_floor)\n    log_floor: 1.0e-08\n",
                      ""),
                 AV_STATUS_FORMAT, "missing key 'content_encoder.mel.n_fft'");
    expect_error(edit(NULL, "format: autovoice-model\n", ""), AV_STATUS_FORMAT,
                 "missing key 'format'");
    expect_error(edit(NULL, "  pitch_encoder: pitch_encoder.onnx\n", ""), AV_STATUS_FORMAT,
                 "missing key 'components.pitch_encoder'");
    expect_error(edit(NULL, "  names:\n    - alto\n    - tenor\n    - soprano\n    - bass\n", ""),
                 AV_STATUS_FORMAT, "missing key 'speakers.names'");

    /* wrong types */
    expect_error(edit("\ndecoder:", "n_fft: 1024", "n_fft: [1024]"), AV_STATUS_FORMAT,
                 "'decoder.mel.n_fft' must be a single value, not a list");
    expect_error(edit("\ndecoder:", "mel:\n", "mel: 80\n  mel_old:\n"), AV_STATUS_FORMAT,
                 "'decoder.mel' must be a mapping, not a single value");
    expect_error(edit(NULL, "pitch:\n", "pitch: [1]\nold_pitch:\n"), AV_STATUS_FORMAT,
                 "'pitch' must be a mapping, not a list");
    expect_error(edit(NULL, "dimensions:\n  content: 256", "dimensions:\n  content: {a: 1}"),
                 AV_STATUS_FORMAT, "'dimensions.content' must be a single value, not a mapping");
    expect_error(edit("\ndecoder:", "center: false", "center: maybe"), AV_STATUS_FORMAT,
                 "'decoder.mel.center' is 'maybe', expected true or false");
    expect_error(edit("\ndecoder:", "n_mels: 80", "n_mels: 80.5"), AV_STATUS_FORMAT,
                 "'decoder.mel.n_mels' is 80.5, expected an integer");
    expect_error(edit("content_encoder:", "hop_length: 320", "hop_length: three"), AV_STATUS_FORMAT,
                 "'content_encoder.mel.hop_length' is 'three', expected a number in [1, 65536]");
    expect_error(edit(NULL, "  names:\n", "  names: alto\n  old:\n"), AV_STATUS_FORMAT,
                 "speakers.names must be a list");
    expect_error(edit(NULL, "    - tenor\n", "    - [tenor]\n"), AV_STATUS_FORMAT,
                 "speaker name 1 must be a string");
    expect_error(edit(NULL, "name: fixture-small", "name: \"a\\0b\""), AV_STATUS_FORMAT,
                 "'name' contains a NUL character");

    /* unknown enum values */
    expect_error(edit("\ndecoder:", "mel_scale: slaney", "mel_scale: mel"), AV_STATUS_FORMAT,
                 "'decoder.mel.mel_scale' is 'mel', expected one of htk, slaney");
    expect_error(edit("\ndecoder:", "mel_norm: slaney", "mel_norm: l2"), AV_STATUS_FORMAT,
                 "'decoder.mel.mel_norm' is 'l2', expected one of none, slaney");
    expect_error(edit("content_encoder:", "log: add", "log: log10"), AV_STATUS_FORMAT,
                 "'content_encoder.mel.log' is 'log10', expected one of add, clamp");
    expect_error(edit("content_encoder:", "window: hann_periodic", "window: hamming"),
                 AV_STATUS_FORMAT, "'content_encoder.mel.window' is 'hamming', expected hann_periodic");
    expect_error(edit(NULL, "format: autovoice-model", "format: other"), AV_STATUS_FORMAT,
                 "format is 'other'");

    /* out of range, alone and in combination */
    expect_error(edit("\ndecoder:", "n_fft: 1024", "n_fft: 8"), AV_STATUS_FORMAT,
                 "'decoder.mel.n_fft' is '8', expected a number in [16, 65536]");
    expect_error(edit("\ndecoder:", "n_fft: 1024", "n_fft: 1023"), AV_STATUS_FORMAT,
                 "decoder.mel: n_fft 1023 is not an even number");
    expect_error(edit("\ndecoder:", "win_length: 1024", "win_length: 2048"), AV_STATUS_FORMAT,
                 "decoder.mel: win_length 2048 is outside [1, n_fft 1024]");
    expect_error(edit("content_encoder:", "f_max: 8000", "f_max: 9000"), AV_STATUS_FORMAT,
                 "'content_encoder.mel.f_max' is '9000', expected a number in [0, 8000]");
    expect_error(edit("\ndecoder:", "f_min: 0", "f_min: 8000"), AV_STATUS_FORMAT,
                 "decoder.mel: need 0 <= f_min < f_max");
    expect_error(edit("\ndecoder:", "power: 1", "power: 3"), AV_STATUS_FORMAT,
                 "'decoder.mel.power' is '3', expected a number in [1, 2]");
    expect_error(edit("\ndecoder:", "log_floor: 1.0e-05", "log_floor: 0"), AV_STATUS_FORMAT,
                 "decoder.mel: log_floor 0 is outside (0, 1]");
    expect_error(edit("\ndecoder:", "log_floor: 1.0e-05", "log_floor: nan"), AV_STATUS_FORMAT,
                 "'decoder.mel.log_floor' is 'nan'");
    expect_error(edit("\ndecoder:", "    hop_length: 256", "    hop_length: 200"), AV_STATUS_FORMAT,
                 "decoder.mel.hop_length 200 differs from decoder.hop_length 256");
    expect_error(edit("\ndecoder:", "n_mels: 80", "n_mels: 64"), AV_STATUS_FORMAT,
                 "decoder.mel.n_mels 64 differs from dimensions.mel 80");
    expect_error(edit(NULL, "  sample_rate: 16000", "  sample_rate: 4000"), AV_STATUS_FORMAT,
                 "'content_encoder.sample_rate' is '4000', expected a number in [8000, 192000]");
    expect_error(edit(NULL, "conditioning: 704", "conditioning: 700"), AV_STATUS_FORMAT,
                 "dimensions.conditioning 700 is not content + pitch + speaker (704)");
    expect_error(edit(NULL, "f0_min: 80", "f0_min: 2000"), AV_STATUS_FORMAT,
                 "pitch.f0_min must be below f0_max");
    expect_error(edit(NULL, "format_version: 1", "format_version: 2"), AV_STATUS_UNSUPPORTED,
                 "format_version 2; this autovoice reads version 1");

    /* paths that leave the package */
    expect_error(edit(NULL, "vocoder: vocoder.onnx", "vocoder: ../vocoder.onnx"), AV_STATUS_FORMAT,
                 "components.vocoder '../vocoder.onnx' must be a path inside the package");
    expect_error(edit(NULL, "embeddings: speakers.npy", "embeddings: /etc/passwd"),
                 AV_STATUS_FORMAT, "speakers.embeddings '/etc/passwd' must be a path inside");

    /* not a model.yaml at all */
    expect_error("", AV_STATUS_FORMAT, "empty document");
    expect_error("- a\n- b\n", AV_STATUS_FORMAT, "the document must be a mapping");
    expect_error("format: [unclosed\n", AV_STATUS_FORMAT, "line ");
    expect_error("a: *nothing\n", AV_STATUS_FORMAT, "line 1");
    char err[256] = "";
    av__package pkg;
    CHECK_INT(av__package_parse_yaml(NULL, 0, NAME, &pkg, err, sizeof err), AV_STATUS_FORMAT);
    CHECK_INT(av__package_parse_yaml(NULL, 5, NAME, &pkg, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    CHECK_INT(av__package_parse_yaml(example, sizeof example - 1, NAME, NULL, err, sizeof err),
              AV_STATUS_INVALID_ARGUMENT);
    /* the length is honoured: a cut text is a different document */
    CHECK_INT(av__package_parse_yaml(example, 200, NAME, &pkg, err, sizeof err), AV_STATUS_FORMAT);
}

static void write_file(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_INT(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

/* av__package_load: the file layer around the parser, up to the first component. */
static void test_load(void)
{
    const char *dir = AV_TEST_TMPDIR "/test_package";
    char path[512], err[512] = "";
    av__package pkg;
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/model.yaml", dir);
    remove(path);
    CHECK_INT(av__package_load(dir, &pkg, err, sizeof err), AV_STATUS_IO);
    CHECK(strstr(err, "test_package/model.yaml") != NULL);

    write_file(path, example, sizeof example - 1);
    snprintf(path, sizeof path, "%s/speakers.npy", dir);
    remove(path);
    CHECK_INT(av__package_load(dir, &pkg, err, sizeof err), AV_STATUS_IO);
    CHECK(strstr(err, "test_package/speakers.npy") != NULL);

    float rows[3 * 256] = {0};
    av__npy_array a = {.dtype = AV__NPY_F32, .ndim = 2, .shape = {3, 256}, .count = 3 * 256,
                       .item_size = 4, .data = rows};
    CHECK_INT(av__npy_save(path, &a, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(av__package_load(dir, &pkg, err, sizeof err), AV_STATUS_FORMAT);
    CHECK(strstr(err, "expected float32 [4, 256]") != NULL);

    float rows4[4 * 256] = {0};
    a.shape[0] = 4, a.count = 4 * 256, a.data = rows4;
    CHECK_INT(av__npy_save(path, &a, err, sizeof err), AV_STATUS_OK);
    snprintf(path, sizeof path, "%s/content_encoder.onnx", dir);
    write_file(path, "not onnx", 8);
    CHECK(av__package_load(dir, &pkg, err, sizeof err) != AV_STATUS_OK);
    CHECK(strstr(err, "content_encoder.onnx") != NULL);
    CHECK(pkg.speakers == NULL && pkg.speaker_names == NULL);

    /* a model.yaml over the size limit */
    snprintf(path, sizeof path, "%s/model.yaml", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        for (int i = 0; i <= AV__PACKAGE_YAML_MAX_BYTES / 64; i++)
            fputs("# padding padding padding padding padding padding padding padding\n", f);
        fclose(f);
    }
    CHECK_INT(av__package_load(dir, &pkg, err, sizeof err), AV_STATUS_FORMAT);
    CHECK(strstr(err, "larger than") != NULL);
}

static av_status parse_package(const char *path, const char *name, uint8_t *data, size_t size,
                               char *err, size_t err_size)
{
    (void)path;
    av__package pkg;
    av_status st = av__package_parse_yaml((const char *)data, size, name, &pkg, err, err_size);
    if (st == AV_STATUS_OK)
        av__package_free(&pkg);
    return st;
}

static void test_corpus(void)
{
    corpus_counts n = replay_corpus(CORPUS_DIR, parse_package, (corpus_rules){AV_STATUS_OK, 1});
    CHECK(n.files >= 10);
}

int main(void)
{
    test_example();
    test_errors();
    test_load();
    test_corpus();
    return check_report("test_package");
}
