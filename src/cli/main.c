/* The autovoice command. Uses only the public headers (include/autovoice/).
 * Exit codes: 0 success, 1 a file or the library failed, 2 a usage error. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autovoice/autovoice.h"
#include "autovoice/engine.h"
#include "cli.h"

enum { EXIT_OK = AV_CLI_OK, EXIT_FAILED = AV_CLI_FAILED, EXIT_USAGE = AV_CLI_USAGE };

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: autovoice <command> [options]\n"
            "\n"
            "Singing voice conversion: re-sings a vocal in another singer's voice.\n"
            "\n"
            "commands:\n"
            "  info FILE            describe an audio file (format, rate, channels, length)\n"
            "  demo [--input FILE] [--model DIR]\n"
            "                       the main job on the bundled example, as far as this version goes\n"
            "                       (defaults: examples/example-sung.wav, models/default)\n"
            "  inspect MODEL.onnx [--shape NAME=DxDx... ...]\n"
            "                       inputs, outputs, operators, parameters; with shapes: the\n"
            "                       plan's arena size and GFLOP\n"
            "  run MODEL.onnx --input NAME=FILE.npy ... [--output-dir DIR] [--threads N]\n"
            "                       [--repeat N] [--warmup N]\n"
            "                       run any ONNX model; writes every output as DIR/NAME.npy\n"
            "                       and prints the median latency\n"
            "  convert IN [IN ...] -o OUT [--model DIR] [--speaker NAME|FILE.npy]\n"
            "          [--pitch-shift SEMITONES] [--f0 FILE.csv | --f0-method yin|pyin]\n"
            "          [--temperature T] [--seed N] [--output-rate HZ] [--format wav|flac]\n"
            "          [--bits 16|24|float] [--chunk SECONDS] [--threads N] [--force] [--quiet]\n"
            "                       re-sing IN in another voice (model default: models/default);\n"
            "                       OUT is a .wav/.flac file, or a directory for several inputs\n"
            "  f0 IN [-o OUT.csv] [--method yin|pyin]\n"
            "                       time, F0, voiced, confidence every 10 ms\n"
            "  build MODEL.onnx [-o MODEL.plan] [--shape NAME:MIN/OPT/MAX ...] [--config FILE]\n"
            "  build --package DIR  build plans (models ready to map and run) for a model or a\n"
            "                       package; run, inspect and convert use them\n"
            "  bench [--model DIR|FILE.onnx] [--component NAME|all|pipeline] [--precision LIST]\n"
            "        [--seconds LIST] [--threads N] [--repeat N] [--json FILE] [--markdown FILE]\n"
            "                       latency, throughput, memory and accuracy per component\n"
            "  help                 this text\n"
            "\n"
            "'autovoice COMMAND --help' describes a command, with examples.\n"
            "\n"
            "options:\n"
            "  -h, --help           this text\n"
            "  -V, --version        version and what this build can do (backends, CPU, GPUs)\n");
}

static int cmd_info(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: autovoice info FILE\n\n"
               "Describes an audio file without decoding it: container and encoding, sample rate,\n"
               "channels, samples and seconds. Refuses what 'convert' would refuse (rate outside\n"
               "8-192 kHz, empty, not audio).\n\n"
               "example:\n  autovoice info examples/example-sung.wav\n\n"
               "exit status: 0 done; 1 the file is missing or not usable audio; 2 a usage error.\n");
        return EXIT_OK;
    }
    if (argc != 2) {
        fprintf(stderr, "autovoice info: expected exactly one FILE\n");
        return EXIT_USAGE;
    }
    av_audio_info info;
    char err[512];
    if (av_audio_probe(argv[1], &info, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        return EXIT_FAILED;
    }
    printf("%s: %s, %d Hz, %d channel%s, %lld samples, %.3f s\n", argv[1], info.format,
           info.sample_rate, info.channels, info.channels == 1 ? "" : "s", (long long)info.frames,
           info.seconds);
    return EXIT_OK;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The main job on the bundled example: read, track F0, and convert with the model package when
 * one is there (the output goes to --output, default build/demo-converted.wav, never into the
 * repository's examples/ or models/). Says plainly what is missing. */
