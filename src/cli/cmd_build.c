/* `autovoice build`: ONNX models into plans (our trtexec --saveEngine). Public headers only. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "autovoice/engine.h"
#include "autovoice/svc.h"
#include "cli.h"

#define DEFAULT_CONFIG "config/model_config.yaml"
#define MAX_SHAPES 64

static const char build_help[] =
    "usage: autovoice build MODEL.onnx [-o MODEL.plan] [--component NAME] [--precision P]\n"
    "                       [--shape NAME:MIN/OPT/MAX ...] [--config FILE] [--threads N]\n"
    "                       [--calib FILE.npz|AUDIO_DIR] [--calib-method M] [--calib-cache FILE]\n"
    "                       [--int8-min-snr DB] [--min-output-snr DB|off]\n"
    "                       [--tactics [--timing-cache FILE] | --onednn]\n"
    "                       [--workspace BYTES]\n"
    "       autovoice build --package DIR [--precision P] [--config FILE] [--threads N] ...\n"
    "\n"
    "Builds a plan: the model after the engine's load passes (constant folding, dead-node and\n"
    "common-subexpression elimination), stamped with this library version and this CPU's\n"
    "features, with optimisation profiles, its weights aligned so that loading maps them in\n"
    "place. 'autovoice run', 'inspect' and 'convert' take plans wherever they take ONNX; a plan\n"
    "made by another autovoice version or for a CPU this one is not is refused: build it again.\n"
    "\n"
    "  -o FILE              the plan (default: MODEL with .onnx replaced by .plan); written to\n"
    "                       FILE.tmp and renamed into place\n"
    "  --component NAME     which component's profiles to take from the configuration\n"
    "                       (default: the file's name when it is one of content_encoder,\n"
    "                       pitch_encoder, flow_decoder, mel_projection, vocoder)\n"
    "  --precision P        fp32 (default), bf16 or int8 (best = int8); bf16 and int8 plans run\n"
    "                       their convolutions through oneDNN (channels-last, fused activations\n"
    "                       and residual adds) and need AVX512-BF16 / AVX512-VNNI; the\n"
    "                       configuration's keep_precision layers stay fp32 (bf16 plans) or\n"
    "                       bf16 (int8 plans); the build prints each layer's precision and the\n"
    "                       plan's accuracy against fp32 (fp16 is not implemented on the CPU)\n";

/* the rest of the help (one string literal would exceed what ISO C compilers must accept) */
static const char build_help_more[] =
    "  --calib FILE.npz     inputs for int8 calibration and the accuracy report: keys\n"
    "                       COMPONENT/INPUT (vocoder/mel_input, ...) or INPUT, one batch or a\n"
    "                       stack of them (default: the configuration's int8_calibration.data,\n"
    "                       else synthetic inputs at each profile's opt shape)\n"
    "  --calib AUDIO_DIR    or a directory of audio files (.wav .flac .ogg .mp3 .aiff, by name,\n"
    "                       up to the configuration's int8_calibration.batches): each is\n"
    "                       converted by the float32 pipeline of the package the model is in\n"
    "                       (MODEL's directory, or DIR with --package) and the inputs it gives\n"
    "                       the component are the batches (one per run; needs the component)\n"
    "  --calib-method M     entropy (default; TensorRT's EntropyCalibration2), minmax or\n"
    "                       percentile (the configuration's percentile, default 99.99)\n"
    "  --calib-cache FILE   calibration cache in TensorRT's text format: used when it matches\n"
    "                       this model, data and method (an unmatched one is an error), written\n"
    "                       when absent (default: the configuration's cache_dir, when it exists)\n"
    "  --int8-min-snr DB    a layer whose int8 output SNR on the first calibration batch is below\n"
    "                       DB stays bf16 (default 30)\n"
    "  --min-output-snr DB  bf16 / int8: the plan's worst output on the first calibration batch\n"
    "                       must reach DB against fp32 (default 35 for bf16, 30 for int8); if\n"
    "                       it does not, the fewest leading convolutions that make it go back\n"
    "                       to fp32, and the build names them; off: no such check\n"
    "  --tactics            fp32: time each convolution with im2col + SGEMM and with oneDNN at\n"
    "                       the opt shapes and keep the faster per layer (default: SGEMM, whose\n"
    "                       outputs are bit-identical to the ONNX file's)\n"
    "  --timing-cache FILE  with --tactics: reuse the layer timings FILE holds for this CPU,\n"
    "                       oneDNN and autovoice version (a file made elsewhere is replaced, a\n"
    "                       corrupt one is an error) and write it back with this build's\n"
    "  --onednn             fp32: run the convolutions through oneDNN without timing\n"
    "  --workspace BYTES    with --tactics or --onednn: a tactic needing more scratch memory for\n"
    "                       one layer is not chosen (suffix k, M or G for KiB, MiB, GiB; default:\n"
    "                       the configuration's workspace_mb, else no bound)\n"
    "  --shape NAME:MIN/OPT/MAX\n"
    "                       a profile for input NAME, each shape as DxDx...; sessions on the plan\n"
    "                       refuse shapes outside [MIN, MAX]; replaces the configuration's profile\n"
    "  --config FILE        build configuration with a `tensorrt` block (default " DEFAULT_CONFIG "\n"
    "                       when it exists and the component is known); its dynamic_shapes for\n"
    "                       the component become the plan's profiles\n"
    "  --package DIR        build every component of the model package in DIR into\n"
    "                       DIR/<component>.plan, with the profiles of the package's model.yaml\n"
    "                       `tensorrt` block, else of " DEFAULT_CONFIG ", --config overriding\n"
    "                       both; 'convert' uses those plans while they match their ONNX files\n"
    "  --threads N          threads for calibration, timing and the report (default: all CPUs)\n"
    "\n"
    "examples:\n"
    "  autovoice build models/default/vocoder.onnx -o vocoder.plan\n"
    "  autovoice build model.onnx -o model.plan --shape mel_input:1x80x43/1x80x862/1x80x2584\n"
    "  autovoice build --package models/default\n"
    "  autovoice build --package models/default --config my_config.yaml\n"
    "  autovoice build vocoder.onnx -o vocoder-int8.plan --precision int8 --calib calib.npz\n"
    "  autovoice build --package models/default --precision int8 --calib my_songs/\n"
    "  autovoice build vocoder.onnx --tactics --timing-cache build/vocoder.timing\n"
    "\n"
    "exit status: 0 done; 1 a model, configuration or plan file failed; 2 a usage error.\n";

