/* `autovoice convert` and `autovoice f0`. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "autovoice/autovoice.h"
#include "cli.h"

static int parse_method(const char *s, av_f0_method *m)
{
    if (!strcmp(s, "yin"))
        *m = AV_F0_METHOD_YIN;
    else if (!strcmp(s, "pyin"))
        *m = AV_F0_METHOD_PYIN;
    else
        return 0;
    return 1;
}

/* Same file (device and inode), when both exist. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Reads "time,f0,voiced[,confidence]" lines (a header line is skipped) into frames. */
static int read_f0_csv(const char *path, av_f0_frame **out, int64_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "autovoice: %s: %s\n", path, strerror(errno));
        return 0;
    }
    int64_t cap = 1024, count = 0, line_no = 0;
    av_f0_frame *fr = malloc((size_t)cap * sizeof *fr);
    char line[256];
    int ok = fr != NULL;
    while (ok && fgets(line, sizeof line, f)) {
        line_no++;
        double t, hz;
        int v = 1;
        float conf = 1;
        int got = sscanf(line, "%lf,%lf,%d,%f", &t, &hz, &v, &conf);
        if (got < 2) {
            if (line_no == 1)
                continue; /* header */
            fprintf(stderr, "autovoice: %s:%lld: expected time,f0[,voiced[,confidence]]\n", path,
                    (long long)line_no);
            ok = 0;
            break;
        }
        if (!isfinite(t) || !isfinite(hz) || hz < 0 || (count && t <= fr[count - 1].time)) {
            fprintf(stderr, "autovoice: %s:%lld: times must increase and F0 be finite and >= 0\n",
                    path, (long long)line_no);
            ok = 0;
            break;
        }
        if (count == cap) {
            av_f0_frame *g = realloc(fr, (size_t)(cap *= 2) * sizeof *fr);
            if (!g) {
                ok = 0;
                break;
            }
            fr = g;
        }
        fr[count++] = (av_f0_frame){.time = t, .f0 = (float)hz, .voiced = got >= 3 ? v != 0 : hz > 0,
                                    .confidence = conf};
    }
    fclose(f);
    if (ok && count == 0) {
        fprintf(stderr, "autovoice: %s: no F0 frames\n", path);
        ok = 0;
    }
    if (!ok) {
        free(fr);
        return 0;
    }
    *out = fr;
    *n = count;
    return 1;
}

static const char convert_help[] =
    "usage: autovoice convert IN [IN ...] -o OUT [options]\n"
    "\n"
    "Re-sings IN in another voice with a model package, keeping melody, timing and words.\n"
    "OUT is a file (.wav or .flac) for one input, or a directory for several: each input\n"
    "IN is written as OUT/NAME.wav (or .flac with --format flac). The model is loaded once.\n"
    "\n"
    "options:\n"
    "  -o OUT                 output file or directory (required)\n"
    "  --model DIR            model package (default: models/default)\n"
    "  --speaker NAME|FILE    a speaker of the package (default: its first) or a 256-d\n"
    "                         embedding saved as float32 .npy\n"
    "  --pitch-shift S        semitones, -48..48 (default 0); unvoiced frames stay unvoiced\n"
    "  --f0-method yin|pyin   F0 tracker (default pyin)\n"
    "  --f0 FILE.csv          use this F0 contour (time,f0[,voiced[,confidence]]) instead;\n"
    "                         one input only\n"
    "  --temperature T        noise scale, 0..10 (default: the package's)\n"
    "  --seed N               noise seed (default 0): same seed, same output\n"
    "  --output-rate HZ       8000..192000 (default: the package's, 44100)\n"
    "  --format wav|flac      for a directory OUT (default wav); a file OUT's extension decides\n"
    "  --bits 16|24|float     sample format (default: 16 for WAV, 24 for FLAC; float: WAV only)\n"
    "  --chunk SECONDS        chunk length for long inputs, 1..30, or 0 for the whole input at\n"
    "                         once (default 10; memory grows with the chunk, not the input)\n"
    "  --context SECONDS      content-encoder context on each side of a chunk, 0..10 (default 1)\n"
    "  --threads N            CPU threads (default: all)\n"
    "  --device cpu|cuda[:N]  where the model runs (default cpu; cuda needs a build with the\n"
    "                         CUDA backend and an NVIDIA GPU)\n"
    "  --precision P          on cuda: fp32 (default), tf32 or fp16\n"
    "  --force                replace existing output files\n"
    "  --quiet                no progress bar and no summary (errors are still printed)\n"
    "  --stats                after the summary, where the time went, stage by stage\n"
    "  -h, --help             this text\n"
    "\n"
    "examples:\n"
    "  autovoice convert take1.wav -o take1-alto.wav --speaker alto\n"
    "  autovoice convert verse.flac -o verse-up.flac --pitch-shift 3 --seed 7\n"
    "  autovoice convert a.wav b.flac c.mp3 -o converted/ --model models/default --format flac\n"
    "\n"
    "exit status: 0 every input converted; 1 an input, the model or an output failed (the\n"
    "other inputs are still converted; nothing partial is ever written); 2 a usage error;\n"
    "130 interrupted.\n";