static int cmd_demo(int argc, char **argv)
{
    const char *input = "examples/example-sung.wav";
    const char *model = "models/default";
    const char *output = "build/demo-converted.wav";
    int default_input = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: autovoice demo [--input FILE] [--model DIR] [--output FILE]\n\n"
                   "The main job on the bundled example: reads examples/example-sung.wav, tracks its\n"
                   "F0 and converts it with the model package (default models/default) to\n"
                   "build/demo-converted.wav. Run it from the repository root.\n\n"
                   "examples:\n  autovoice demo\n"
                   "  autovoice demo --input take1.wav --output /tmp/take1-converted.wav\n\n"
                   "exit status: 0 done; 1 a file or the model failed; 2 a usage error.\n");
            return EXIT_OK;
        }
        if ((!strcmp(argv[i], "--input") || !strcmp(argv[i], "--model") ||
             !strcmp(argv[i], "--output")) && i + 1 < argc) {
            if (!strcmp(argv[i], "--input")) {
                input = argv[++i];
                default_input = 0;
            } else if (!strcmp(argv[i], "--model")) {
                model = argv[++i];
            } else {
                output = argv[++i];
            }
        } else {
            fprintf(stderr, "autovoice demo: unknown or incomplete option '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }

    av_audio in = {0};
    char err[1024];
    if (av_audio_read(input, &in, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        if (default_input)
            fprintf(stderr, "autovoice: the default paths are relative to the repository root; "
                            "run it from there or pass --input and --model\n");
        return EXIT_FAILED;
    }
    printf("autovoice demo: convert %s with the model in %s\n", input, model);
    printf("  [done]    read input: %.2f s at %d Hz\n", (double)in.frames / in.sample_rate,
           in.sample_rate);

    av_f0_frame *frames = NULL;
    int64_t n = 0;
    if (av_f0_track(in.samples, in.frames, in.sample_rate, NULL, &frames, &n, err, sizeof err) ==
        AV_STATUS_OK) {
        int64_t voiced = 0;
        float lo = 1e9f, hi = 0;
        for (int64_t i = 0; i < n; i++)
            if (frames[i].voiced) {
                voiced++;
                lo = frames[i].f0 < lo ? frames[i].f0 : lo;
                hi = frames[i].f0 > hi ? frames[i].f0 : hi;
            }
        if (voiced)
            printf("  [done]    F0 (pYIN): %lld of %lld frames voiced, %.0f-%.0f Hz\n",
                   (long long)voiced, (long long)n, lo, hi);
        else
            printf("  [done]    F0 (pYIN): no voiced frames\n");
        av_f0_free(frames);
    } else {
        printf("  [failed]  F0: %s\n", err);
    }

    char path[4096];
    snprintf(path, sizeof path, "%s/model.yaml", model);
    int rc = EXIT_OK;
    if (!is_file(path)) {
        printf("  [missing] model package: %s has no model.yaml\n", model);
        printf("autovoice demo: stopped before conversion; nothing was written. 'make demo' uses an "
               "untrained fixture model when models/default is missing; with any model package: "
               "autovoice demo --model DIR\n");
        av_audio_free(&in);
        return EXIT_OK;
    }
    av_converter *cv = NULL;
    av_audio out = {0};
    av_audio_format format;
    if (av_converter_create(model, 0, &cv, err, sizeof err) != AV_STATUS_OK ||
        av_audio_format_from_path(output, &format, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        rc = EXIT_FAILED;
        goto done;
    }
    av_convert_config cfg = av_convert_config_default();
    if (av_convert(cv, &in, &cfg, &out) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s: %s\n", input, av_converter_last_error(cv));
        rc = EXIT_FAILED;
        goto done;
    }
    if (av_audio_write(output, &out, format, NULL, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        rc = EXIT_FAILED;
        goto done;
    }
    av_convert_stats stats;
    if (av_converter_last_stats(cv, &stats) == AV_STATUS_OK)
        printf("  [done]    converted to speaker '%s' in %.2f s (real-time factor %.3f; content %.2f s, "
               "F0 %.2f s, flow %.2f s, vocoder %.2f s)\n", av_converter_speaker_name(cv, 0),
               stats.total, stats.total / stats.input_seconds, stats.content, stats.f0, stats.flow,
               stats.vocoder);
    printf("  [done]    wrote %s (%.2f s at %d Hz)\n", output, (double)out.frames / out.sample_rate,
           out.sample_rate);
    printf("autovoice demo: listen to %s\n", output);
done:
    av_audio_free(&in);
    av_audio_free(&out);
    av_converter_free(cv);
    return rc;
}

/* Debian 12's OpenBLAS (0.3.21) does not recognise recent AMD CPUs (Zen 4) and falls back to its
 * AVX2 kernels although the CPU has AVX-512: the vocoder then runs 1.5x slower. OpenBLAS picks
 * its kernels when it is loaded, from OPENBLAS_CORETYPE, so the command re-executes itself once
 * with OPENBLAS_CORETYPE=SKYLAKEX when the CPU has the AVX-512 subsets those kernels use and the
 * user has not chosen a core type. Programs embedding libautovoice can set the variable
 * themselves (README). */
static void prefer_avx512_blas(char **argv)
{
#if defined(__x86_64__)
    if (getenv("OPENBLAS_CORETYPE") || getenv("AUTOVOICE_NO_REEXEC"))
        return;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl"))
        return;
    if (setenv("OPENBLAS_CORETYPE", "SKYLAKEX", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc, say): carry on with the kernels already loaded */
#else
    (void)argv;
#endif
}

int main(int argc, char **argv)
{
    prefer_avx512_blas(argv);
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        print_usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("autovoice %s\n%s", av_version_string(), av_build_info());
        return EXIT_OK;
    }
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "demo"))
        return cmd_demo(argc - 1, argv + 1);
    if (!strcmp(cmd, "inspect"))
        return av_cli_inspect(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return av_cli_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "convert"))
        return av_cli_convert(argc - 1, argv + 1);
    if (!strcmp(cmd, "f0"))
        return av_cli_f0(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return av_cli_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "build"))
        return av_cli_build(argc - 1, argv + 1);
    fprintf(stderr, "autovoice: unknown command '%s' (try 'autovoice --help')\n", cmd);
    return EXIT_USAGE;
}
