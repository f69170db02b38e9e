/* `autovoice bench`: latency, throughput, memory and accuracy of each component of a model package
 * and of the whole conversion, per precision and input length. What it reports is described in
 * docs/BENCHMARKS.md, the JSON layout in docs/BENCH_SCHEMA.md; bench/run-all.sh runs it beside
 * the peers (PyTorch, ONNX Runtime). */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with realpath */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "autovoice/audio.h"
#include "autovoice/engine.h"
#include "autovoice/svc.h"
#include "bench.h"
#include "cli.h"

static const char bench_help[] =
    "usage: autovoice bench [--model DIR|FILE.onnx|FILE.plan] [--component NAME|all|pipeline[,...]]\n"
    "                       [--device cpu|cuda[:N]] [--precision LIST] [--seconds LIST] [--threads N]\n"
    "                       [--repeat N] [--warmup N] [--input FILE] [--json FILE]\n"
    "                       [--markdown FILE] [--plans] [--save-tensors DIR]\n"
    "\n"
    "Measures each component of a model package (content_encoder, pitch_encoder, flow_decoder,\n"
    "mel_projection, vocoder) on deterministic synthetic inputs of each length, and the whole\n"
    "conversion ('pipeline': av_convert on --input looped to each length): latency p50/p90/p99\n"
    "over --repeat runs after --warmup runs, throughput (seconds of audio per second), real-time\n"
    "factor, load, plan build and planning time, the plan's arena and the process's peak RSS, and\n"
    "the accuracy of each precision against autovoice fp32 on the CPU on the same inputs (max and\n"
    "mean abs difference, RMSE, Pearson correlation, SNR dB; per output, and on the final waveform).\n"
    "\n"
    "options:\n"
    "  --model DIR|FILE     a model package (default models/default), or one component's .onnx or\n"
    "                       .plan (named after the component, or give --component NAME; a plan\n"
    "                       also says which component it was built for)\n"
    "  --component LIST     component names, 'pipeline', or 'all' (default: every component of\n"
    "                       the package, then the pipeline)\n"
    "  --device DEV         cpu (default), or cuda / cuda:N in a build with the CUDA backend (GPU\n"
    "                       latencies include the input upload and output download)\n"
    "  --precision LIST     fp32, tf32, fp16, bf16, int8 (default fp32; tf32 and fp16 on cuda);\n"
    "                       a precision this build or device cannot run is reported and skipped\n"
    "  --seconds LIST       input lengths in seconds of audio (default 1,10)\n"
    "  --threads N          engine threads (default: one per online CPU)\n"
    "  --repeat N           timed runs per measurement (default 10)\n"
    "  --warmup N           untimed runs before them (default 1)\n"
    "  --input FILE         the pipeline's input (default examples/example-sung.wav)\n"
    "  --json FILE          every measurement as JSON (docs/BENCH_SCHEMA.md)\n"
    "  --markdown FILE      the same as markdown tables\n"
    "  --plans              in a package, measure DIR/COMPONENT.plan (autovoice build --package)\n"
    "                       instead of the ONNX files (components only)\n"
    "  --save-tensors DIR   write each measurement's inputs and outputs as .npy under\n"
    "                       DIR/COMPONENT/SECONDSs/ (the peers in bench/ run on them)\n";

/* the rest of the help (one string literal would exceed what ISO C compilers must accept) */
static const char bench_help_more[] =
    "\n"
    "bf16 and int8 on the CPU (AVX512-BF16, AVX512-VNNI) are plans the bench builds first, the way\n"
    "'autovoice build --precision P' does (oneDNN convolutions, the build configuration's\n"
    "keep_precision layers and calibration method; a package's model.yaml, else\n"
    "config/model_config.yaml), one per component for all lengths, with profiles from the shortest\n"
    "to the longest. int8 is calibrated on one batch of the bench's own synthetic inputs at 10 s\n"
    "(at the longest length when all are shorter, the shortest when all are longer) with other\n"
    "noise than the measured ones (seed 20261125, not 20261124); the calibration cache is a\n"
    "temporary one. Each record gives the plan's build time (build_ms), its layers per precision\n"
    "and its accuracy against fp32 on the ONNX file. The pipeline's bf16 and int8 run a converter\n"
    "on a temporary copy of the package with such plans (built with the configuration's\n"
    "profiles; a component that falls back to its ONNX file is named); its fp32 runs the ONNX\n"
    "files, whatever plans the package holds. A plan file (--model FILE.plan, --plans) is measured\n"
    "once, as built, under its own precision, against the ONNX file it was built from when that\n"
    "is still there unchanged.\n"
    "\n"
    "examples:\n"
    "  autovoice bench --model models/default\n"
    "  autovoice bench --component vocoder --seconds 1,10 --threads 2 --json vocoder.json\n"
    "  autovoice bench --model vocoder.onnx --precision fp32,bf16,int8 --repeat 20\n"
    "  autovoice bench --model vocoder-int8.plan --seconds 10\n"
    "  autovoice bench --component pipeline --seconds 30 --markdown pipeline.md\n"
    "\n"
    "Timings depend on the machine and on what else runs on it: compare runs of one machine\n"
    "(bench/compare.py OLD.json NEW.json).\n"
    "\n"
    "exit status: 0 done (precisions this build cannot run are skipped); 1 a file, the model, a\n"
    "plan build or a run failed, or nothing could be measured; 2 a usage error.\n";

/* The components of a package (docs/MODEL_PACKAGE.md) and the rate of each one's time axis, which
 * turns seconds of audio into input lengths. Package format 1 fixes these rates for every preset:
 * content encoder at 16 kHz, F0 at 100 frames/s, the decoder at 22050 / 256 frames/s. */
static const struct bench_component {
    const char *name;
    double rate;
} components[] = {
    {"content_encoder", 16000.0},
    {"pitch_encoder", 100.0},
    {"flow_decoder", 22050.0 / 256.0},
    {"mel_projection", 22050.0 / 256.0},
    {"vocoder", 22050.0 / 256.0},
};
#define N_COMPONENTS (int)(sizeof components / sizeof components[0])

static const char *const known_precisions[] = {"fp32", "tf32", "fp16", "bf16", "int8"};

/* 1 when av_build_info()'s "cpu features:" line names `feature` (this CPU has it). */
static int cpu_has(const char *feature)
{
    const char *line = strstr(av_build_info(), "cpu features:");
    if (!line)
        return 0;
    const char *end = line + strcspn(line, "\n");
    size_t n = strlen(feature);
    for (const char *p = line + strlen("cpu features:"); p < end;) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " \n");
        if (len == n && !strncmp(p, feature, n))
            return 1;
        p += len;
    }
    return 0;
}

static int is_cpu(const char *device)
{
    av_device_kind kind;
    int index;
    char err[64];
    return av_device_parse(device, &kind, &index, err, sizeof err) == AV_STATUS_OK &&
           kind == AV_DEVICE_CPU;
}

/* 1 for a variant the bench runs as a plan it builds first: bf16 and int8 on the CPU. */
static int built_variant(const char *device, const char *precision)
{
    return is_cpu(device) && (!strcmp(precision, "bf16") || !strcmp(precision, "int8"));
}

/* The session configuration of `precision` on `device`, or 0 with *why set when this build or
 * CPU cannot run it. On the CPU bf16 and int8 are plans (built_variant): their sessions are plain
 * ones, the plan's nodes carry the precision. */
static int variant_config(const char *device, const char *precision, int threads,
                          av_session_config *cfg, const char **why)
{
    char err[256];
    *cfg = av_session_config_default();
    cfg->threads = threads;
    if (av_device_parse(device, &cfg->device, &cfg->device_index, err, sizeof err) != AV_STATUS_OK) {
        *why = "unknown device";
        return 0;
    }
    if (cfg->device == AV_DEVICE_CPU) {
        if (!strcmp(precision, "fp32"))
            return 1;
        if (!strcmp(precision, "tf32") || !strcmp(precision, "fp16")) {
            *why = !strcmp(precision, "tf32") ? "tf32 is a GPU mode"
                                              : "no fp16 kernels on the CPU (bf16 is)";
            return 0;
        }
        int bf16 = !strcmp(precision, "bf16");
        if (!cpu_has("avx512f") || !cpu_has(bf16 ? "avx512bf16" : "avx512vnni")) {
            *why = bf16 ? "this CPU lacks AVX512-BF16, which bf16 plans need"
                        : "this CPU lacks AVX512-VNNI, which int8 plans need";
            return 0;
        }
        return 1;
    }
    if (!strstr(av_build_info(), "backends: cpu cuda")) {
        *why = "this build has no CUDA backend (configured without nvcc and cuDNN)";
        return 0;
    }
    if (!strcmp(precision, "fp32"))
        cfg->gpu_math = AV_GPU_FP32;
    else if (!strcmp(precision, "tf32"))
        cfg->gpu_math = AV_GPU_TF32;
    else if (!strcmp(precision, "fp16"))
        cfg->gpu_math = AV_GPU_FP16;
    else {
        *why = "not available on the GPU yet (fp32, tf32, fp16)";
        return 0;
    }
    return 1;
}

static const char *variant_unavailable(const char *device, const char *precision)
{
    av_session_config cfg;
    const char *why = NULL;
    return variant_config(device, precision, 1, &cfg, &why) ? NULL : why;
}