static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Progress on stderr for one input: a bar with percentage and ETA, redrawn at most 10 times a
 * second; only on a terminal and for inputs over a few seconds. */
typedef struct progress_bar {
    int enabled;
    double started, last_drawn;
    const char *name;
} progress_bar;

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int on_progress(void *user, double fraction)
{
    progress_bar *bar = user;
    if (interrupted)
        return 1;
    if (!bar->enabled)
        return 0;
    double now = wall_seconds();
    if (fraction < 1.0 && now - bar->last_drawn < 0.1)
        return 0;
    bar->last_drawn = now;
    char fill[31];
    int n = (int)(fraction * 30 + 0.5);
    for (int i = 0; i < 30; i++)
        fill[i] = i < n ? '#' : '.';
    fill[30] = '\0';
    double elapsed = now - bar->started;
    if (fraction > 0.02 && fraction < 1.0)
        fprintf(stderr, "\r%s [%s] %3.0f%%  ETA %.0f s   ", bar->name, fill, fraction * 100,
                elapsed * (1.0 - fraction) / fraction);
    else
        fprintf(stderr, "\r%s [%s] %3.0f%%             ", bar->name, fill, fraction * 100);
    if (fraction >= 1.0)
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
    return 0;
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* OUT_DIR/NAME.EXT for input path IN (its extension replaced). */
static int output_in_directory(const char *dir, const char *in, const char *ext, char *out, size_t size)
{
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    size_t dl = strlen(dir);
    int n = snprintf(out, size, "%s%s%.*s.%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", len, base, ext);
    return n > 0 && (size_t)n < size;
}

/* --speaker FILE.npy: checks the embedding's shape and values. */
static int load_embedding(const char *path, int dim, av_tensor *t)
{
    char err[1024];
    if (av_npy_read(path, t, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        return 0;
    }
    int64_t count = 1;
    for (int d = 0; d < t->ndim; d++)
        count *= t->shape[d];
    if (t->dtype != AV_DTYPE_FLOAT32 || t->ndim < 1 || t->ndim > 2 || count != dim ||
        t->shape[t->ndim - 1] != dim) {
        fprintf(stderr, "autovoice: %s: a speaker embedding must be float32 [%d] or [1, %d]\n", path,
                dim, dim);
        return 0;
    }
    for (int64_t i = 0; i < count; i++)
        if (!isfinite(((const float *)t->data)[i])) {
            fprintf(stderr, "autovoice: %s: contains NaN or infinite values\n", path);
            return 0;
        }
    return 1;
}

/* --stats: seconds and real-time factor of each stage; `wall` includes reading and writing. */
static void print_stats(const av_convert_stats *s, double wall)
{
    const struct { const char *name; double t; } rows[] = {
        {"read + write files", wall - s->total}, {"resample in, normalise", s->resample_in},
        {"F0", s->f0}, {"content encoder", s->content}, {"pitch encoder", s->pitch},
        {"flow decoder", s->flow}, {"mel projection", s->mel},
        {s->griffin_lim ? "Griffin-Lim" : "vocoder", s->vocoder},
        {"conditioning, crossfades", s->assemble}, {"resample out", s->resample_out}};
    printf("  %-26s %9s %9s\n", "stage", "seconds", "RTF");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        printf("  %-26s %9.3f %9.4f\n", rows[i].name, rows[i].t, rows[i].t / s->input_seconds);
    printf("  %-26s %9.3f %9.4f\n", "total", wall, wall / s->input_seconds);
    printf("  chunks %d; receptive fields (decoder frames): flow %d, mel %d, vocoder %d\n", s->chunks,
           s->flow_context_frames, s->mel_context_frames, s->vocoder_context_frames);
}

int av_cli_convert(int argc, char **argv)
{
    const char *out_path = NULL, *model = "models/default", *f0_path = NULL, *format_name = NULL;
    const char *bits = NULL, *device = NULL, *precision = NULL;
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    int n_inputs = 0, force = 0, quiet = 0, show_stats = 0, threads = 0, rc = AV_CLI_USAGE;
    av_convert_config cfg = av_convert_config_default();
    double v;
    if (!inputs) {
        fprintf(stderr, "autovoice: out of memory\n");
        return AV_CLI_FAILED;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(convert_help, stdout);
            free(inputs);
            return AV_CLI_OK;
        } else if (!strcmp(a, "-o") && next) {
            out_path = argv[++i];
        } else if (!strcmp(a, "--model") && next) {
            model = argv[++i];
        } else if (!strcmp(a, "--speaker") && next) {
            cfg.speaker = argv[++i];
        } else if (!strcmp(a, "--pitch-shift") && next && av_cli_parse_double(next, -48, 48, &v)) {
            cfg.pitch_shift = v;
            i++;
        } else if (!strcmp(a, "--temperature") && next && av_cli_parse_double(next, 0, 10, &v)) {
            cfg.temperature = v;
            i++;
        } else if (!strcmp(a, "--seed") && next && av_cli_parse_double(next, 0, 9007199254740992.0, &v) && v == floor(v)) {
            cfg.seed = (uint64_t)v;
            i++;
        } else if (!strcmp(a, "--output-rate") && next && av_cli_parse_double(next, 8000, 192000, &v) && v == floor(v)) {
            cfg.output_rate = (int)v;
            i++;
        } else if (!strcmp(a, "--threads") && next && av_cli_parse_int(next, 1, 1024, &threads)) {
            i++;
        } else if (!strcmp(a, "--device") && next) {
            device = next;
            i++;
        } else if (!strcmp(a, "--precision") && next) {
            precision = next;
            i++;
        } else if (!strcmp(a, "--chunk") && next && av_cli_parse_double(next, 0, AV_CONVERT_MAX_CHUNK_SECONDS, &v) &&
                   (v == 0 || v >= 1)) {
            cfg.chunk_seconds = v;
            i++;
        } else if (!strcmp(a, "--context") && next && av_cli_parse_double(next, 0, 10, &v)) {
            cfg.context_seconds = v;
            i++;
        } else if (!strcmp(a, "--f0-method") && next && parse_method(next, &cfg.f0_method)) {
            i++;
        } else if (!strcmp(a, "--f0") && next) {
            f0_path = argv[++i];
        } else if (!strcmp(a, "--format") && next && (!strcmp(next, "wav") || !strcmp(next, "flac"))) {
            format_name = argv[++i];
        } else if (!strcmp(a, "--bits") && next &&
                   (!strcmp(next, "16") || !strcmp(next, "24") || !strcmp(next, "float"))) {
            bits = argv[++i];
        } else if (!strcmp(a, "--force")) {
            force = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(a, "--stats")) {
            show_stats = 1;
        } else if (a[0] != '-' || !strcmp(a, "-")) {
            inputs[n_inputs++] = a;
        } else {
            fprintf(stderr, "autovoice convert: unknown, incomplete or out-of-range option '%s' "
                            "(see autovoice convert --help)\n", a);
            goto done_usage;
        }
    }
    if (!n_inputs || !out_path) {
        fprintf(stderr, "usage: autovoice convert IN [IN ...] -o OUT [options] (see autovoice convert --help)\n");
        goto done_usage;
    }
    int to_dir = n_inputs > 1 || is_directory(out_path);
    if (n_inputs > 1 && !is_directory(out_path)) {
        fprintf(stderr, "autovoice: %s: with several inputs, -o must be an existing directory\n", out_path);
        goto done_usage;
    }
    if (f0_path && n_inputs > 1) {
        fprintf(stderr, "autovoice: --f0 gives the contour of one input; it cannot go with %d inputs\n", n_inputs);
        goto done_usage;
    }
    /* the container: from OUT's extension, or --format for a directory */
    char err[1024];
    av_audio_format format = AV_AUDIO_FORMAT_WAV_PCM16;
    int is_flac = 0;
    if (to_dir) {
        is_flac = format_name && !strcmp(format_name, "flac");
    } else {
        if (av_audio_format_from_path(out_path, &format, err, sizeof err) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s\n", err);
            goto done_usage;
        }
        is_flac = format == AV_AUDIO_FORMAT_FLAC_16 || format == AV_AUDIO_FORMAT_FLAC_24;
        if (format_name && is_flac != !strcmp(format_name, "flac")) {
            fprintf(stderr, "autovoice: %s: --format %s does not match the file's extension\n",
                    out_path, format_name);
            goto done_usage;
        }
    }
    if (bits && is_flac && !strcmp(bits, "float")) {
        fprintf(stderr, "autovoice: --bits float needs WAV (FLAC stores 16 or 24-bit integers)\n");
        goto done_usage;
    }
    format = is_flac ? (bits && !strcmp(bits, "16") ? AV_AUDIO_FORMAT_FLAC_16 : AV_AUDIO_FORMAT_FLAC_24)
             : !bits || !strcmp(bits, "16") ? AV_AUDIO_FORMAT_WAV_PCM16
             : !strcmp(bits, "24")          ? AV_AUDIO_FORMAT_WAV_PCM24
                                            : AV_AUDIO_FORMAT_WAV_FLOAT;

    /* before any work: no output may be an input, or replace a file without --force */
    for (int k = 0; k < n_inputs; k++) {
        char target[4096];
        const char *dest = out_path;
        if (to_dir) {
            if (!output_in_directory(out_path, inputs[k], is_flac ? "flac" : "wav", target, sizeof target)) {
                fprintf(stderr, "autovoice: %s: output path too long\n", inputs[k]);
                goto done_usage;
            }
            dest = target;
        }
        for (int j = 0; j < n_inputs; j++)
            if (!strcmp(inputs[j], dest) || same_file(inputs[j], dest)) {
                fprintf(stderr, "autovoice: %s: the output would overwrite the input %s\n", dest, inputs[j]);
                goto done_usage;
            }
        for (int j = 0; to_dir && j < k; j++) {
            char other[4096];
            if (output_in_directory(out_path, inputs[j], is_flac ? "flac" : "wav", other, sizeof other) &&
                !strcmp(other, dest)) {
                fprintf(stderr, "autovoice: %s and %s would both be written to %s\n", inputs[j],
                        inputs[k], dest);
                goto done_usage;
            }
        }
        struct stat sb;
        if (!force && lstat(dest, &sb) == 0) {
            fprintf(stderr, "autovoice: %s: exists; use --force to replace it\n", dest);
            goto done_usage;
        }
    }

    rc = AV_CLI_FAILED;
    av_converter *cv = NULL;
    av_f0_frame *f0 = NULL;
    av_tensor embedding = {0};
    if (f0_path) {
        if (!read_f0_csv(f0_path, &f0, &cfg.n_f0))
            goto done;
        cfg.f0 = f0;
    }
    av_session_config session_cfg = av_session_config_default();
    session_cfg.threads = threads;
    if (!av_cli_device_config("convert", device, precision, &session_cfg))
        goto done_usage;
    if (av_converter_create_with(model, &session_cfg, &cv, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        goto done;
    }
    size_t sl = cfg.speaker ? strlen(cfg.speaker) : 0;
    if (sl > 4 && !strcmp(cfg.speaker + sl - 4, ".npy")) {
        if (!load_embedding(cfg.speaker, av_converter_speaker_dim(cv), &embedding))
            goto done;
        cfg.speaker_embedding = embedding.data;
    }
    struct sigaction sa = {.sa_handler = on_interrupt}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    progress_bar bar = {0};
    cfg.progress = on_progress;
    cfg.progress_user = &bar;
    int failures = 0;
    for (int k = 0; k < n_inputs && !interrupted; k++) {
        char target[4096];
        const char *in_path = inputs[k];
        if (to_dir && !output_in_directory(out_path, in_path, is_flac ? "flac" : "wav", target, sizeof target)) {
            fprintf(stderr, "autovoice: %s: output path too long\n", in_path);
            failures++;
            continue;
        }
        av_audio_info info;
        bar = (progress_bar){.name = in_path, .started = wall_seconds()};
        bar.enabled = !quiet && isatty(STDERR_FILENO) &&
                      av_audio_probe(in_path, &info, err, sizeof err) == AV_STATUS_OK && info.seconds > 3.0;
        double t0 = wall_seconds();
        const char *dest = to_dir ? target : out_path;
        av_status st = av_convert_file(cv, in_path, dest, format, force, &cfg);
        if (bar.enabled && st != AV_STATUS_OK)
            fprintf(stderr, "\r\033[K");
        if (st == AV_STATUS_CANCELLED) {
            fprintf(stderr, "autovoice: %s: interrupted; nothing was written\n", in_path);
            break;
        }
        if (st != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s\n", av_converter_last_error(cv));
            failures++;
            continue;
        }
        av_convert_stats stats;
        if (!quiet && av_converter_last_stats(cv, &stats) == AV_STATUS_OK) {
            double wall = wall_seconds() - t0;
            printf("%s -> %s: %.2f s of audio in %.2f s (real-time factor %.3f), speaker %s, pitch "
                   "shift %+g%s\n", in_path, dest, stats.input_seconds, wall,
                   wall / stats.input_seconds, cfg.speaker ? cfg.speaker : av_converter_speaker_name(cv, 0),
                   cfg.pitch_shift, stats.clipped ? ", some samples clipped" : "");
            if (show_stats)
                print_stats(&stats, wall);
            fflush(stdout);
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    rc = interrupted ? 130 : failures ? AV_CLI_FAILED : AV_CLI_OK;
done:
    free(f0);
    av_npy_free(&embedding);
    av_converter_free(cv);
done_usage:
    free(inputs);
    return rc;
}

static const char f0_help[] =
    "usage: autovoice f0 IN [-o OUT.csv] [--method yin|pyin]\n"
    "\n"
    "Tracks the fundamental frequency of IN every 10 ms between 80 and 1000 Hz and prints (or\n"
    "writes to OUT.csv) one line per frame: time,f0,voiced,confidence (f0 0 when unvoiced).\n"
    "The file can be edited and given back to 'autovoice convert --f0'.\n"
    "\n"
    "options:\n"
    "  -o OUT.csv             write here (through a temporary file) instead of standard output\n"
    "  --method yin|pyin      YIN (fast) or probabilistic YIN with Viterbi smoothing (default)\n"
    "  -h, --help             this text\n"
    "\n"
    "examples:\n"
    "  autovoice f0 take1.wav -o take1-f0.csv\n"
    "  autovoice f0 take1.wav --method yin | head\n"
    "\n"
    "exit status: 0 done; 1 the file could not be read or written; 2 a usage error.\n";

int av_cli_f0(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL;
    av_f0_config fc = av_f0_config_default();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(f0_help, stdout);
            return AV_CLI_OK;
        } else if (!strcmp(a, "-o") && next)
            out_path = argv[++i];
        else if (!strcmp(a, "--method") && next && parse_method(next, &fc.method))
            i++;
        else if (a[0] != '-' && !in_path)
            in_path = a;
        else {
            fprintf(stderr, "autovoice f0: unknown or incomplete option '%s'\n", a);
            return AV_CLI_USAGE;
        }
    }
    if (!in_path) {
        fprintf(stderr, "usage: autovoice f0 IN [-o OUT.csv] [--method yin|pyin]\n");
        return AV_CLI_USAGE;
    }
    if (out_path && (!strcmp(in_path, out_path) || same_file(in_path, out_path))) {
        fprintf(stderr, "autovoice: %s: the output would overwrite the input\n", out_path);
        return AV_CLI_USAGE;
    }
    char err[1024], tmp[4096];
    av_audio in = {0};
    av_f0_frame *frames = NULL;
    int64_t n = 0;
    int rc = AV_CLI_FAILED;
    FILE *f = stdout;
    if (av_audio_read(in_path, &in, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        return AV_CLI_FAILED;
    }
    if (fc.f0_max > in.sample_rate / 4.0f)
        fc.f0_max = in.sample_rate / 4.0f;
    if (av_f0_track(in.samples, in.frames, in.sample_rate, &fc, &frames, &n, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s: %s\n", in_path, err);
        goto done;
    }
    if (out_path) {
        snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
        if (!(f = fopen(tmp, "w"))) {
            fprintf(stderr, "autovoice: %s: %s\n", tmp, strerror(errno));
            goto done;
        }
    }
    fprintf(f, "time,f0,voiced,confidence\n");
    for (int64_t i = 0; i < n; i++)
        fprintf(f, "%.3f,%.2f,%d,%.3f\n", frames[i].time, frames[i].f0, frames[i].voiced,
                frames[i].confidence);
    if (out_path) {
        int bad = ferror(f);
        bad |= fclose(f) != 0;
        if (bad || rename(tmp, out_path) != 0) {
            fprintf(stderr, "autovoice: %s: cannot write\n", out_path);
            remove(tmp);
            goto done;
        }
    }
    rc = AV_CLI_OK;
done:
    av_f0_free(frames);
    av_audio_free(&in);
    return rc;
}