/* "1x80x43" into dims; the rank, or -1. */
static int parse_dims(const char *s, int64_t *dims)
{
    int n = 0;
    while (*s) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (n == AV_MAX_DIMS || end == s || errno || v < 1)
            return -1;
        dims[n++] = v;
        if (*end == 'x')
            end++;
        else if (*end)
            return -1;
        s = end;
    }
    return n;
}

/* "64M" into bytes (suffixes k, M, G: powers of 1024); 0 when malformed or out of range. */
static int parse_bytes(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    int64_t unit = 1;
    if (end == s || errno || v < 1)
        return 0;
    if (*end == 'k' || *end == 'K')
        unit = 1 << 10;
    else if (*end == 'M')
        unit = 1 << 20;
    else if (*end == 'G')
        unit = 1 << 30;
    if (unit > 1)
        end++;
    if (*end || v > INT64_MAX / unit)
        return 0;
    *out = (int64_t)v * unit;
    return 1;
}

/* NAME:MIN/OPT/MAX into p (the name stays in spec, which is cut at the last ':'). */
static int parse_profile(char *spec, av_plan_profile *p)
{
    char *colon = strrchr(spec, ':');
    if (!colon || colon == spec)
        return 0;
    *colon = '\0';
    char *parts[3], *rest = colon + 1;
    for (int i = 0; i < 3; i++) {
        parts[i] = rest;
        char *slash = strchr(rest, '/');
        if ((i < 2) != (slash != NULL))
            return 0;
        if (slash) {
            *slash = '\0';
            rest = slash + 1;
        }
    }
    memset(p, 0, sizeof *p);
    p->input = spec;
    int a = parse_dims(parts[0], p->min), b = parse_dims(parts[1], p->opt),
        c = parse_dims(parts[2], p->max);
    if (a < 1 || a != b || a != c)
        return 0;
    p->ndim = a;
    return 1;
}