/* A session running `model` as `precision` on `device`. */
static av_status open_session(const av_model *model, const char *device, const char *precision,
                              int threads, av_session **out, char *err, size_t err_size)
{
    av_session_config cfg;
    const char *why = NULL;
    if (!variant_config(device, precision, threads, &cfg, &why)) {
        snprintf(err, err_size, "%s on %s: %s", precision, device, why);
        return AV_STATUS_UNSUPPORTED;
    }
    return av_session_create(model, &cfg, out, err, err_size);
}

static av_status open_converter(const char *dir, const char *device, const char *precision,
                                int threads, av_converter **out, char *err, size_t err_size)
{
    av_session_config cfg;
    const char *why = NULL;
    if (!variant_config(device, precision, threads, &cfg, &why)) {
        snprintf(err, err_size, "%s on %s: %s", precision, device, why);
        return AV_STATUS_UNSUPPORTED;
    }
    return av_converter_create_with(dir, &cfg, out, err, err_size);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int64_t peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (int64_t)ru.ru_maxrss * 1024; /* Linux: KiB */
}

/* ---- deterministic inputs ---------------------------------------------------------------- */

typedef struct bench_rng {
    uint64_t state;
} bench_rng;

static double rng_uniform(bench_rng *r) /* splitmix64 -> (0, 1) */
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(bench_rng *r)
{
    double u = rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* The inputs of one measurement, owned here and bound to sessions by pointer. */
typedef struct bench_inputs {
    int n;
    av_tensor t[AV_BENCH_MAX_IO];
    void *data[AV_BENCH_MAX_IO];
} bench_inputs;

static void inputs_free(bench_inputs *in)
{
    for (int i = 0; i < in->n; i++)
        free(in->data[i]);
    in->n = 0;
}

/* The noise of the measured inputs, and of the int8 calibration inputs (the same kind of signal
 * with other noise: the plans are not calibrated on the very tensors they are measured on). */
#define BENCH_SEED 20261124u
#define CALIB_SEED 20261125u

/* Fills one input with values of the kind the component sees in a conversion, chosen by the
 * input's name (docs/MODEL_PACKAGE.md); the time axis is the last one, `t` steps at `rate` per
 * second. Deterministic: the values depend on the name, the shape and the seed of the noise. */
static void fill_input(const char *name, av_dtype dtype, void *data, int64_t count, int64_t t,
                       double rate, uint64_t seed)
{
    bench_rng rng = {seed};
    for (const char *c = name; *c; c++)
        rng.state = rng.state * 131 + (unsigned char)*c;
    if (dtype == AV_DTYPE_BOOL) { /* voiced_mask: voiced but for a gap and every 17th frame */
        uint8_t *b = data;
        for (int64_t i = 0; i < count; i++) {
            int64_t k = i % t;
            b[i] = !((k >= t / 4 && k < t / 4 + t / 10) || k % 17 == 16);
        }
        return;
    }
    float *x = data;
    if (!strcmp(name, "input_audio")) {
        /* a sung tone: 8 harmonics, 5.5 Hz vibrato, a glide up a fifth over 10 s, light noise */
        double phase = 0, peak = 0;
        for (int64_t i = 0; i < count; i++) {
            double s = (double)(i % t) / rate;
            double f0 = 220.0 * pow(1.5, fmin(s / 10.0, 1.0)) * pow(2.0, 0.02 * sin(6.2832 * 5.5 * s));
            phase += 6.283185307179586 * f0 / rate;
            double v = 0;
            for (int k = 1; k <= 8; k++)
                v += sin(k * phase) / k;
            x[i] = (float)(v + 0.01 * rng_normal(&rng));
            peak = fmax(peak, fabs(x[i]));
        }
        for (int64_t i = 0; i < count && peak > 0; i++)
            x[i] = (float)(x[i] / peak);
    } else if (!strcmp(name, "f0_input")) { /* 150 -> 450 Hz over 10 s with vibrato */
        for (int64_t i = 0; i < count; i++) {
            double s = (double)(i % t) / rate;
            x[i] = (float)(150.0 * pow(3.0, fmin(s / 10.0, 1.0)) * pow(2.0, 0.03 * sin(6.2832 * 5.5 * s)));
        }
    } else if (!strcmp(name, "mask")) {
        for (int64_t i = 0; i < count; i++)
            x[i] = 1.0f;
    } else if (!strcmp(name, "mel_input")) {
        /* the natural-log mel of a sung note, [batch, channels, t]: harmonics of a 220 -> 330 Hz
         * glide with vibrato (amplitude 1 / sqrt(k)) over a noise floor near -6, on the decoder's
         * Slaney mel scale (0-8 kHz, docs/MODEL_PACKAGE.md) */
        int64_t channels = count / t;
        double top = 15.0 + 27.0 * log(8000.0 / 1000.0) / log(6.4);
        for (int64_t i = 0; i < count; i++) {
            int64_t c = (i / t) % channels, k = i % t;
            double s = (double)k / rate;
            double f0 = 220.0 * pow(1.5, fmin(s / 10.0, 1.0)) * pow(2.0, 0.02 * sin(6.2832 * 5.5 * s));
            double mel_c = top * (double)(c + 1) / (double)(channels + 1), v = -6.0 + 0.5 * rng_normal(&rng);
            for (int h = 1; h * f0 < 8000.0; h++) {
                double f = h * f0;
                double mel_h = f < 1000.0 ? 3.0 * f / 200.0 : 15.0 + 27.0 * log(f / 1000.0) / log(6.4);
                v += 5.0 / sqrt(h) * exp(-0.5 * (mel_c - mel_h) * (mel_c - mel_h));
            }
            x[i] = (float)v;
        }
    } else { /* latents, conditioning */
        for (int64_t i = 0; i < count; i++)
            x[i] = (float)rng_normal(&rng);
    }
}

/* Inputs for `model` with `t` steps on the time axis: fixed dimensions as declared, a symbolic
 * first dimension (batch) 1, every other symbolic dimension t (bench_profiles follows the same
 * rule). */
static int make_inputs(const av_model *model, int64_t t, double rate, uint64_t seed,
                       bench_inputs *in, char *err, size_t err_size)
{
    in->n = 0;
    int n = av_model_input_count(model);
    if (n > AV_BENCH_MAX_IO) {
        snprintf(err, err_size, "%d inputs; the bench makes at most %d", n, AV_BENCH_MAX_IO);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        av_tensor d;
        av_model_input(model, i, &d);
        if (d.ndim < 0 || (d.dtype != AV_DTYPE_FLOAT32 && d.dtype != AV_DTYPE_BOOL)) {
            snprintf(err, err_size, "input '%s': the bench makes float32 and bool inputs of known "
                     "rank only", d.name);
            inputs_free(in);
            return -1;
        }
        int64_t count = 1;
        for (int k = 0; k < d.ndim; k++) {
            if (d.shape[k] < 0 || d.dim_names[k])
                d.shape[k] = k == 0 ? 1 : t;
            count *= d.shape[k];
        }
        d.data = NULL;
        in->data[i] = malloc((size_t)(count ? count : 1) * av_dtype_size(d.dtype));
        if (!in->data[i]) {
            snprintf(err, err_size, "out of memory");
            inputs_free(in);
            return -1;
        }
        fill_input(d.name, d.dtype, in->data[i], count, t, rate, seed);
        d.data = in->data[i];
        in->t[i] = d;
        in->n++;
    }
    return 0;
}

static int bind_inputs(av_session *s, const bench_inputs *in)
{
    for (int i = 0; i < in->n; i++)
        if (av_session_set_input(s, in->t[i].name, in->t[i].dtype, in->t[i].ndim, in->t[i].shape,
                                 in->data[i]) != AV_STATUS_OK)
            return -1;
    return 0;
}

static void describe(av_cli_bench_tensor *d, const av_tensor *t)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", t->name);
    snprintf(d->dtype, sizeof d->dtype, "%s", av_dtype_name(t->dtype));
    d->ndim = t->ndim;
    for (int k = 0; k < t->ndim && k < AV_MAX_DIMS; k++)
        d->shape[k] = t->shape[k];
}

static int64_t element_count(const av_tensor *t)
{
    int64_t n = 1;
    for (int k = 0; k < t->ndim; k++)
        n *= t->shape[k];
    return n;
}

/* Copies of a run's outputs (the fp32 reference of the accuracy figures). */
typedef struct bench_outputs {
    int n;
    av_tensor t[AV_BENCH_MAX_IO];
    void *data[AV_BENCH_MAX_IO];
} bench_outputs;

static void outputs_free(bench_outputs *o)
{
    for (int i = 0; i < o->n; i++)
        free(o->data[i]);
    o->n = 0;
}

static int copy_outputs(const av_model *m, av_session *s, bench_outputs *o, char *err, size_t err_size)
{
    o->n = 0;
    int n = av_model_output_count(m);
    for (int i = 0; i < n && i < AV_BENCH_MAX_IO; i++) {
        av_tensor d, t;
        av_model_output(m, i, &d);
        if (av_session_get_output(s, d.name, &t) != AV_STATUS_OK) {
            snprintf(err, err_size, "%s", av_session_last_error(s));
            outputs_free(o);
            return -1;
        }
        size_t bytes = (size_t)element_count(&t) * av_dtype_size(t.dtype);
        o->data[i] = malloc(bytes ? bytes : 1);
        if (!o->data[i]) {
            snprintf(err, err_size, "out of memory");
            outputs_free(o);
            return -1;
        }
        memcpy(o->data[i], t.data, bytes);
        o->t[i] = t;
        o->t[i].name = d.name; /* lives as long as the model */
        o->t[i].data = o->data[i];
        o->n++;
    }
    return 0;
}

