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

static const char *const planned_commands[] = {"convert", "f0", "build", "bench"};

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
            "  help                 this text\n"
            "\n"
            "options:\n"
            "  -h, --help           this text\n"
            "  -V, --version        version and what this build can do (backends, CPU, GPUs)\n"
            "\n"
            "not in this version yet: convert, f0, build, bench (see README.md)\n");
}

static int cmd_info(int argc, char **argv)
{
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

/* Runs the conversion path step by step and stops, saying so, at the first step this version
 * does not have. Writes nothing. */
static int cmd_demo(int argc, char **argv)
{
    const char *input = "examples/example-sung.wav";
    const char *model = "models/default";
    int default_input = 1;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "--input") || !strcmp(argv[i], "--model")) && i + 1 < argc) {
            if (!strcmp(argv[i], "--input")) {
                input = argv[++i];
                default_input = 0;
            }
            else
                model = argv[++i];
        } else {
            fprintf(stderr, "autovoice demo: unknown or incomplete option '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }

    av_audio_info info;
    char err[512];
    if (av_audio_probe(input, &info, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        if (default_input)
            fprintf(stderr, "autovoice: the default paths are relative to the repository root; "
                            "run it from there or pass --input and --model\n");
        return EXIT_FAILED;
    }
    printf("autovoice demo: convert %s with the model in %s\n", input, model);
    printf("  [done]    read input: %s, %d Hz, %d channel%s, %.2f s\n", info.format,
           info.sample_rate, info.channels, info.channels == 1 ? "" : "s", info.seconds);

    char path[4096];
    snprintf(path, sizeof path, "%s/model.yaml", model);
    if (is_file(path)) {
        static const char *const components[] = {"content_encoder", "pitch_encoder",
                                                 "flow_decoder", "mel_projection", "vocoder"};
        int present = 0, loaded = 0;
        for (size_t i = 0; i < sizeof components / sizeof components[0]; i++) {
            snprintf(path, sizeof path, "%s/%s.onnx", model, components[i]);
            if (!is_file(path))
                continue;
            present++;
            av_model *m = NULL;
            if (av_model_load(path, &m, err, sizeof err) == AV_STATUS_OK)
                loaded++;
            else
                printf("            %s\n", err);
            av_model_free(m);
        }
        printf("  [found]   model package: %s/model.yaml with %d of 5 ONNX components, %d loaded "
               "by the engine\n", model, present, loaded);
    } else {
        printf("  [missing] model package: %s has no model.yaml - the trained default model is "
               "not there yet\n", model);
    }
    printf("  [ready]   ONNX inference engine (CPU, fp32): see 'autovoice run' and 'inspect'\n");
    printf("  [missing] F0 tracking, pitch shift, conversion and output writing: not there yet\n");
    printf("autovoice demo: stopped after reading the input; nothing was written. "
           "What exists today: the reference model and its ONNX export (tools/), "
           "the inference engine (autovoice run / inspect), and the test suite (make test).\n");
    return EXIT_OK;
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
    for (size_t i = 0; i < sizeof planned_commands / sizeof planned_commands[0]; i++) {
        if (!strcmp(cmd, planned_commands[i])) {
            fprintf(stderr, "autovoice: '%s' is not available in version %s yet (see README.md)\n",
                    cmd, av_version_string());
            return EXIT_USAGE;
        }
    }
    fprintf(stderr, "autovoice: unknown command '%s' (try 'autovoice --help')\n", cmd);
    return EXIT_USAGE;
}