static int parse_precision(const char *s, av_precision *p)
{
    static const av_precision all[] = {AV_PRECISION_FP32, AV_PRECISION_FP16, AV_PRECISION_BF16,
                                       AV_PRECISION_INT8, AV_PRECISION_BEST};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(s, av_precision_name(all[i]))) {
            *p = all[i];
            return 1;
        }
    return 0;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void print_dims(const int64_t *d, int n)
{
    for (int k = 0; k < n; k++)
        printf("%s%lld", k ? "x" : "", (long long)d[k]);
}

/* The component a file is named after ("dir/vocoder.onnx" -> "vocoder"), or NULL. */
static const char *component_of(const char *path)
{
    static const char *const names[] = {"content_encoder", "pitch_encoder", "flow_decoder",
                                        "mel_projection", "vocoder"};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strcspn(base, ".");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && !strncmp(base, names[i], len))
            return names[i];
    return NULL;
}

/* The builder's report lines, indented under the command's own. */
static void print_report(void *user, const char *line)
{
    (void)user;
    printf("  %s\n", line);
    fflush(stdout);
}

/* Loads `onnx`, writes `plan`, loads the plan back and prints one line about it. */
static int build_one(const char *onnx, const char *plan, const av_plan_options *opt)
{
    char err[1024];
    double t0 = now_s();
    av_model *m = NULL, *check = NULL;
    int rc = AV_CLI_FAILED;
    if (av_model_load(onnx, &m, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        return AV_CLI_FAILED;
    }
    if (av_model_is_plan(m)) {
        fprintf(stderr, "autovoice: %s: is a plan already; build from its ONNX file\n", onnx);
        goto done;
    }
    av_plan_options o = *opt;
    o.source_path = onnx;
    if (av_model_save_plan(m, plan, &o, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        goto done;
    }
    double built = now_s() - t0;
    av_plan_info info;
    av_model_stats stats;
    if (av_model_load(plan, &check, err, sizeof err) != AV_STATUS_OK ||
        av_model_plan_info(check, &info) != AV_STATUS_OK ||
        av_model_get_stats(check, &stats) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: the plan just written does not load back: %s\n", err);
        goto done;
    }
    printf("%s -> %s: %s for %s, %d nodes, %.2f MB of weights, %d profile%s", onnx, plan,
           av_precision_name(info.precision), info.target, stats.nodes,
           (double)info.weight_bytes / 1e6, info.n_profiles, info.n_profiles == 1 ? "" : "s");
    for (int i = 0; i < info.n_profiles; i++) {
        av_plan_profile p;
        av_model_plan_profile(check, i, &p);
        printf("%s%s ", i ? ", " : " (", p.input);
        print_dims(p.min, p.ndim);
        printf("/");
        print_dims(p.opt, p.ndim);
        printf("/");
        print_dims(p.max, p.ndim);
    }
    printf("%s; built in %.2f s\n", info.n_profiles ? ")" : "", built);
    rc = AV_CLI_OK;
done:
    av_model_free(check);
    av_model_free(m);
    return rc;
}

/* The configuration of a package: --config, else model.yaml's tensorrt block, else the project
 * file, else none. NULL in *out for none; 0 on an error (printed). */
static int package_config(const char *dir, const char *given, char *out, size_t size)
{
    char err[1024];
    out[0] = '\0';
    if (given) {
        if (av_build_config_check(given, err, sizeof err) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s\n", err);
            return 0;
        }
        snprintf(out, size, "%s", given);
        return 1;
    }
    snprintf(out, size, "%s/model.yaml", dir);
    av_status st = av_build_config_check(out, err, sizeof err);
    if (st == AV_STATUS_OK)
        return 1;
    if (st != AV_STATUS_NOT_FOUND) {
        fprintf(stderr, "autovoice: %s\n", err);
        return 0;
    }
    out[0] = '\0';
    if (!is_file(DEFAULT_CONFIG))
        return 1;
    if (av_build_config_check(DEFAULT_CONFIG, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        return 0;
    }
    snprintf(out, size, "%s", DEFAULT_CONFIG);
    return 1;
}

static int build_package(const char *dir, const char *config, const av_plan_options *opt)
{
    char cfg[4096], err[1024];
    if (!package_config(dir, config, cfg, sizeof cfg))
        return AV_CLI_FAILED;
    printf("%s: profiles from %s\n", dir, cfg[0] ? cfg : "nowhere (no build configuration found)");
    int built = 0;
    for (int i = 0; i < AV_PACKAGE_COMPONENTS; i++) {
        const char *name;
        char onnx[4096], plan[4096];
        av_status st = av_package_component(dir, i, &name, onnx, plan, sizeof onnx, err, sizeof err);
        if (st == AV_STATUS_NOT_FOUND) {
            printf("%s: the package has none\n", name);
            continue;
        }
        if (st != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s\n", err);
            return AV_CLI_FAILED;
        }
        av_plan_options o = *opt;
        o.component = name;
        o.config_path = cfg[0] ? cfg : NULL;
        int rc = build_one(onnx, plan, &o);
        if (rc != AV_CLI_OK)
            return rc;
        built++;
    }
    printf("%s: %d plan%s built\n", dir, built, built == 1 ? "" : "s");
    return AV_CLI_OK;
}

int av_cli_build(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *component = NULL, *config = NULL, *package = NULL;
    av_plan_profile shapes[MAX_SHAPES];
    int n_shapes = 0, threads = 0, tactics = 0;
    double min_snr = 0, min_output_snr = 0;
    const char *calib = NULL, *calib_method = NULL, *calib_cache = NULL, *timing_cache = NULL;
    int64_t workspace = 0;
    av_precision precision = AV_PRECISION_FP32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(build_help, stdout);
            fputs(build_help_more, stdout);
            return AV_CLI_OK;
        } else if (!strcmp(a, "-o") && has_value) {
            out = argv[++i];
        } else if (!strcmp(a, "--component") && has_value) {
            component = argv[++i];
        } else if (!strcmp(a, "--config") && has_value) {
            config = argv[++i];
        } else if (!strcmp(a, "--package") && has_value) {
            package = argv[++i];
        } else if (!strcmp(a, "--precision") && has_value) {
            if (!parse_precision(argv[++i], &precision)) {
                fprintf(stderr, "autovoice build: unknown --precision '%s' (fp32, fp16, bf16, "
                                "int8, best)\n", argv[i]);
                return AV_CLI_USAGE;
            }
        } else if (!strcmp(a, "--shape") && has_value) {
            if (n_shapes == MAX_SHAPES || !parse_profile(argv[++i], &shapes[n_shapes])) {
                fprintf(stderr, "autovoice build: bad --shape '%s' (want NAME:MIN/OPT/MAX, e.g. "
                                "mel_input:1x80x43/1x80x862/1x80x2584)\n", argv[i]);
                return AV_CLI_USAGE;
            }
            n_shapes++;
        } else if (!strcmp(a, "--calib") && has_value) {
            calib = argv[++i];
        } else if (!strcmp(a, "--calib-method") && has_value) {
            calib_method = argv[++i];
            if (strcmp(calib_method, "entropy") && strcmp(calib_method, "minmax") &&
                strcmp(calib_method, "percentile")) {
                fprintf(stderr, "autovoice build: unknown --calib-method '%s' (entropy, minmax, "
                                "percentile)\n", calib_method);
                return AV_CLI_USAGE;
            }
        } else if (!strcmp(a, "--calib-cache") && has_value) {
            calib_cache = argv[++i];
        } else if (!strcmp(a, "--int8-min-snr") && has_value) {
            char *end;
            errno = 0;
            min_snr = strtod(argv[++i], &end);
            if (end == argv[i] || *end || errno || !(min_snr > 0 && min_snr < 200)) {
                fprintf(stderr, "autovoice build: bad --int8-min-snr '%s' (dB, above 0)\n",
                        argv[i]);
                return AV_CLI_USAGE;
            }
        } else if (!strcmp(a, "--min-output-snr") && has_value) {
            char *end;
            errno = 0;
            if (!strcmp(argv[++i], "off")) {
                min_output_snr = -1;
            } else {
                min_output_snr = strtod(argv[i], &end);
                if (end == argv[i] || *end || errno ||
                    !(min_output_snr > 0 && min_output_snr < 200)) {
                    fprintf(stderr, "autovoice build: bad --min-output-snr '%s' (dB, above 0, "
                                    "or off)\n", argv[i]);
                    return AV_CLI_USAGE;
                }
            }
        } else if (!strcmp(a, "--timing-cache") && has_value) {
            timing_cache = argv[++i];
        } else if (!strcmp(a, "--workspace") && has_value) {
            if (!parse_bytes(argv[++i], &workspace)) {
                fprintf(stderr, "autovoice build: bad --workspace '%s' (bytes, >= 1, optionally "
                                "with k, M or G)\n", argv[i]);
                return AV_CLI_USAGE;
            }
        } else if (!strcmp(a, "--tactics")) {
            tactics = 1;
        } else if (!strcmp(a, "--onednn")) {
            tactics = 2;
        } else if (!strcmp(a, "--threads") && has_value) {
            if (!av_cli_parse_int(argv[++i], 1, 1024, &threads)) {
                fprintf(stderr, "autovoice build: bad --threads '%s'\n", argv[i]);
                return AV_CLI_USAGE;
            }
        } else if (a[0] != '-' && !model) {
            model = a;
        } else {
            fprintf(stderr, "autovoice build: unknown or incomplete option '%s'\n", a);
            return AV_CLI_USAGE;
        }
    }
    if (!!model == !!package) {
        fprintf(stderr, "usage: autovoice build MODEL.onnx [-o MODEL.plan] [options] | "
                        "autovoice build --package DIR [options] (see --help)\n");
        return AV_CLI_USAGE;
    }
    if (package && (out || component || n_shapes)) {
        fprintf(stderr, "autovoice build: --package takes no -o, --component or --shape (give the "
                        "profiles in a configuration: --config FILE)\n");
        return AV_CLI_USAGE;
    }
    if (precision == AV_PRECISION_FP16) {
        fprintf(stderr, "autovoice build: --precision fp16 is not implemented on the CPU (bf16 "
                        "is)\n");
        return AV_CLI_FAILED;
    }
    if (tactics && precision != AV_PRECISION_FP32) {
        fprintf(stderr, "autovoice build: --tactics and --onednn are for fp32 plans (bf16 and "
                        "int8 plans always run their convolutions through oneDNN)\n");
        return AV_CLI_USAGE;
    }
    if (timing_cache && tactics != 1) {
        fprintf(stderr, "autovoice build: --timing-cache goes with --tactics (it holds the layer "
                        "timings --tactics measures)\n");
        return AV_CLI_USAGE;
    }
    if (workspace && !tactics) {
        fprintf(stderr, "autovoice build: --workspace bounds the fp32 tactic choice: give it with "
                        "--tactics or --onednn\n");
        return AV_CLI_USAGE;
    }
    av_plan_options opt = av_plan_options_default();
    opt.precision = precision;
    opt.profiles = shapes;
    opt.n_profiles = n_shapes;
    opt.calib_path = calib;
    opt.calib_method = calib_method;
    opt.calib_cache = calib_cache;
    opt.threads = threads;
    opt.tactics = tactics;
    opt.int8_min_snr_db = min_snr;
    opt.min_output_snr_db = min_output_snr;
    opt.timing_cache = timing_cache;
    opt.workspace_bytes = workspace;
    opt.report = print_report;
    if (package)
        return build_package(package, config, &opt);

    if (!component)
        component = component_of(model);
    if (config && !component) {
        fprintf(stderr, "autovoice build: --config needs --component NAME (%s is not named after "
                        "a component)\n", model);
        return AV_CLI_USAGE;
    }
    if (!config && component && is_file(DEFAULT_CONFIG))
        config = DEFAULT_CONFIG;
    opt.config_path = config;
    opt.component = component;
    char plan[4096];
    if (!out) {
        size_t len = strlen(model);
        if (len > 5 && !strcmp(model + len - 5, ".onnx"))
            len -= 5;
        if (len + 6 > sizeof plan) {
            fprintf(stderr, "autovoice build: path too long\n");
            return AV_CLI_USAGE;
        }
        snprintf(plan, sizeof plan, "%.*s.plan", (int)len, model);
        out = plan;
    }
    return build_one(model, out, &opt);
}
