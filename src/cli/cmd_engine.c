/* `autovoice inspect` and `autovoice run`: the engine on any ONNX model (our trtexec). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "autovoice/engine.h"
#include "cli.h"

static void print_tensor_info(const av_tensor *t)
{
    printf("  %-24s %-8s [", t->name, av_dtype_name(t->dtype));
    if (t->ndim < 0)
        printf("?");
    for (int d = 0; d < t->ndim; d++) {
        if (d)
            printf(", ");
        if (t->dim_names[d])
            printf("%s", t->dim_names[d]);
        else if (t->shape[d] < 0)
            printf("?");
        else
            printf("%lld", (long long)t->shape[d]);
    }
    printf("]\n");
}

static void print_op(const char *op, int count, void *user)
{
    (void)user;
    printf("  %-24s %d\n", op, count);
}

static void print_dims(const int64_t *d, int n)
{
    for (int k = 0; k < n; k++)
        printf("%s%lld", k ? "x" : "", (long long)d[k]);
}

/* What a plan records (nothing for ONNX models). */
static void print_plan(const av_model *m)
{
    av_plan_info p;
    if (av_model_plan_info(m, &p) != AV_STATUS_OK)
        return;
    printf("plan file: format %d, built by autovoice %s for %s (needs CPU features: %s; built on: %s)\n"
           "  precision %s (", p.format_version, p.library_version, p.target, p.cpu_needed,
           p.cpu_built_on, av_precision_name(p.precision));
    for (int i = AV_PRECISION_FP32, first = 1; i <= AV_PRECISION_INT8; i++)
        if (p.nodes_by_precision[i]) {
            printf("%s%d nodes %s", first ? "" : ", ", p.nodes_by_precision[i],
                   av_precision_name((av_precision)i));
            first = 0;
        }
    printf("), %.2f MB of weights in a %.2f MB file\n", (double)p.weight_bytes / 1e6,
           (double)p.file_bytes / 1e6);
    if (p.source_path[0])
        printf("  built from %s (%lld bytes, xxh64 %016llx)%s%s\n", p.source_path,
               (long long)p.source_size, (unsigned long long)p.source_hash,
               p.component[0] ? " as component " : "", p.component);
    printf("  profiles:%s\n", p.n_profiles ? "" : " none (any shape)");
    for (int i = 0; i < p.n_profiles; i++) {
        av_plan_profile pr;
        av_model_plan_profile(m, i, &pr);
        printf("    %-22s min ", pr.input);
        print_dims(pr.min, pr.ndim);
        printf(", opt ");
        print_dims(pr.opt, pr.ndim);
        printf(", max ");
        print_dims(pr.max, pr.ndim);
        printf("\n");
    }
}

/* "1x80x87" -> shape; returns ndim or -1. */
static int parse_shape(const char *s, int64_t *shape)
{
    int n = 0;
    if (!*s)
        return 0; /* scalar */
    while (*s) {
        if (n == AV_MAX_DIMS)
            return -1;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || errno || v < 0)
            return -1;
        shape[n++] = v;
        if (*end == 'x' || *end == ',')
            end++;
        else if (*end)
            return -1;
        s = end;
    }
    return n;
}

int av_cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi))
        return 0;
    *out = v;
    return 1;
}

int av_cli_parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return 0;
    *out = (int)v;
    return 1;
}

static void human_bytes(size_t b, char *out, size_t n)
{
    if (b >= ((size_t)1 << 20))
        snprintf(out, n, "%.2f MiB", (double)b / (1 << 20));
    else if (b >= 1024)
        snprintf(out, n, "%.1f KiB", (double)b / 1024);
    else
        snprintf(out, n, "%zu B", b);
}