/* ---- files of --save-tensors ------------------------------------------------------------- */

static int make_dirs(const char *path)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            if (!c)
                return 0;
            *p = c;
        }
    }
}

static int save_tensor(const char *dir, const av_tensor *t, char *err, size_t err_size)
{
    char path[1200], safe[64];
    size_t k = 0;
    for (const char *c = t->name; *c && k < sizeof safe - 1; c++)
        safe[k++] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c) ? *c : '_';
    safe[k] = '\0';
    if (make_dirs(dir) != 0) {
        snprintf(err, err_size, "%s: cannot create the directory (%s)", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s.npy", dir, safe);
    return av_npy_write(path, t, err, err_size) == AV_STATUS_OK ? 0 : -1;
}

/* ---- one run of the bench ------------------------------------------------------------------ */

typedef struct bench_ctx {
    av_cli_bench_run *run;
    const char *save_dir;
    const char *available[AV_BENCH_MAX_LIST]; /* requested precisions this build can run */
    int n_available;
    const char *package;                      /* the package directory, NULL for one file */
    char tmp[512];                            /* the bench's temporary directory, "" until made */
    char calib[N_COMPONENTS][600];            /* calibration files made, per component */
    int n_builds;                             /* plans built so far (names of their caches) */
    char err[2048];
} bench_ctx;

/* cx->err = "WHERE: WHAT" (what may be cx->err itself) */
static void set_error(bench_ctx *cx, const char *where, const char *what)
{
    char msg[sizeof cx->err];
    snprintf(msg, sizeof msg, "%.900s: %.1000s", where, what);
    memcpy(cx->err, msg, sizeof msg);
}

static av_cli_bench_record *new_record(av_cli_bench_run *run)
{
    if (run->n_records == run->cap_records) {
        int cap = run->cap_records ? 2 * run->cap_records : 16;
        av_cli_bench_record *r = realloc(run->records, (size_t)cap * sizeof *r);
        if (!r)
            return NULL;
        run->records = r;
        run->cap_records = cap;
    }
    av_cli_bench_record *r = &run->records[run->n_records];
    memset(r, 0, sizeof *r);
    return r;
}

static void set_latency(av_cli_bench_record *r, double *times, int n)
{
    qsort(times, (size_t)n, sizeof *times, cmp_double);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += times[i];
    r->runs = n;
    r->p50 = av_cli_percentile(times, (size_t)n, 50);
    r->p90 = av_cli_percentile(times, (size_t)n, 90);
    r->p99 = av_cli_percentile(times, (size_t)n, 99);
    r->mean = sum / n;
    r->min = times[0];
    r->max = times[n - 1];
    r->throughput = r->p50 > 0 ? r->audio_seconds / (r->p50 * 1e-3) : 0;
    r->rtf = r->p50 * 1e-3 / r->audio_seconds;
}

static void format_seconds(char *out, size_t n, double s)
{
    snprintf(out, n, "%gs", s);
}

static const struct bench_component *find_component(const char *name);

/* ---- plans the bench builds: bf16 and int8 on the CPU ----------------------------------------
 *
 * Everything goes to a private temporary directory, removed at the end: the calibration files
 * (.npz of the bench's inputs), the plans (unlinked once loaded: the model keeps its mapping) and
 * the calibration caches, so that a run never reads or writes the user's caches or plans. */

#define PROJECT_CONFIG "config/model_config.yaml"
#define CALIB_SECONDS 10.0 /* the builder's opt length and the converter's chunk */

static int precision_available(const bench_ctx *cx, const char *precision)
{
    for (int i = 0; i < cx->n_available; i++)
        if (!strcmp(cx->available[i], precision))
            return 1;
    return 0;
}

/* A precision found unbuildable while running (the builder said UNSUPPORTED): reported once,
 * skipped from then on. */
static void skip_precision(bench_ctx *cx, const char *precision, const char *reason)
{
    av_cli_bench_run *run = cx->run;
    fprintf(stderr, "autovoice bench: %s on %s: %s (skipped)\n", precision, run->device, reason);
    if (run->n_skips < (int)(sizeof run->skips / sizeof run->skips[0])) {
        av_cli_bench_skip *k = &run->skips[run->n_skips++];
        snprintf(k->precision, sizeof k->precision, "%s", precision);
        snprintf(k->device, sizeof k->device, "%s", run->device);
        snprintf(k->reason, sizeof k->reason, "%s", reason);
    }
    int n = 0;
    for (int i = 0; i < cx->n_available; i++)
        if (strcmp(cx->available[i], precision) != 0)
            cx->available[n++] = cx->available[i];
    cx->n_available = n;
}

static const char *tmp_dir(bench_ctx *cx)
{
    if (!cx->tmp[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(cx->tmp, sizeof cx->tmp, "%.400s/autovoice-bench-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(cx->tmp)) {
            snprintf(cx->err, sizeof cx->err, "%s: cannot create a temporary directory (%s)",
                     cx->tmp, strerror(errno));
            cx->tmp[0] = '\0';
            return NULL;
        }
    }
    return cx->tmp;
}

/* Removes `path` and, for a directory, everything in it; symbolic links are removed, never
 * followed. */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char sub[1400];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub)
                remove_tree(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

static int read_whole(const char *path, unsigned char **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    long n;
    *data = NULL;
    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(*data = malloc((size_t)n + 1)) || fread(*data, 1, (size_t)n, f) != (size_t)n) {
        free(*data);
        *data = NULL;
        fclose(f);
        return -1;
    }
    fclose(f);
    *size = (size_t)n;
    return 0;
}

static uint32_t crc32_of(const unsigned char *p, size_t n) /* zip's CRC-32 */
{
    uint32_t crc = 0xffffffffu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_le(unsigned char *p, uint32_t v, int bytes)
{
    for (int k = 0; k < bytes; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

/* Writes `in` to `path` as np.savez does (a zip of stored NAME.npy members, one per input), the
 * calibration file format the builder reads. Each member goes through av_npy_write to `scratch`. */
static int write_npz(const char *path, const char *scratch, const bench_inputs *in, char *err,
                     size_t err_size)
{
    unsigned char *central = calloc((size_t)in->n + 1, 46 + 80), *npy = NULL;
    size_t central_size = 0, at = 0;
    FILE *f = fopen(path, "wb");
    int rc = -1;
    if (!f || !central) {
        snprintf(err, err_size, "%s: cannot write (%s)", path, f ? "out of memory" : strerror(errno));
        goto done;
    }
    for (int i = 0; i < in->n; i++) {
        size_t size;
        char name[80];
        int name_len = snprintf(name, sizeof name, "%s.npy", in->t[i].name);
        if (name_len >= (int)sizeof name) {
            snprintf(err, err_size, "input '%s': name too long for the calibration file", in->t[i].name);
            goto done;
        }
        if (av_npy_write(scratch, &in->t[i], err, err_size) != AV_STATUS_OK)
            goto done;
        if (read_whole(scratch, &npy, &size) != 0 || size >= 0x7fffffffu - at) {
            snprintf(err, err_size, "%s: cannot read back (or over 2 GiB)", scratch);
            goto done;
        }
        remove(scratch);
        uint32_t crc = crc32_of(npy, size);
        unsigned char local[30] = {0}, *c = central + central_size;
        put_le(local, 0x04034b50u, 4);
        put_le(local + 4, 20, 2);          /* version needed: 2.0 */
        put_le(local + 12, 0x21, 2);       /* date: 1980-01-01 */
        put_le(local + 14, crc, 4);
        put_le(local + 18, (uint32_t)size, 4);
        put_le(local + 22, (uint32_t)size, 4);
        put_le(local + 26, (uint32_t)name_len, 2);
        put_le(c, 0x02014b50u, 4);
        put_le(c + 4, 20, 2);
        put_le(c + 6, 20, 2);
        memcpy(c + 10, local + 8, 20);     /* method .. name length, as in the local header */
        put_le(c + 42, (uint32_t)at, 4);
        memcpy(c + 46, name, (size_t)name_len);
        central_size += 46 + (size_t)name_len;
        if (fwrite(local, 1, 30, f) != 30 || fwrite(name, 1, (size_t)name_len, f) != (size_t)name_len ||
            fwrite(npy, 1, size, f) != size) {
            snprintf(err, err_size, "%s: cannot write (%s)", path, strerror(errno));
            goto done;
        }
        at += 30 + (size_t)name_len + size;
        free(npy);
        npy = NULL;
    }
    unsigned char end[22] = {0};
    put_le(end, 0x06054b50u, 4);
    put_le(end + 8, (uint32_t)in->n, 2);
    put_le(end + 10, (uint32_t)in->n, 2);
    put_le(end + 12, (uint32_t)central_size, 4);
    put_le(end + 16, (uint32_t)at, 4);
    if (fwrite(central, 1, central_size, f) != central_size || fwrite(end, 1, 22, f) != 22) {
        snprintf(err, err_size, "%s: cannot write (%s)", path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (f && fclose(f) != 0 && rc == 0) {
        snprintf(err, err_size, "%s: cannot write (%s)", path, strerror(errno));
        rc = -1;
    }
    free(npy);
    free(central);
    return rc;
}

/* Steps on the time axis of `seconds` at `rate` (at least one), as every measurement takes them. */
static int64_t steps_of(double seconds, double rate)
{
    int64_t t = (int64_t)llround(seconds * rate);
    return t < 1 ? 1 : t;
}

/* The calibration length: CALIB_SECONDS, or the nearest requested length when all are shorter or
 * all longer. */
static double calib_seconds(const av_cli_bench_run *run)
{
    return fmin(fmax(CALIB_SECONDS, run->seconds[0]), run->seconds[run->n_seconds - 1]);
}

static void calib_description(const av_cli_bench_run *run, char *out, size_t size)
{
    snprintf(out, size, "bench inputs: 1 batch of the bench's synthetic inputs at %g s, noise seed "
             "%u (measured: %u)", calib_seconds(run), CALIB_SEED, BENCH_SEED);
}

/* The calibration file of component c for model m: the bench's inputs at calib_seconds with
 * CALIB_SEED's noise, made once per run. NULL with cx->err on failure. */
static const char *calib_file(bench_ctx *cx, const struct bench_component *c, const av_model *m)
{
    char *path = cx->calib[c - components];
    if (path[0])
        return path;
    const char *tmp = tmp_dir(cx);
    if (!tmp)
        return NULL;
    bench_inputs in = {0};
    char scratch[600], err[1024];
    snprintf(path, sizeof cx->calib[0], "%s/calib-%s.npz", tmp, c->name);
    snprintf(scratch, sizeof scratch, "%s/input.npy", tmp);
    if (make_inputs(m, steps_of(calib_seconds(cx->run), c->rate), c->rate, CALIB_SEED, &in, err,
                    sizeof err) != 0 ||
        write_npz(path, scratch, &in, err, sizeof err) != 0) {
        snprintf(cx->err, sizeof cx->err, "%s calibration inputs: %s", c->name, err);
        path[0] = '\0';
        inputs_free(&in);
        return NULL;
    }
    inputs_free(&in);
    return path;
}

/* Profiles for every input of m with a symbolic dimension, as make_inputs shapes it: min at the
 * shortest requested length, opt at the calibration length, max at the longest. */
static int bench_profiles(const av_model *m, const av_cli_bench_run *run, double rate,
                          av_plan_profile *p)
{
    int64_t lo = steps_of(run->seconds[0], rate), opt = steps_of(calib_seconds(run), rate),
            hi = steps_of(run->seconds[run->n_seconds - 1], rate);
    int n = 0;
    for (int i = 0; i < av_model_input_count(m) && n < AV_BENCH_MAX_IO; i++) {
        av_tensor d;
        av_model_input(m, i, &d);
        av_plan_profile *q = &p[n];
        int symbolic = 0;
        memset(q, 0, sizeof *q);
        for (int k = 0; k < d.ndim && k < AV_MAX_DIMS; k++) {
            if (d.shape[k] < 0 || d.dim_names[k]) {
                symbolic = 1;
                q->min[k] = k == 0 ? 1 : lo;
                q->opt[k] = k == 0 ? 1 : opt;
                q->max[k] = k == 0 ? 1 : hi;
            } else {
                q->min[k] = q->opt[k] = q->max[k] = d.shape[k];
            }
        }
        if (symbolic) {
            q->input = d.name;
            q->ndim = d.ndim;
            n++;
        }
    }
    return n;
}

/* The build configuration `autovoice build` takes: for a package, its model.yaml's `tensorrt`
 * block, else the project's file (relative to the working directory) when there is one; for a
 * lone file the project's file. "" for none; -1 with cx->err for a broken file. */
static int build_config(bench_ctx *cx, const char *package_dir, char *out, size_t size)
{
    char err[1024];
    out[0] = '\0';
    if (package_dir) {
        snprintf(out, size, "%s/model.yaml", package_dir);
        av_status st = av_build_config_check(out, err, sizeof err);
        if (st == AV_STATUS_OK)
            return 0;
        out[0] = '\0';
        if (st != AV_STATUS_NOT_FOUND) {
            snprintf(cx->err, sizeof cx->err, "%s", err);
            return -1;
        }
    }
    if (access(PROJECT_CONFIG, R_OK) == 0)
        snprintf(out, size, "%s", PROJECT_CONFIG);
    return 0;
}

static av_precision precision_of(const char *name)
{
    return !strcmp(name, "bf16") ? AV_PRECISION_BF16
           : !strcmp(name, "int8") ? AV_PRECISION_INT8 : AV_PRECISION_FP32;
}

/* The record's name of a plan's precision ("best" builds int8 plans). */
static const char *plan_precision_name(av_precision p)
{
    return p == AV_PRECISION_BEST ? "int8" : av_precision_name(p);
}

/* What a record says about plan m (file: the given file, or NULL for a plan built here). */
static void describe_plan(av_cli_bench_plan *d, const char *component, const av_model *m,
                          const char *file, const char *calibration)
{
    av_plan_info info;
    memset(d, 0, sizeof *d);
    snprintf(d->component, sizeof d->component, "%s", component);
    if (av_model_plan_info(m, &info) == AV_STATUS_OK) {
        snprintf(d->precision, sizeof d->precision, "%s", plan_precision_name(info.precision));
        memcpy(d->nodes, info.nodes_by_precision, sizeof d->nodes);
    }
    snprintf(d->file, sizeof d->file, "%s", file ? file : "");
    snprintf(d->calibration, sizeof d->calibration, "%s", calibration ? calibration : "");
}

/* The builder's report: only its "precision: ..." summary line is kept, for the console. */
static void keep_summary(void *user, const char *line)
{
    if (!strncmp(line, "precision: ", 11))
        snprintf(user, 256, "%s", line + 11);
}

/* Builds m (loaded from onnx_path, component c) into a `precision` plan at plan_path through
 * av_model_save_plan, as `autovoice build --precision P` does: the configuration `config` ("" for
 * none) for keep_precision and the calibration method, explicit profiles (may be none: then the
 * configuration's), the bench's calibration file, a calibration cache of its own. *build_ms is
 * the av_model_save_plan call. AV_STATUS_UNSUPPORTED with cx->err when this CPU or build cannot
 * make such plans; other errors in cx->err. */
static av_status build_plan(bench_ctx *cx, const struct bench_component *c, const av_model *m,
                            const char *onnx_path, const char *plan_path, const char *precision,
                            const char *config, const av_plan_profile *profiles, int n_profiles,
                            double *build_ms)
{
    const char *calib = calib_file(cx, c, m), *tmp = tmp_dir(cx);
    if (!calib || !tmp)
        return AV_STATUS_IO;
    char cache[700], summary[256] = "", err[1536];
    snprintf(cache, sizeof cache, "%s/cache-%d.calib", tmp, cx->n_builds++);
    av_plan_options o = av_plan_options_default();
    o.precision = precision_of(precision);
    o.source_path = onnx_path;
    o.config_path = config[0] ? config : NULL;
    o.component = c->name;
    o.profiles = profiles;
    o.n_profiles = n_profiles;
    o.calib_path = calib; /* int8: calibration; bf16 too: the builder's checks and report */
    o.calib_cache = cache;
    o.threads = cx->run->threads;
    o.report = keep_summary;
    o.report_user = summary;
    double t0 = now_ms();
    av_status st = av_model_save_plan(m, plan_path, &o, err, sizeof err);
    *build_ms = now_ms() - t0;
    remove(cache);
    if (st != AV_STATUS_OK) {
        snprintf(cx->err, sizeof cx->err, "%s %s plan: %s", c->name, precision, err);
        if (st == AV_STATUS_UNSUPPORTED)
            snprintf(cx->err, sizeof cx->err, "%s", err);
        return st;
    }
    printf("  %-15s %-5s plan built in %.2f s (%s)\n", c->name, precision, *build_ms / 1e3,
           summary[0] ? summary : "no convolutions");
    fflush(stdout);
    return AV_STATUS_OK;
}

/* One way of running a component: a precision of its model, a plan the bench builds from it
 * (bf16, int8 on the CPU), or the plan file it was given, as built. */
typedef struct bench_variant {
    const char *precision;       /* the records' precision */
    int build;                   /* a plan the bench builds on first use */
    const av_model *model;       /* what the sessions run; NULL until built */
    av_model *owned;             /* a plan loaded here */
    double load_ms, build_ms;
    int have_plan;
    av_cli_bench_plan plan;
} bench_variant;

/* Times one variant of a component at one length and compares its outputs with those of the same
 * name in `ref` (ref->n 0: no reference), fp32 on the CPU of the model `ref_model` names. */
static int measure_component(bench_ctx *cx, const char *name, const bench_variant *v,
                             double seconds, double audio_seconds, const bench_inputs *in,
                             const bench_outputs *ref, const char *ref_model)
{
    av_cli_bench_run *run = cx->run;
    av_session *s = NULL;
    double *times = calloc(2 * (size_t)run->repeat, sizeof *times);
    double *gpu_times = times ? times + run->repeat : NULL;
    int rc = -1;
    if (!times) {
        snprintf(cx->err, sizeof cx->err, "out of memory");
        return -1;
    }
    if (open_session(v->model, run->device, v->precision, run->threads, &s, cx->err,
                     sizeof cx->err) != AV_STATUS_OK)
        goto done;
    if (bind_inputs(s, in) != 0)
        goto session_error;
    double t0 = now_ms();
    if (av_session_prepare(s) != AV_STATUS_OK)
        goto session_error;
    double plan_ms = now_ms() - t0;
    for (int i = 0; i < run->warmup; i++)
        if (av_session_run(s) != AV_STATUS_OK)
            goto session_error;
    for (int i = 0; i < run->repeat; i++) {
        double t = now_ms();
        if (av_session_run(s) != AV_STATUS_OK)
            goto session_error;
        times[i] = now_ms() - t;
        av_session_memory mem;
        gpu_times[i] = av_session_get_memory(s, &mem) == AV_STATUS_OK ? mem.device_ms : 0;
    }

    av_cli_bench_record *r = new_record(run);
    if (!r) {
        snprintf(cx->err, sizeof cx->err, "out of memory");
        goto done;
    }
    snprintf(r->component, sizeof r->component, "%s", name);
    snprintf(r->precision, sizeof r->precision, "%s", v->precision);
    r->seconds = seconds;
    r->audio_seconds = audio_seconds;
    r->load_ms = v->load_ms;
    r->plan_ms = plan_ms;
    r->have_build = v->build;
    r->build_ms = v->build_ms;
    if (v->have_plan) {
        r->n_plans = 1;
        r->plans[0] = v->plan;
    }
    snprintf(r->reference, sizeof r->reference, "%s", ref->n ? ref_model : "");
    r->warmup = run->warmup;
    set_latency(r, times, run->repeat);
    qsort(gpu_times, (size_t)run->repeat, sizeof *gpu_times, cmp_double);
    r->device_p50 = av_cli_percentile(gpu_times, (size_t)run->repeat, 50);
    r->have_memory = av_session_get_memory(s, &r->memory) == AV_STATUS_OK;
    r->n_inputs = in->n;
    for (int i = 0; i < in->n; i++)
        describe(&r->inputs[i], &in->t[i]);
    int n_out = av_model_output_count(v->model);
    for (int i = 0; i < n_out && i < AV_BENCH_MAX_IO; i++) {
        av_tensor d, out;
        av_model_output(v->model, i, &d);
        if (av_session_get_output(s, d.name, &out) != AV_STATUS_OK)
            goto session_error;
        describe(&r->outputs[i], &out);
        r->n_outputs++;
        int64_t count = element_count(&out);
        for (int k = 0; k < ref->n; k++) {
            if (strcmp(ref->t[k].name, d.name) != 0)
                continue;
            if (out.dtype == AV_DTYPE_FLOAT32 && ref->t[k].dtype == AV_DTYPE_FLOAT32 &&
                count == element_count(&ref->t[k])) {
                av_cli_accuracy_compute(ref->data[k], out.data, count, &r->outputs[i].accuracy);
                r->outputs[i].have_accuracy = 1;
            }
        }
        if (cx->save_dir) {
            char dir[700], secs[32];
            format_seconds(secs, sizeof secs, seconds);
            snprintf(r->saved, sizeof r->saved, "%s/%s/%s", cx->save_dir, name, secs);
            snprintf(dir, sizeof dir, "%s/autovoice-%s", r->saved, v->precision);
            if (save_tensor(dir, &out, cx->err, sizeof cx->err) != 0)
                goto done;
        }
    }
    r->rss_peak_bytes = peak_rss_bytes();
    run->n_records++;
    av_cli_bench_print_record(stdout, r);
    rc = 0;
    goto done;
session_error:
    snprintf(cx->err, sizeof cx->err, "%s", av_session_last_error(s));
done:
    free(times);
    av_session_free(s);
    return rc;
}

/* Builds variant v's plan of m (the ONNX file `path`, component c) and loads it: a plan for every
 * length the run measures (bench_profiles), the configuration `autovoice build` would take.
 * 0; -1 with cx->err, or with the precision skipped when this CPU or build cannot make it. */
static int make_plan(bench_ctx *cx, const struct bench_component *c, const av_model *m,
                     const char *path, bench_variant *v)
{
    char config[1200], plan[700], err[1024], cal[256];
    av_plan_profile profiles[AV_BENCH_MAX_IO];
    const char *tmp = tmp_dir(cx);
    if (!tmp || build_config(cx, cx->package, config, sizeof config) != 0)
        return -1;
    snprintf(plan, sizeof plan, "%s/%s-%s.plan", tmp, c->name, v->precision);
    int n = bench_profiles(m, cx->run, c->rate, profiles);
    av_status st = build_plan(cx, c, m, path, plan, v->precision, config, profiles, n, &v->build_ms);
    if (st == AV_STATUS_UNSUPPORTED)
        skip_precision(cx, v->precision, cx->err);
    if (st != AV_STATUS_OK)
        return -1;
    double t0 = now_ms();
    st = av_model_load(plan, &v->owned, err, sizeof err);
    v->load_ms = now_ms() - t0;
    remove(plan); /* the model keeps its mapping */
    if (st != AV_STATUS_OK) {
        snprintf(cx->err, sizeof cx->err, "the plan just built does not load: %s", err);
        return -1;
    }
    v->model = v->owned;
    v->have_plan = 1;
    calib_description(cx->run, cal, sizeof cal);
    describe_plan(&v->plan, c->name, v->owned, NULL, !strcmp(v->precision, "int8") ? cal : NULL);
    return 0;
}

/* The ONNX file that plan m (loaded from plan_path) was built from, when it is still there
 * unchanged by the size and modification time the plan records: the recorded path, else a file
 * of that name beside the plan. 1 with out filled, else 0. */
static int plan_source(const av_model *m, const char *plan_path, char *out, size_t size)
{
    av_plan_info info;
    if (av_model_plan_info(m, &info) != AV_STATUS_OK || !info.source_path || !info.source_path[0])
        return 0;
    const char *base = strrchr(info.source_path, '/'), *slash = strrchr(plan_path, '/');
    char beside[1200];
    snprintf(beside, sizeof beside, "%.*s%s", slash ? (int)(slash - plan_path + 1) : 0, plan_path,
             base ? base + 1 : info.source_path);
    const char *candidates[2] = {info.source_path, beside};
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (stat(candidates[i], &st) == 0 && S_ISREG(st.st_mode) &&
            (int64_t)st.st_size == info.source_size &&
            (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == info.source_mtime_ns) {
            snprintf(out, size, "%s", candidates[i]);
            return 1;
        }
    }
    return 0;
}

static int bench_component(bench_ctx *cx, const struct bench_component *c, const char *path)
{
    av_cli_bench_run *run = cx->run;
    av_model *m = NULL, *source = NULL;
    const av_model *ref_model;
    av_session *s = NULL;
    bench_inputs in = {0};
    bench_outputs ref = {0};
    bench_variant v[AV_BENCH_MAX_LIST];
    char err[1024], ref_path[1200];
    int nv = 0, rc = -1;
    memset(v, 0, sizeof v);
    double t0 = now_ms();
    if (av_model_load(path, &m, err, sizeof err) != AV_STATUS_OK) {
        snprintf(cx->err, sizeof cx->err, "%s", err);
        return -1;
    }
    double load_ms = now_ms() - t0;
    ref_model = m;
    snprintf(ref_path, sizeof ref_path, "%s", path);
    if (av_model_is_plan(m) && is_cpu(run->device)) {
        /* a plan on the CPU runs as built: one variant, under the plan's own precision */
        v[0].model = m;
        v[0].load_ms = load_ms;
        v[0].have_plan = 1;
        describe_plan(&v[0].plan, c->name, m, path, NULL);
        v[0].precision = v[0].plan.precision;
        nv = 1;
        if (plan_source(m, path, ref_path, sizeof ref_path)) {
            if (av_model_load(ref_path, &source, err, sizeof err) != AV_STATUS_OK) {
                snprintf(cx->err, sizeof cx->err, "%s", err);
                goto done;
            }
            ref_model = source;
        } else if (strcmp(v[0].precision, "fp32") != 0) {
            fprintf(stderr, "autovoice bench: %s: the ONNX file it was built from is not there "
                            "unchanged: no accuracy figures\n", path);
            ref_model = NULL;
        }
    } else {
        for (int p = 0; p < cx->n_available; p++, nv++) {
            v[nv].precision = cx->available[p];
            v[nv].build = built_variant(run->device, v[nv].precision);
            v[nv].model = v[nv].build ? NULL : m;
            v[nv].load_ms = load_ms;
        }
    }
    for (int k = 0; k < run->n_seconds; k++) {
        double seconds = run->seconds[k];
        int64_t t = steps_of(seconds, c->rate);
        if (make_inputs(m, t, c->rate, BENCH_SEED, &in, err, sizeof err) != 0) {
            set_error(cx, path, err);
            goto done;
        }
        /* the reference: autovoice fp32 on the CPU, in a session of its own */
        if (ref_model) {
            if (open_session(ref_model, "cpu", "fp32", run->threads, &s, err, sizeof err) != AV_STATUS_OK) {
                snprintf(cx->err, sizeof cx->err, "%s", err);
                goto done;
            }
            if (bind_inputs(s, &in) != 0 || av_session_run(s) != AV_STATUS_OK) {
                set_error(cx, ref_path, av_session_last_error(s));
                goto done;
            }
            if (copy_outputs(ref_model, s, &ref, err, sizeof err) != 0) {
                set_error(cx, ref_path, err);
                goto done;
            }
            av_session_free(s);
            s = NULL;
        }
        if (cx->save_dir) {
            char dir[700], secs[32];
            format_seconds(secs, sizeof secs, seconds);
            snprintf(dir, sizeof dir, "%s/%s/%s/inputs", cx->save_dir, c->name, secs);
            for (int i = 0; i < in.n; i++)
                if (save_tensor(dir, &in.t[i], cx->err, sizeof cx->err) != 0)
                    goto done;
        }
        for (int p = 0; p < nv; p++) {
            if (v[p].build && !v[p].model) {
                if (!precision_available(cx, v[p].precision))
                    continue; /* found unbuildable by an earlier component */
                if (make_plan(cx, c, m, path, &v[p]) != 0) {
                    if (!precision_available(cx, v[p].precision))
                        continue;
                    set_error(cx, path, cx->err);
                    goto done;
                }
            }
            if (measure_component(cx, c->name, &v[p], seconds, (double)t / c->rate, &in, &ref,
                                  ref_path) != 0) {
                set_error(cx, path, cx->err);
                goto done;
            }
        }
        inputs_free(&in);
        outputs_free(&ref);
    }
    rc = 0;
done:
    inputs_free(&in);
    outputs_free(&ref);
    av_session_free(s);
    for (int p = 0; p < nv; p++)
        av_model_free(v[p].owned);
    av_model_free(source);
    av_model_free(m);
    return rc;
}

/* ---- the whole conversion ------------------------------------------------------------------ */

/* The library's log lines that say a component ran its ONNX file instead of its plan (a damaged
 * plan, shapes outside its profiles): a pipeline record lists them. */
typedef struct bench_log {
    int n;
    char lines[AV_BENCH_MAX_FALLBACKS][256];
    const char *view, *package; /* messages name the package, not the bench's copy of it */
} bench_log;

/* One variant of the pipeline: a converter on a copy of the package holding only its ONNX files
 * (fp32, and every GPU precision) or also the plans the bench built there. */
typedef struct pipeline_variant {
    const char *precision;
    const char *reference;       /* the package whose ONNX files made the reference */
    double load_ms;              /* av_converter_create */
    int have_build;
    double build_ms;             /* the plans' builds, summed */
    int n_plans;
    av_cli_bench_plan plans[AV_BENCH_MAX_PLANS];
    bench_log log;               /* fallbacks said since the converter was created */
} pipeline_variant;

static void catch_fallback(av_log_level level, const char *message, void *user)
{
    bench_log *log = user;
    char line[sizeof log->lines[0]];
    if (level > AV_LOG_LEVEL_INFO || !strstr(message, " instead"))
        return;
    const char *at = log->view ? strstr(message, log->view) : NULL;
    if (at)
        snprintf(line, sizeof line, "%.*s%s%s", (int)(at - message), message, log->package,
                 at + strlen(log->view));
    else
        snprintf(line, sizeof line, "%s", message);
    for (int i = 0; i < log->n; i++)
        if (!strcmp(log->lines[i], line))
            return;
    fprintf(stderr, "autovoice bench: %s\n", line);
    if (log->n < AV_BENCH_MAX_FALLBACKS)
        snprintf(log->lines[log->n++], sizeof log->lines[0], "%s", line);
}

/* A copy of package `dir` in the temporary directory, under `name`: a symbolic link to each of
 * its entries but its plans, so that a converter there runs the ONNX files, or the plans the
 * bench puts there. */
static int package_view(bench_ctx *cx, const char *dir, const char *name, char *out, size_t size)
{
    const char *tmp = tmp_dir(cx);
    char abs[4096];
    int rc = 0;
    if (!tmp)
        return -1;
    if (!realpath(dir, abs)) {
        snprintf(cx->err, sizeof cx->err, "%s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(out, size, "%s/%s", tmp, name);
    int made = mkdir(out, 0700) == 0;
    DIR *d = made ? opendir(abs) : NULL;
    if (!d) {
        snprintf(cx->err, sizeof cx->err, "%.1000s: %s", made ? abs : out, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        char from[4400], to[1400];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            (len > 5 && !strcmp(e->d_name + len - 5, ".plan")) ||
            (len > 9 && !strcmp(e->d_name + len - 9, ".plan.tmp")))
            continue;
        snprintf(from, sizeof from, "%s/%s", abs, e->d_name);
        snprintf(to, sizeof to, "%s/%s", out, e->d_name);
        if (symlink(from, to) != 0) {
            snprintf(cx->err, sizeof cx->err, "%s: %s", to, strerror(errno));
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

/* Builds every component of the package copy `view` into its `precision` plan there, as
 * `autovoice build --package VIEW --precision P` does (the configuration's profiles), with the
 * bench's calibration inputs; v gets what each plan is and the summed build time. 0; -1 with
 * cx->err, or with the precision skipped when this CPU or build cannot make it. */
static int build_package_plans(bench_ctx *cx, const char *view, pipeline_variant *v)
{
    char config[1200], err[1024], cal[256];
    if (build_config(cx, view, config, sizeof config) != 0)
        return -1;
    calib_description(cx->run, cal, sizeof cal);
    for (int i = 0; i < AV_PACKAGE_COMPONENTS; i++) {
        const char *name;
        char onnx[4096], plan[4096];
        av_model *m = NULL;
        double ms;
        av_status st = av_package_component(view, i, &name, onnx, plan, sizeof onnx, err, sizeof err);
        if (st == AV_STATUS_NOT_FOUND)
            continue;
        const struct bench_component *c = st == AV_STATUS_OK ? find_component(name) : NULL;
        if (st == AV_STATUS_OK && !c) {
            snprintf(err, sizeof err, "%s: a component the bench does not know", name);
            st = AV_STATUS_INTERNAL;
        }
        if (st == AV_STATUS_OK)
            st = av_model_load(onnx, &m, err, sizeof err);
        if (st != AV_STATUS_OK) {
            snprintf(cx->err, sizeof cx->err, "%s", err);
            return -1;
        }
        st = build_plan(cx, c, m, onnx, plan, v->precision, config, NULL, 0, &ms);
        av_model_free(m);
        m = NULL;
        if (st == AV_STATUS_UNSUPPORTED)
            skip_precision(cx, v->precision, cx->err);
        if (st != AV_STATUS_OK)
            return -1;
        v->build_ms += ms;
        if (av_model_load(plan, &m, err, sizeof err) != AV_STATUS_OK) {
            snprintf(cx->err, sizeof cx->err, "the plan just built does not load: %s", err);
            return -1;
        }
        describe_plan(&v->plans[v->n_plans++], name, m, NULL,
                      !strcmp(v->precision, "int8") ? cal : NULL);
        av_model_free(m);
    }
    return 0;
}

/* `src` repeated to `seconds` (at least one sample). */
static int loop_audio(const av_audio *src, double seconds, av_audio *out)
{
    int64_t n = (int64_t)llround(seconds * src->sample_rate);
    n = n < 1 ? 1 : n;
    out->samples = malloc((size_t)n * sizeof *out->samples);
    if (!out->samples)
        return -1;
    for (int64_t i = 0; i < n; i++)
        out->samples[i] = src->samples[i % src->frames];
    out->frames = n;
    out->sample_rate = src->sample_rate;
    return 0;
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return av_cli_percentile(v, (size_t)n, 50);
}

/* Medians of each stage time over the runs. */
static void stage_medians(const av_convert_stats *st, int n, av_convert_stats *out, double *tmp)
{
    *out = st[0];
#define STAGE(field)                                  \
    do {                                              \
        for (int i = 0; i < n; i++)                   \
            tmp[i] = st[i].field;                     \
        out->field = median_of(tmp, n);               \
    } while (0)
    STAGE(total);
    STAGE(resample_in);
    STAGE(f0);
    STAGE(content);
    STAGE(pitch);
    STAGE(flow);
    STAGE(mel);
    STAGE(vocoder);
    STAGE(assemble);
    STAGE(resample_out);
#undef STAGE
}

static int measure_pipeline(bench_ctx *cx, av_converter *cv, const pipeline_variant *v,
                            double seconds, const av_audio *in, const av_audio *ref)
{
    av_cli_bench_run *run = cx->run;
    av_convert_config cfg = av_convert_config_default();
    av_audio out = {0};
    double *times = calloc((size_t)run->repeat, sizeof *times);
    av_convert_stats *st = calloc((size_t)run->repeat, sizeof *st);
    int rc = -1;
    if (!times || !st) {
        snprintf(cx->err, sizeof cx->err, "out of memory");
        goto done;
    }
    for (int i = 0; i < run->warmup + run->repeat; i++) {
        av_audio_free(&out);
        double t = now_ms();
        if (av_convert(cv, in, &cfg, &out) != AV_STATUS_OK) {
            snprintf(cx->err, sizeof cx->err, "%s", av_converter_last_error(cv));
            goto done;
        }
        if (i >= run->warmup) {
            times[i - run->warmup] = now_ms() - t;
            av_converter_last_stats(cv, &st[i - run->warmup]);
        }
    }
    av_cli_bench_record *r = new_record(run);
    if (!r) {
        snprintf(cx->err, sizeof cx->err, "out of memory");
        goto done;
    }
    snprintf(r->component, sizeof r->component, "pipeline");
    snprintf(r->precision, sizeof r->precision, "%s", v->precision);
    r->seconds = seconds;
    r->audio_seconds = (double)in->frames / in->sample_rate;
    r->load_ms = v->load_ms;
    r->have_build = v->have_build;
    r->build_ms = v->build_ms;
    r->n_plans = v->n_plans;
    memcpy(r->plans, v->plans, sizeof r->plans);
    snprintf(r->reference, sizeof r->reference, "%s", v->reference);
    /* a component that fell back to its ONNX file stays so: the lines so far hold for this run */
    r->n_fallbacks = v->log.n;
    memcpy(r->fallbacks, v->log.lines, sizeof r->fallbacks);
    r->warmup = run->warmup;
    set_latency(r, times, run->repeat);
    r->have_stages = 1;
    stage_medians(st, run->repeat, &r->stages, times);
    r->output_rate = out.sample_rate;
    r->n_inputs = r->n_outputs = 1;
    av_tensor ti = {.name = "audio", .dtype = AV_DTYPE_FLOAT32, .ndim = 1, .shape = {in->frames}};
    av_tensor to = {.name = "audio", .dtype = AV_DTYPE_FLOAT32, .ndim = 1, .shape = {out.frames},
                    .data = out.samples};
    describe(&r->inputs[0], &ti);
    describe(&r->outputs[0], &to);
    if (out.frames == ref->frames) {
        av_cli_accuracy_compute(ref->samples, out.samples, out.frames, &r->outputs[0].accuracy);
        r->outputs[0].have_accuracy = 1;
    }
    if (cx->save_dir) {
        char dir[700], secs[32];
        format_seconds(secs, sizeof secs, seconds);
        snprintf(r->saved, sizeof r->saved, "%s/pipeline/%s", cx->save_dir, secs);
        snprintf(dir, sizeof dir, "%s/autovoice-%s", r->saved, v->precision);
        if (save_tensor(dir, &to, cx->err, sizeof cx->err) != 0)
            goto done;
    }
    r->rss_peak_bytes = peak_rss_bytes();
    run->n_records++;
    av_cli_bench_print_record(stdout, r);
    rc = 0;
done:
    av_audio_free(&out);
    free(times);
    free(st);
    return rc;
}

static int bench_pipeline(bench_ctx *cx, const char *dir)
{
    av_cli_bench_run *run = cx->run;
    av_audio src = {0}, in = {0}, *refs = calloc((size_t)run->n_seconds, sizeof *refs);
    av_converter *cv = NULL;
    av_convert_config cfg = av_convert_config_default();
    pipeline_variant *v = calloc(1, sizeof *v);
    const char *want[AV_BENCH_MAX_LIST];
    char onnx_view[700], view[700] = "";
    int n_want = cx->n_available, rc = -1;
    if (!refs || !v) {
        snprintf(cx->err, sizeof cx->err, "out of memory");
        goto done;
    }
    memcpy(want, cx->available, sizeof want);
    if (av_audio_read(run->input, &src, cx->err, sizeof cx->err) != AV_STATUS_OK)
        goto done;
    /* the package's ONNX files alone, whatever plans it holds: fp32 is the ONNX graph */
    if (package_view(cx, dir, "package-onnx", onnx_view, sizeof onnx_view) != 0)
        goto done;
    /* the references first, from a converter of their own that is gone before the timing */
    if (open_converter(onnx_view, "cpu", "fp32", run->threads, &cv, cx->err, sizeof cx->err) != AV_STATUS_OK)
        goto done;
    for (int k = 0; k < run->n_seconds; k++) {
        if (loop_audio(&src, run->seconds[k], &in) != 0) {
            snprintf(cx->err, sizeof cx->err, "out of memory");
            goto done;
        }
        if (av_convert(cv, &in, &cfg, &refs[k]) != AV_STATUS_OK) {
            set_error(cx, run->input, av_converter_last_error(cv));
            goto done;
        }
        if (cx->save_dir) {
            char path[1200], secs[32];
            format_seconds(secs, sizeof secs, run->seconds[k]);
            snprintf(path, sizeof path, "%s/pipeline/%s/inputs", cx->save_dir, secs);
            av_tensor t = {.name = "audio", .dtype = AV_DTYPE_FLOAT32, .ndim = 1,
                           .shape = {in.frames}, .data = in.samples};
            if (save_tensor(path, &t, cx->err, sizeof cx->err) != 0)
                goto done;
        }
        av_audio_free(&in);
    }
    av_converter_free(cv);
    cv = NULL;

    for (int p = 0; p < n_want; p++) {
        if (!precision_available(cx, want[p]))
            continue; /* found unbuildable by a component */
        memset(v, 0, sizeof *v);
        v->precision = want[p];
        v->reference = dir;
        const char *use = onnx_view;
        if (built_variant(run->device, want[p])) {
            char name[64];
            snprintf(name, sizeof name, "package-%s", want[p]);
            v->have_build = 1;
            if (package_view(cx, dir, name, view, sizeof view) != 0)
                goto done;
            if (build_package_plans(cx, view, v) != 0) {
                if (!precision_available(cx, want[p])) {
                    remove_tree(view);
                    continue;
                }
                set_error(cx, dir, cx->err);
                goto done;
            }
            use = view;
        }
        v->log.view = use;
        v->log.package = dir;
        av_log_set_callback(catch_fallback, &v->log);
        double t0 = now_ms();
        if (open_converter(use, run->device, want[p], run->threads, &cv, cx->err,
                           sizeof cx->err) != AV_STATUS_OK)
            goto done;
        v->load_ms = now_ms() - t0;
        for (int k = 0; k < run->n_seconds; k++) {
            if (loop_audio(&src, run->seconds[k], &in) != 0) {
                snprintf(cx->err, sizeof cx->err, "out of memory");
                goto done;
            }
            if (measure_pipeline(cx, cv, v, run->seconds[k], &in, &refs[k]) != 0) {
                set_error(cx, run->input, cx->err);
                goto done;
            }
            av_audio_free(&in);
        }
        av_log_set_callback(NULL, NULL);
        av_converter_free(cv);
        cv = NULL;
        if (view[0]) {
            remove_tree(view);
            view[0] = '\0';
        }
    }
    rc = 0;
done:
    av_log_set_callback(NULL, NULL);
    for (int k = 0; refs && k < run->n_seconds; k++)
        av_audio_free(&refs[k]);
    free(refs);
    free(v);
    av_audio_free(&src);
    av_audio_free(&in);
    av_converter_free(cv);
    return rc;
}

/* ---- options ------------------------------------------------------------------------------ */

/* Splits a comma-separated list in place; 0 when empty, too long or with an empty item. */
static int split_list(char *s, const char **items, int *n)
{
    *n = 0;
    for (char *tok = s;;) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        if (!*tok || *n == AV_BENCH_MAX_LIST)
            return 0;
        items[(*n)++] = tok;
        if (!comma)
            return 1;
        tok = comma + 1;
    }
}

static const struct bench_component *find_component(const char *name)
{
    for (int i = 0; i < N_COMPONENTS; i++)
        if (!strcmp(components[i].name, name))
            return &components[i];
    return NULL;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void quote_command(char *out, size_t size, int argc, char **argv)
{
    size_t k = (size_t)snprintf(out, size, "autovoice");
    for (int i = 0; i < argc && k < size; i++) {
        const char *a = argv[i];
        int plain = *a != '\0';
        for (const char *c = a; *c; c++)
            plain &= strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/=,:+@%", *c) != NULL;
        k += (size_t)snprintf(out + k, size - k, plain ? " %s" : " '", a);
        if (!plain) {
            for (const char *c = a; *c && k + 5 < size; c++)
                k += (size_t)snprintf(out + k, size - k, *c == '\'' ? "'\\''" : "%c", *c);
            k += (size_t)snprintf(out + k, size - k, "'");
        }
    }
}

int av_cli_bench(int argc, char **argv)
{
    av_cli_bench_run run = {0};
    bench_ctx cx = {.run = &run};
    run.model = "models/default";
    run.input = "examples/example-sung.wav";
    run.device = "cpu";
    run.repeat = 10;
    run.warmup = 1;
    const char *json_path = NULL, *md_path = NULL;
    int use_plans = 0, precision_given = 0;
    const char *component_arg = "all", *precision_arg = "fp32", *seconds_arg = "1,10";
    /* the lists are split in copies: argv stays as given, for the command line in the report */
    char component_list[256], precision_list[256], seconds_list[256];
    quote_command(run.command, sizeof run.command, argc, argv);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(bench_help, stdout);
            fputs(bench_help_more, stdout);
            return AV_CLI_OK;
        } else if (!strcmp(a, "--model") && next) {
            run.model = argv[++i];
        } else if (!strcmp(a, "--component") && next) {
            component_arg = argv[++i];
        } else if (!strcmp(a, "--device") && next) {
            run.device = argv[++i];
        } else if (!strcmp(a, "--precision") && next) {
            precision_arg = argv[++i];
            precision_given = 1;
        } else if (!strcmp(a, "--seconds") && next) {
            seconds_arg = argv[++i];
        } else if (!strcmp(a, "--threads") && next && av_cli_parse_int(next, 1, 1024, &run.threads)) {
            i++;
        } else if (!strcmp(a, "--repeat") && next && av_cli_parse_int(next, 1, 100000, &run.repeat)) {
            i++;
        } else if (!strcmp(a, "--warmup") && next && av_cli_parse_int(next, 0, 100000, &run.warmup)) {
            i++;
        } else if (!strcmp(a, "--input") && next) {
            run.input = argv[++i];
        } else if (!strcmp(a, "--json") && next) {
            json_path = argv[++i];
        } else if (!strcmp(a, "--markdown") && next) {
            md_path = argv[++i];
        } else if (!strcmp(a, "--plans")) {
            use_plans = 1;
        } else if (!strcmp(a, "--save-tensors") && next) {
            cx.save_dir = argv[++i];
        } else {
            fprintf(stderr, "autovoice bench: unknown, incomplete or out-of-range option '%s' "
                            "(see autovoice bench --help)\n", a);
            return AV_CLI_USAGE;
        }
    }
    {
        av_device_kind kind;
        int index;
        char derr[256];
        if (av_device_parse(run.device, &kind, &index, derr, sizeof derr) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice bench: %s\n", derr);
            return AV_CLI_USAGE;
        }
    }
    const char *items[AV_BENCH_MAX_LIST];
    int n_items;
    snprintf(component_list, sizeof component_list, "%s", component_arg);
    snprintf(precision_list, sizeof precision_list, "%s", precision_arg);
    snprintf(seconds_list, sizeof seconds_list, "%s", seconds_arg);
    if (!split_list(seconds_list, items, &n_items)) {
        fprintf(stderr, "autovoice bench: bad --seconds '%s' (want a list like 1,10)\n", seconds_arg);
        return AV_CLI_USAGE;
    }
    for (int i = 0; i < n_items; i++) {
        double v;
        if (!av_cli_parse_double(items[i], 0.01, 600, &v)) {
            fprintf(stderr, "autovoice bench: bad --seconds item '%s' (0.01 to 600)\n", items[i]);
            return AV_CLI_USAGE;
        }
        int dup = 0;
        for (int k = 0; k < run.n_seconds; k++)
            dup |= run.seconds[k] == v;
        if (!dup)
            run.seconds[run.n_seconds++] = v;
    }
    /* shortest first: the process's peak RSS after each record is then that record's own */
    qsort(run.seconds, (size_t)run.n_seconds, sizeof run.seconds[0], cmp_double);
    if (!split_list(precision_list, run.precisions, &run.n_precisions)) {
        fprintf(stderr, "autovoice bench: bad --precision '%s' (want a list like fp32,bf16)\n", precision_arg);
        return AV_CLI_USAGE;
    }
    int n_unique = 0;
    for (int i = 0; i < run.n_precisions; i++) {
        int known = 0, dup = 0;
        for (size_t k = 0; k < sizeof known_precisions / sizeof known_precisions[0]; k++)
            known |= !strcmp(run.precisions[i], known_precisions[k]);
        if (!known) {
            fprintf(stderr, "autovoice bench: unknown precision '%s' (fp32, fp16, bf16, int8)\n",
                    run.precisions[i]);
            return AV_CLI_USAGE;
        }
        for (int k = 0; k < n_unique; k++)
            dup |= !strcmp(run.precisions[k], run.precisions[i]);
        if (!dup)
            run.precisions[n_unique++] = run.precisions[i];
    }
    run.n_precisions = n_unique;
    if (!split_list(component_list, items, &n_items)) {
        fprintf(stderr, "autovoice bench: bad --component '%s'\n", component_arg);
        return AV_CLI_USAGE;
    }
    int want[N_COMPONENTS] = {0}, want_pipeline = 0, all = 0;
    for (int i = 0; i < n_items; i++) {
        const struct bench_component *c = find_component(items[i]);
        if (c)
            want[c - components] = 1;
        else if (!strcmp(items[i], "pipeline"))
            want_pipeline = 1;
        else if (!strcmp(items[i], "all"))
            all = 1;
        else {
            fprintf(stderr, "autovoice bench: unknown component '%s' (content_encoder, pitch_encoder, "
                            "flow_decoder, mel_projection, vocoder, pipeline, all)\n", items[i]);
            return AV_CLI_USAGE;
        }
    }

    /* a package, or one component's file */
    int package = is_dir(run.model);
    char paths[N_COMPONENTS][1024];
    if (package) {
        for (int i = 0; i < N_COMPONENTS; i++) {
            snprintf(paths[i], sizeof paths[i], "%s/%s.%s", run.model, components[i].name,
                     use_plans ? "plan" : "onnx");
            if (access(paths[i], R_OK) == 0) {
                want[i] |= all;
            } else if (want[i]) {
                fprintf(stderr, "autovoice: %s: no such file in the package\n", paths[i]);
                return AV_CLI_FAILED;
            } else if (all) {
                fprintf(stderr, "autovoice bench: %s: not in the package; skipped\n", components[i].name);
            }
        }
        want_pipeline |= all;
    } else {
        if (access(run.model, R_OK) != 0) {
            fprintf(stderr, "autovoice: %s: %s\n", run.model, strerror(errno));
            return AV_CLI_FAILED;
        }
        if (want_pipeline) {
            fprintf(stderr, "autovoice bench: the pipeline needs a model package directory, not %s\n", run.model);
            return AV_CLI_USAGE;
        }
        int named = 0;
        for (int i = 0; i < N_COMPONENTS; i++)
            named += want[i];
        if (!named) { /* which component is the file? its name says, or what a plan records */
            const char *base = strrchr(run.model, '/');
            base = base ? base + 1 : run.model;
            for (int i = 0; i < N_COMPONENTS; i++) {
                size_t n = strlen(components[i].name);
                if (!strncmp(base, components[i].name, n) &&
                    (!strcmp(base + n, ".onnx") || !strcmp(base + n, ".plan")))
                    want[i] = named = 1;
            }
            av_model *m = NULL;
            av_plan_info info;
            char err[1024];
            if (!named && has_suffix(run.model, ".plan")) {
                if (av_model_load(run.model, &m, err, sizeof err) != AV_STATUS_OK) {
                    fprintf(stderr, "autovoice: %s\n", err);
                    return AV_CLI_FAILED;
                }
                const struct bench_component *c =
                    av_model_plan_info(m, &info) == AV_STATUS_OK ? find_component(info.component) : NULL;
                if (c)
                    want[c - components] = named = 1;
                av_model_free(m);
            }
        }
        if (named != 1) {
            fprintf(stderr, "autovoice bench: say which component %s is: --component NAME "
                            "(content_encoder, pitch_encoder, flow_decoder, mel_projection, vocoder)\n",
                    run.model);
            return AV_CLI_USAGE;
        }
        for (int i = 0; i < N_COMPONENTS; i++)
            snprintf(paths[i], sizeof paths[i], "%s", run.model);
    }
    for (int i = 0; i < N_COMPONENTS; i++)
        if (want[i])
            run.components[run.n_components++] = components[i].name;
    if (want_pipeline)
        run.components[run.n_components++] = "pipeline";

    if (run.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        run.threads = n > 0 ? (int)n : 1;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(run.date, sizeof run.date, "%Y-%m-%dT%H:%M:%SZ", &tm);

    /* the variants: those this build cannot run are said once and skipped */
    for (int i = 0; i < run.n_precisions; i++) {
        const char *why = variant_unavailable(run.device, run.precisions[i]);
        if (!why) {
            cx.available[cx.n_available++] = run.precisions[i];
            continue;
        }
        fprintf(stderr, "autovoice bench: %s on %s: %s (skipped)\n", run.precisions[i], run.device, why);
        if (run.n_skips < (int)(sizeof run.skips / sizeof run.skips[0])) {
            av_cli_bench_skip *s = &run.skips[run.n_skips++];
            snprintf(s->precision, sizeof s->precision, "%s", run.precisions[i]);
            snprintf(s->device, sizeof s->device, "%s", run.device);
            snprintf(s->reason, sizeof s->reason, "%s", why);
        }
    }
    /* plan files on the CPU run as built, whatever --precision asks */
    int given_plans = is_cpu(run.device) && (package ? use_plans : has_suffix(run.model, ".plan"));
    if (!run.n_components || (!cx.n_available && (want_pipeline || !given_plans))) {
        fprintf(stderr, "autovoice bench: nothing to measure\n");
        return AV_CLI_FAILED;
    }
    if (given_plans && precision_given)
        fprintf(stderr, "autovoice bench: plans run as built, under their own precision; --precision "
                        "chooses the variants of ONNX models%s\n", want_pipeline ? " and of the pipeline" : "");
    cx.package = package ? run.model : NULL;

    printf("autovoice bench: %s, %s, %d thread%s, %d run%s after %d warm-up\n", run.model,
           run.device, run.threads, run.threads == 1 ? "" : "s", run.repeat,
           run.repeat == 1 ? "" : "s", run.warmup);
    int rc = AV_CLI_OK;
    for (int i = 0; i < N_COMPONENTS && rc == AV_CLI_OK; i++)
        if (want[i] && bench_component(&cx, &components[i], paths[i]) != 0)
            rc = AV_CLI_FAILED;
    if (rc == AV_CLI_OK && want_pipeline && bench_pipeline(&cx, run.model) != 0)
        rc = AV_CLI_FAILED;
    if (rc != AV_CLI_OK)
        fprintf(stderr, "autovoice: %s\n", cx.err);
    if (cx.tmp[0])
        remove_tree(cx.tmp);
    char err[1024];
    if (rc == AV_CLI_OK && json_path && av_cli_bench_write_json(json_path, &run, err, sizeof err) != 0) {
        fprintf(stderr, "autovoice: %s\n", err);
        rc = AV_CLI_FAILED;
    }
    if (rc == AV_CLI_OK && md_path && av_cli_bench_write_markdown(md_path, &run, err, sizeof err) != 0) {
        fprintf(stderr, "autovoice: %s\n", err);
        rc = AV_CLI_FAILED;
    }
    free(run.records);
    return rc;
}
