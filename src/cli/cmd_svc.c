/* `autovoice convert` and `autovoice f0`. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int av_cli_convert(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL, *model = "models/default", *f0_path = NULL;
    av_convert_config cfg = av_convert_config_default();
    int threads = 0, rc = AV_CLI_FAILED;
    double v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-o") && next) {
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
        } else if (!strcmp(a, "--threads") && next && av_cli_parse_double(next, 1, 1024, &v) && v == floor(v)) {
            threads = (int)v;
            i++;
        } else if (!strcmp(a, "--f0-method") && next && parse_method(next, &cfg.f0_method)) {
            i++;
        } else if (!strcmp(a, "--f0") && next) {
            f0_path = argv[++i];
        } else if (a[0] != '-' && !in_path) {
            in_path = a;
        } else {
            fprintf(stderr, "autovoice convert: unknown, incomplete or out-of-range option '%s'\n", a);
            return AV_CLI_USAGE;
        }
    }
    if (!in_path || !out_path) {
        fprintf(stderr, "usage: autovoice convert IN -o OUT.wav|OUT.flac [--model DIR] "
                        "[--speaker NAME|FILE.npy] [--pitch-shift SEMITONES] [--temperature T] [--seed N] "
                        "[--f0 FILE.csv | --f0-method yin|pyin] [--output-rate HZ] [--threads N]\n");
        return AV_CLI_USAGE;
    }
    av_audio_format format;
    char err[1024];
    if (av_audio_format_from_path(out_path, &format, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        return AV_CLI_USAGE;
    }
    if (!strcmp(in_path, out_path) || same_file(in_path, out_path)) {
        fprintf(stderr, "autovoice: %s: the output would overwrite the input\n", out_path);
        return AV_CLI_USAGE;
    }
    av_audio in = {0}, out = {0};
    av_converter *cv = NULL;
    av_f0_frame *f0 = NULL;
    av_tensor embedding = {0};
    if (av_audio_read(in_path, &in, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        goto done;
    }
    if (f0_path) {
        if (!read_f0_csv(f0_path, &f0, &cfg.n_f0))
            goto done;
        cfg.f0 = f0;
    }
    if (av_converter_create(model, threads, &cv, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        goto done;
    }
    /* --speaker FILE.npy: a speaker embedding instead of a name */
    size_t sl = cfg.speaker ? strlen(cfg.speaker) : 0;
    if (sl > 4 && !strcmp(cfg.speaker + sl - 4, ".npy")) {
        if (av_npy_read(cfg.speaker, &embedding, err, sizeof err) != AV_STATUS_OK) {
            fprintf(stderr, "autovoice: %s\n", err);
            goto done;
        }
        int64_t count = 1;
        for (int d = 0; d < embedding.ndim; d++)
            count *= embedding.shape[d];
        int dim = av_converter_speaker_dim(cv);
        if (embedding.dtype != AV_DTYPE_FLOAT32 || embedding.ndim < 1 || embedding.ndim > 2 ||
            count != dim || embedding.shape[embedding.ndim - 1] != dim) {
            fprintf(stderr, "autovoice: %s: a speaker embedding must be float32 [%d] or [1, %d]\n",
                    cfg.speaker, dim, dim);
            goto done;
        }
        for (int64_t i = 0; i < count; i++)
            if (!isfinite(((const float *)embedding.data)[i])) {
                fprintf(stderr, "autovoice: %s: contains NaN or infinite values\n", cfg.speaker);
                goto done;
            }
        cfg.speaker_embedding = embedding.data;
    }
    if (av_convert(cv, &in, &cfg, &out) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s: %s\n", in_path, av_converter_last_error(cv));
        goto done;
    }
    int64_t clipped = 0;
    if (av_audio_write(out_path, &out, format, &clipped, err, sizeof err) != AV_STATUS_OK) {
        fprintf(stderr, "autovoice: %s\n", err);
        goto done;
    }
    printf("%s: %.2f s at %d Hz -> %s: %.2f s at %d Hz (speaker %s, pitch shift %+g)%s\n", in_path,
           (double)in.frames / in.sample_rate, in.sample_rate, out_path,
           (double)out.frames / out.sample_rate, out.sample_rate,
           cfg.speaker ? cfg.speaker : av_converter_speaker_name(cv, 0), cfg.pitch_shift,
           clipped ? " (some samples clipped)" : "");
    rc = AV_CLI_OK;
done:
    free(f0);
    av_npy_free(&embedding);
    av_audio_free(&in);
    av_audio_free(&out);
    av_converter_free(cv);
    return rc;
}

int av_cli_f0(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL;
    av_f0_config fc = av_f0_config_default();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-o") && next)
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