int av_cli_device_config(const char *cmd, const char *device, const char *precision,
                         av_session_config *cfg)
{
    char err[256];
    av_device_kind kind = AV_DEVICE_CPU;
    int index = 0;
    if (device && av_device_parse(device, &kind, &index, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice %s: %s\n", cmd, err);
        return 0;
    }
    cfg->device = kind;
    cfg->device_index = index;
    cfg->gpu_math = AV_GPU_FP32;
    if (!precision || !strcmp(precision, "fp32"))
        return 1;
    if (kind == AV_DEVICE_CPU) {
        fprintf(stderr, "autovoice %s: --precision %s needs --device cuda (on the CPU a plan "
                        "carries its precision: autovoice build --precision)\n", cmd, precision);
        return 0;
    }
    if (!strcmp(precision, "tf32"))
        cfg->gpu_math = AV_GPU_TF32;
    else if (!strcmp(precision, "fp16"))
        cfg->gpu_math = AV_GPU_FP16;
    else {
        fprintf(stderr, "autovoice %s: unknown --precision '%s' (fp32, tf32 or fp16 on cuda)\n",
                cmd, precision);
        return 0;
    }
    return 1;
}

static const char inspect_help[] =
    "usage: autovoice inspect MODEL.onnx|MODEL.plan [--shape NAME=DxDx... ...] [--threads N]\n"
    "                         [--device cpu|cuda[:N]] [--precision fp32|tf32|fp16]\n"
    "\n"
    "Describes an ONNX model as autovoice's engine loads it: inputs and outputs with their\n"
    "symbolic shapes, operators used, parameter count, what the load passes folded; for a plan\n"
    "(autovoice build) also its builder, target, precision, source and profiles. With a\n"
    "--shape for each dynamic input, also plans a session: arena bytes (and the naive sum),\n"
    "in-place nodes and GFLOP of one run; with --device cuda, the GPU memory of the plan and\n"
    "every node that would run on the CPU fallback (no CUDA kernel for it) and why.\n"
    "\n"
    "examples:\n"
    "  autovoice inspect models/default/vocoder.onnx\n"
    "  autovoice inspect models/default/vocoder.onnx --shape mel_input=1x80x87\n"
    "  autovoice inspect models/default/vocoder.plan\n"
    "  autovoice inspect models/default/flow_decoder.onnx --device cuda --shape latent_input=1x192x100 ...\n"
    "\n"
    "exit status: 0 done; 1 the model could not be loaded or planned; 2 a usage error.\n";

static const char run_help[] =
    "usage: autovoice run MODEL.onnx|MODEL.plan --input NAME=FILE.npy ... [--output-dir DIR]\n"
    "                     [--threads N] [--repeat N] [--warmup N]\n"
    "                     [--device cpu|cuda[:N]] [--precision fp32|tf32|fp16] [--profile]\n"
    "\n"
    "Runs any ONNX model (or a plan from autovoice build) with inputs from .npy files, writes\n"
    "every output as DIR/NAME.npy (default: the current directory) and prints the median\n"
    "latency over --repeat runs after --warmup runs. --device cuda runs it on an NVIDIA GPU\n"
    "(builds with the CUDA backend): --precision fp32 (exact float32, default), tf32 (float32\n"
    "on TF32 tensor cores) or fp16 (float16 storage, float32 accumulation); a GPU latency\n"
    "includes the input upload and output download. --profile then runs once node by node and\n"
    "prints where the time went: per operator type and the slowest nodes (GPU time by CUDA\n"
    "events on cuda, wall time on the CPU).\n"
    "\n"
    "examples:\n"
    "  autovoice run vocoder.onnx --input mel_input=mel.npy --output-dir out/\n"
    "  autovoice run vocoder.onnx --input mel_input=mel.npy --threads 2 --repeat 20\n"
    "  autovoice run vocoder.onnx --input mel_input=mel.npy --device cuda --precision fp16 --repeat 50\n"
    "\n"
    "exit status: 0 done; 1 a file, the model or a run failed; 2 a usage error.\n";

int av_cli_inspect(int argc, char **argv)
{
    const char *path = NULL, *device = NULL, *precision = NULL;
    int threads = 1;
    struct { const char *name; int ndim; int64_t shape[AV_MAX_DIMS]; } shapes[64];
    int n_shapes = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(inspect_help, stdout);
            return AV_CLI_OK;
        } else if (!strcmp(argv[i], "--shape") && i + 1 < argc) {
            char *spec = argv[++i], *eq = strchr(spec, '=');
            if (!eq || n_shapes == 64 ||
                (shapes[n_shapes].ndim = parse_shape(eq + 1, shapes[n_shapes].shape)) < 0) {
                fprintf(stderr, "autovoice inspect: bad --shape '%s' (want NAME=1x80x87)\n", spec);
                return AV_CLI_USAGE;
            }
            *eq = '\0';
            shapes[n_shapes++].name = spec;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (!av_cli_parse_int(argv[++i], 1, 1024, &threads)) {
                fprintf(stderr, "autovoice inspect: bad --threads '%s'\n", argv[i]);
                return AV_CLI_USAGE;
            }
        } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            device = argv[++i];
        } else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
            precision = argv[++i];
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            fprintf(stderr, "autovoice inspect: unknown or incomplete option '%s'\n", argv[i]);
            return AV_CLI_USAGE;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: autovoice inspect MODEL.onnx [--shape NAME=DxDxD ...]\n");
        return AV_CLI_USAGE;
    }
    av_session_config cfg = av_session_config_default();
    cfg.threads = threads;
    if (!av_cli_device_config("inspect", device, precision, &cfg))
        return AV_CLI_USAGE;
    char err[1024];
    av_model *m;
    if (av_model_load(path, &m, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        return AV_CLI_FAILED;
    }
    av_model_stats st;
    av_model_get_stats(m, &st);
    printf("%s\n  producer %s, IR version %lld, opset %lld\n  %d nodes after optimisation, "
           "%lld parameters\n", path, st.producer[0] ? st.producer : "(unknown)",
           (long long)st.ir_version, (long long)st.opset, st.nodes, (long long)st.parameters);
    if (av_model_pass_count(m) > 0)
        printf("load passes:\n");
    for (int i = 0; i < av_model_pass_count(m); i++) {
        av_model_pass_info p;
        av_model_pass(m, i, &p);
        printf("  %-32s %3d rewrites, %3d nodes removed", p.name, p.rewrites, p.nodes_removed);
        if (p.nodes_added)
            printf(", %d fused nodes added", p.nodes_added);
        printf("\n");
    }
    print_plan(m);
    printf("inputs:\n");
    int n_in = av_model_input_count(m);
    int shapes_complete = 1;
    for (int i = 0; i < n_in; i++) {
        av_tensor t;
        av_model_input(m, i, &t);
        print_tensor_info(&t);
        int given = 0;
        for (int k = 0; k < n_shapes; k++)
            given |= !strcmp(shapes[k].name, t.name);
        int fixed = t.ndim >= 0;
        for (int d = 0; d < t.ndim; d++)
            fixed &= t.shape[d] >= 0 && !t.dim_names[d];
        if (!given && !fixed)
            shapes_complete = 0;
    }
    printf("outputs:\n");
    for (int i = 0; i < av_model_output_count(m); i++) {
        av_tensor t;
        av_model_output(m, i, &t);
        print_tensor_info(&t);
    }
    printf("operators:\n");
    av_model_op_histogram(m, print_op, NULL);

    int rc = AV_CLI_OK;
    if (!shapes_complete) {
        printf("plan: give --shape NAME=DxDx... for every input with symbolic dimensions to see "
               "the arena size and FLOPs\n");
        av_model_free(m);
        return rc;
    }
    av_session *s = NULL;
    void *buffers[64] = {0};
    if (av_session_create(m, &cfg, &s, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        av_model_free(m);
        return AV_CLI_FAILED;
    }
    for (int i = 0; i < n_in && i < 64; i++) {
        av_tensor t;
        av_model_input(m, i, &t);
        int ndim = t.ndim;
        int64_t shape[AV_MAX_DIMS];
        memcpy(shape, t.shape, sizeof shape);
        for (int k = 0; k < n_shapes; k++)
            if (!strcmp(shapes[k].name, t.name)) {
                ndim = shapes[k].ndim;
                memcpy(shape, shapes[k].shape, sizeof shape);
            }
        size_t bytes = av_dtype_size(t.dtype);
        for (int d = 0; d < ndim; d++)
            bytes *= (size_t)shape[d];
        buffers[i] = calloc(1, bytes ? bytes : 1);
        if (!buffers[i] || av_session_set_input(s, t.name, t.dtype, ndim, shape, buffers[i])) {
            fprintf(stderr, "autovoice: %s\n", buffers[i] ? av_session_last_error(s) : "out of memory");
            rc = AV_CLI_FAILED;
            goto done;
        }
    }
    if (av_session_prepare(s) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s: %s\n", path, av_session_last_error(s));
        rc = AV_CLI_FAILED;
        goto done;
    }
    av_session_memory mem;
    av_session_get_memory(s, &mem);
    char a[32], b[32], c[32];
    human_bytes(mem.arena_bytes, a, sizeof a);
    human_bytes(mem.naive_bytes, b, sizeof b);
    human_bytes(mem.planned_bytes, c, sizeof c);
    printf("plan for these shapes:\n  %d nodes run per inference (%d in place), %.3f GFLOP "
           "(convolutions and matrix products)\n  arena %s (without reuse: %s), computed while "
           "planning: %s\n", mem.runtime_nodes, mem.in_place_nodes, mem.gflop, a, b, c);
    if (cfg.device != AV_DEVICE_CPU) {
        char where[4096];
        av_session_describe_device(s, where, sizeof where);
        printf("  %s", where);
    }
done:
    for (int i = 0; i < 64; i++)
        free(buffers[i]);
    av_session_free(s);
    av_model_free(m);
    return rc;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* --profile: every node's time from av_session_profile, then the top nodes and the totals per
 * operator type. */
typedef struct profile_rows {
    int n, cap;
    struct profile_row { char node[96], op[40]; double ms; } *rows;
} profile_rows;

static void profile_collect(const char *node, const char *op_type, double ms, void *user)
{
    profile_rows *pr = user;
    if (pr->n == pr->cap) {
        int cap = pr->cap ? 2 * pr->cap : 256;
        struct profile_row *r = realloc(pr->rows, (size_t)cap * sizeof *r);
        if (!r)
            return;
        pr->rows = r;
        pr->cap = cap;
    }
    struct profile_row *r = &pr->rows[pr->n++];
    snprintf(r->node, sizeof r->node, "%s", node);
    snprintf(r->op, sizeof r->op, "%s", op_type);
    r->ms = ms;
}

static int cmp_row_ms(const void *a, const void *b)
{
    double x = ((const struct profile_row *)a)->ms, y = ((const struct profile_row *)b)->ms;
    return x > y ? -1 : x < y;
}

static void print_profile(profile_rows *pr, int gpu)
{
    double total = 0;
    for (int i = 0; i < pr->n; i++)
        total += pr->rows[i].ms;
    printf("profile (%s, one run node by node): %d nodes, %.3f ms in all\n",
           gpu ? "GPU time by CUDA events" : "wall time", pr->n, total);
    /* per operator type */
    struct profile_row *by_op = calloc((size_t)pr->n + 1, sizeof *by_op);
    int *counts = calloc((size_t)pr->n + 1, sizeof *counts);
    int n_ops = 0;
    for (int i = 0; by_op && counts && i < pr->n; i++) {
        int k = 0;
        while (k < n_ops && strcmp(by_op[k].op, pr->rows[i].op) != 0)
            k++;
        if (k == n_ops) {
            snprintf(by_op[k].op, sizeof by_op[k].op, "%s", pr->rows[i].op);
            n_ops++;
        }
        by_op[k].ms += pr->rows[i].ms;
        snprintf(by_op[k].node, sizeof by_op[k].node, "%d", ++counts[k]);
    }
    if (by_op && counts) {
        qsort(by_op, (size_t)n_ops, sizeof *by_op, cmp_row_ms);
        printf("  by operator:\n");
        for (int k = 0; k < n_ops; k++)
            printf("    %-24s %5s nodes %10.3f ms %5.1f%%\n", by_op[k].op, by_op[k].node,
                   by_op[k].ms, total > 0 ? 100 * by_op[k].ms / total : 0.0);
    }
    free(by_op);
    free(counts);
    qsort(pr->rows, (size_t)pr->n, sizeof *pr->rows, cmp_row_ms);
    printf("  slowest nodes:\n");
    for (int i = 0; i < pr->n && i < 15; i++)
        printf("    %-56.56s %-16s %10.3f ms\n", pr->rows[i].node, pr->rows[i].op, pr->rows[i].ms);
}

int av_cli_run(int argc, char **argv)
{
    const char *path = NULL, *out_dir = ".", *device = NULL, *precision = NULL;
    int threads = 0, repeat = 1, warmup = 1, profile = 0;
    const char *in_names[64], *in_files[64];
    int n_inputs = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(run_help, stdout);
            return AV_CLI_OK;
        } else if (!strcmp(argv[i], "--input") && i + 1 < argc) {
            char *spec = argv[++i], *eq = strchr(spec, '=');
            if (!eq || eq == spec || !eq[1] || n_inputs == 64) {
                fprintf(stderr, "autovoice run: bad --input '%s' (want NAME=FILE.npy)\n", spec);
                return AV_CLI_USAGE;
            }
            *eq = '\0';
            in_names[n_inputs] = spec;
            in_files[n_inputs++] = eq + 1;
        } else if (!strcmp(argv[i], "--output-dir") && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (!av_cli_parse_int(argv[++i], 1, 1024, &threads)) {
                fprintf(stderr, "autovoice run: bad --threads '%s'\n", argv[i]);
                return AV_CLI_USAGE;
            }
        } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
            if (!av_cli_parse_int(argv[++i], 1, 1000000, &repeat)) {
                fprintf(stderr, "autovoice run: bad --repeat '%s'\n", argv[i]);
                return AV_CLI_USAGE;
            }
        } else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) {
            if (!av_cli_parse_int(argv[++i], 0, 1000000, &warmup)) {
                fprintf(stderr, "autovoice run: bad --warmup '%s'\n", argv[i]);
                return AV_CLI_USAGE;
            }
        } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            device = argv[++i];
        } else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
            precision = argv[++i];
        } else if (!strcmp(argv[i], "--profile")) {
            profile = 1;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            fprintf(stderr, "autovoice run: unknown or incomplete option '%s'\n", argv[i]);
            return AV_CLI_USAGE;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: autovoice run MODEL.onnx --input NAME=FILE.npy ... "
                        "[--output-dir DIR] [--threads N] [--repeat N] [--warmup N]\n");
        return AV_CLI_USAGE;
    }
    av_session_config cfg = av_session_config_default();
    cfg.threads = threads;
    if (!av_cli_device_config("run", device, precision, &cfg))
        return AV_CLI_USAGE;
    struct stat sb;
    if (stat(out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "autovoice: %s: not a directory\n", out_dir);
        return AV_CLI_FAILED;
    }
    char err[1024];
    int rc = AV_CLI_FAILED;
    av_model *m = NULL;
    av_session *s = NULL;
    av_tensor tensors[64];
    int n_loaded = 0;
    double *times = NULL;
    if (av_model_load(path, &m, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        return AV_CLI_FAILED;
    }
    if (av_session_create(m, &cfg, &s, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        goto done;
    }
    for (int i = 0; i < n_inputs; i++) {
        if (av_npy_read(in_files[i], &tensors[i], err, sizeof err) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s\n", err);
            goto done;
        }
        n_loaded++;
        if (av_session_set_input(s, in_names[i], tensors[i].dtype, tensors[i].ndim,
                                 tensors[i].shape, tensors[i].data) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s: %s\n", in_files[i], av_session_last_error(s));
            goto done;
        }
    }
    double t0 = now_ms();
    if (av_session_prepare(s) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s: %s\n", path, av_session_last_error(s));
        goto done;
    }
    double plan_ms = now_ms() - t0;
    for (int i = 0; i < warmup; i++) {
        if (av_session_run(s) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s: %s\n", path, av_session_last_error(s));
            goto done;
        }
    }
    times = calloc(2 * (size_t)repeat, sizeof *times);
    double *gpu_times = times ? times + repeat : NULL;
    if (!times) {
        fprintf(stderr, "autovoice: out of memory\n");
        goto done;
    }
    for (int r = 0; r < repeat; r++) {
        double t = now_ms();
        if (av_session_run(s) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s: %s\n", path, av_session_last_error(s));
            goto done;
        }
        times[r] = now_ms() - t;
        av_session_memory run_mem;
        av_session_get_memory(s, &run_mem);
        gpu_times[r] = run_mem.device_ms;
    }
    qsort(times, (size_t)repeat, sizeof *times, cmp_double);
    qsort(gpu_times, (size_t)repeat, sizeof *gpu_times, cmp_double);
    av_session_memory mem;
    av_session_get_memory(s, &mem);
    printf("%s: plan %.2f ms; run median %.3f ms, min %.3f ms, max %.3f ms over %d run%s "
           "(%d warm-up); %.3f GFLOP, %.1f GFLOP/s; arena %.2f MiB\n",
           path, plan_ms, times[repeat / 2], times[0], times[repeat - 1], repeat,
           repeat == 1 ? "" : "s", warmup, mem.gflop,
           times[repeat / 2] > 0 ? mem.gflop / (times[repeat / 2] * 1e-3) : 0.0,
           (double)mem.arena_bytes / (1 << 20));
    if (cfg.device != AV_DEVICE_CPU) {
        char where[4096];
        av_session_describe_device(s, where, sizeof where);
        printf("  GPU time of the nodes (CUDA events, without transfers): median %.3f ms, min "
               "%.3f ms\n  %s", gpu_times[repeat / 2], gpu_times[0], where);
    }
    for (int i = 0; i < av_model_output_count(m); i++) {
        av_tensor info, out;
        av_model_output(m, i, &info);
        if (av_session_get_output(s, info.name, &out) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s\n", av_session_last_error(s));
            goto done;
        }
        char file[4096], safe[256];
        size_t k = 0;
        for (const char *c = info.name; *c && k < sizeof safe - 1; c++)
            safe[k++] = (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c)) ? *c : '_';
        safe[k] = '\0';
        snprintf(file, sizeof file, "%s/%s.npy", out_dir, safe);
        if (av_npy_write(file, &out, err, sizeof err) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s\n", err);
            goto done;
        }
        printf("  %s: %s [", file, av_dtype_name(out.dtype));
        for (int d = 0; d < out.ndim; d++)
            printf("%s%lld", d ? ", " : "", (long long)out.shape[d]);
        printf("]\n");
    }
    if (profile) { /* after the outputs are written: a profile run leaves them invalid */
        profile_rows pr = {0};
        if (av_session_profile(s, profile_collect, &pr) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s: %s\n", path, av_session_last_error(s));
            free(pr.rows);
            goto done;
        }
        print_profile(&pr, cfg.device != AV_DEVICE_CPU);
        free(pr.rows);
    }
    rc = AV_CLI_OK;
done:
    free(times);
    for (int i = 0; i < n_loaded; i++)
        av_npy_free(&tensors[i]);
    av_session_free(s);
    av_model_free(m);
    return rc;
}
