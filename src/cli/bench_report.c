/* `autovoice bench`: what a run measured, as console lines, JSON (docs/BENCH_SCHEMA.md) and
 * markdown. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "autovoice/common.h"
#include "bench.h"

#define MIB (1024.0 * 1024.0)

static void format_snr(char *out, size_t n, double snr)
{
    if (isnan(snr))
        snprintf(out, n, "n/a");
    else if (isinf(snr))
        snprintf(out, n, "%sinf", snr < 0 ? "-" : "");
    else
        snprintf(out, n, "%.1f", snr);
}

/* about four significant digits, without exponents: 0.03127, 5.152, 82.22, 1779 */
static const char *num4(char *out, size_t n, double v)
{
    double a = fabs(v);
    int decimals = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : a >= 1 ? 3 : a >= 0.1 ? 4 : 5;
    snprintf(out, n, "%.*f", decimals, v);
    return out;
}

void av_cli_bench_print_record(FILE *out, const av_cli_bench_record *r)
{
    char a[32], b[32], c[32], d[32], e[32];
    fprintf(out, "  %-15s %-5s %6.2f s: p50 %s ms (p90 %s, p99 %s), %s s of audio/s (RTF %s), "
            "load %.1f ms", r->component, r->precision, r->audio_seconds,
            num4(a, sizeof a, r->p50), num4(b, sizeof b, r->p90), num4(c, sizeof c, r->p99),
            num4(d, sizeof d, r->throughput), num4(e, sizeof e, r->rtf), r->load_ms);
    if (r->device_p50 > 0)
        fprintf(out, ", GPU p50 %s ms", num4(a, sizeof a, r->device_p50));
    if (r->have_build)
        fprintf(out, ", build %.0f ms", r->build_ms);
    if (r->have_memory)
        fprintf(out, ", plan %.1f ms, arena %.1f MiB", r->plan_ms, (double)r->memory.arena_bytes / MIB);
    fprintf(out, ", peak RSS %.0f MiB", (double)r->rss_peak_bytes / MIB);
    for (int i = 0; i < r->n_outputs; i++) {
        if (!r->outputs[i].have_accuracy)
            continue;
        const av_cli_accuracy *acc = &r->outputs[i].accuracy;
        char snr[32];
        format_snr(snr, sizeof snr, acc->snr_db);
        fprintf(out, "; vs fp32: SNR %s dB, r %.6f, max |d| %.3g", snr, acc->pearson, acc->max_abs);
        break; /* the first output on the console; every output in the JSON */
    }
    fputc('\n', out);
    if (r->have_stages) {
        const av_convert_stats *s = &r->stages;
        fprintf(out, "    stages (median s): resample in %.3f, F0 %.3f, content %.3f, pitch %.3f, "
                "flow %.3f, mel %.3f, vocoder %.3f, assemble %.3f, resample out %.3f; %d chunk%s\n",
                s->resample_in, s->f0, s->content, s->pitch, s->flow, s->mel, s->vocoder,
                s->assemble, s->resample_out, s->chunks, s->chunks == 1 ? "" : "s");
    }
    fflush(out);
}

/* ---- the machine -------------------------------------------------------------------------- */

/* The value of the first "key<spaces>: value" line of a /proc file, or "" */
static void proc_field(const char *path, const char *key, char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0)
            continue;
        char *colon = strchr(line + klen, ':');
        if (!colon)
            continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = '\0';
        snprintf(out, n, "%s", v);
        break;
    }
    fclose(f);
}

typedef struct machine {
    char cpu[256];
    char os[256];
    long cpus;
    long long memory_bytes;
} machine;

static void machine_describe(machine *m)
{
    proc_field("/proc/cpuinfo", "model name", m->cpu, sizeof m->cpu);
    if (!m->cpu[0])
        proc_field("/proc/cpuinfo", "Hardware", m->cpu, sizeof m->cpu);
    if (!m->cpu[0])
        snprintf(m->cpu, sizeof m->cpu, "unknown");
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->os, sizeof m->os, "%s %s %s", u.sysname, u.release, u.machine);
    else
        snprintf(m->os, sizeof m->os, "unknown");
    m->cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char mem[64];
    proc_field("/proc/meminfo", "MemTotal", mem, sizeof mem);
    m->memory_bytes = strtoll(mem, NULL, 10) * 1024; /* "NNN kB" */
}

/* ---- JSON ----------------------------------------------------------------------------------- */

typedef struct jw {
    FILE *f;
    int depth;
    int first[32];
} jw;

static void jw_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", f);
        else if (*c < 0x20)
            fprintf(f, "\\u%04x", *c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

/* Starts an item: comma, new line and indentation, then `"key": ` inside objects. */
static void jw_key(jw *w, const char *key)
{
    if (w->depth > 0) {
        fputs(w->first[w->depth] ? "\n" : ",\n", w->f);
        w->first[w->depth] = 0;
        fprintf(w->f, "%*s", 2 * w->depth, "");
    }
    if (key) {
        jw_string(w->f, key);
        fputs(": ", w->f);
    }
}

static void jw_open(jw *w, const char *key, char bracket)
{
    jw_key(w, key);
    fputc(bracket, w->f);
    w->first[++w->depth] = 1;
}

static void jw_close(jw *w, char bracket)
{
    int empty = w->first[w->depth];
    w->depth--;
    if (!empty)
        fprintf(w->f, "\n%*s", 2 * w->depth, "");
    fputc(bracket, w->f);
}

static void jw_str(jw *w, const char *key, const char *value)
{
    jw_key(w, key);
    if (value)
        jw_string(w->f, value);
    else
        fputs("null", w->f);
}

/* NaN -> null; infinities -> "inf" / "-inf" (JSON has no infinity; docs/BENCH_SCHEMA.md). */
static void jw_num(jw *w, const char *key, double v)
{
    jw_key(w, key);
    if (isnan(v))
        fputs("null", w->f);
    else if (isinf(v))
        fputs(v > 0 ? "\"inf\"" : "\"-inf\"", w->f);
    else
        fprintf(w->f, "%.9g", v);
}

static void jw_int(jw *w, const char *key, long long v)
{
    jw_key(w, key);
    fprintf(w->f, "%lld", v);
}

static void jw_null(jw *w, const char *key)
{
    jw_key(w, key);
    fputs("null", w->f);
}

static void jw_shape(jw *w, const char *key, int ndim, const int64_t *shape)
{
    jw_key(w, key);
    fputc('[', w->f);
    for (int d = 0; d < ndim; d++)
        fprintf(w->f, "%s%lld", d ? ", " : "", (long long)shape[d]);
    fputc(']', w->f);
}

static void jw_tensor(jw *w, const av_cli_bench_tensor *t, int with_accuracy)
{
    jw_open(w, NULL, '{');
    jw_str(w, "name", t->name);
    jw_str(w, "dtype", t->dtype);
    jw_shape(w, "shape", t->ndim, t->shape);
    if (with_accuracy) {
        if (t->have_accuracy) {
            const av_cli_accuracy *a = &t->accuracy;
            jw_open(w, "accuracy", '{');
            jw_str(w, "reference", "autovoice fp32");
            jw_num(w, "max_abs", a->max_abs);
            jw_num(w, "mean_abs", a->mean_abs);
            jw_num(w, "rmse", a->rmse);
            jw_num(w, "pearson", a->pearson);
            jw_num(w, "snr_db", a->snr_db);
            jw_int(w, "n", a->n);
            jw_int(w, "nonfinite", a->nonfinite);
            jw_close(w, '}');
        } else {
            jw_null(w, "accuracy");
        }
    }
    jw_close(w, '}');
}

static void jw_record(jw *w, const av_cli_bench_run *run, const av_cli_bench_record *r)
{
    jw_open(w, NULL, '{');
    jw_str(w, "engine", "autovoice");
    jw_str(w, "engine_version", av_version_string());
    jw_str(w, "component", r->component);
    jw_str(w, "device", run->device);
    jw_str(w, "precision", r->precision);
    jw_int(w, "threads", run->threads);
    jw_num(w, "seconds", r->seconds);
    jw_num(w, "audio_seconds", r->audio_seconds);
    jw_open(w, "inputs", '[');
    for (int i = 0; i < r->n_inputs; i++)
        jw_tensor(w, &r->inputs[i], 0);
    jw_close(w, ']');
    jw_open(w, "outputs", '[');
    for (int i = 0; i < r->n_outputs; i++)
        jw_tensor(w, &r->outputs[i], 1);
    jw_close(w, ']');
    jw_num(w, "load_ms", r->load_ms);
    if (r->have_memory)
        jw_num(w, "plan_ms", r->plan_ms);
    else
        jw_null(w, "plan_ms");
    if (r->have_build)
        jw_num(w, "build_ms", r->build_ms);
    else
        jw_null(w, "build_ms");
    jw_open(w, "plans", '[');
    for (int i = 0; i < r->n_plans; i++) {
        const av_cli_bench_plan *p = &r->plans[i];
        jw_open(w, NULL, '{');
        jw_str(w, "component", p->component);
        jw_str(w, "precision", p->precision);
        jw_open(w, "nodes", '{');
        jw_int(w, "fp32", p->nodes[AV_PRECISION_FP32]);
        jw_int(w, "fp16", p->nodes[AV_PRECISION_FP16]);
        jw_int(w, "bf16", p->nodes[AV_PRECISION_BF16]);
        jw_int(w, "int8", p->nodes[AV_PRECISION_INT8]);
        jw_close(w, '}');
        jw_str(w, "file", p->file[0] ? p->file : NULL);
        jw_str(w, "calibration", p->calibration[0] ? p->calibration : NULL);
        jw_close(w, '}');
    }
    jw_close(w, ']');
    jw_str(w, "reference_model", r->reference[0] ? r->reference : NULL);
    jw_open(w, "fallbacks", '[');
    for (int i = 0; i < r->n_fallbacks; i++)
        jw_str(w, NULL, r->fallbacks[i]);
    jw_close(w, ']');
    jw_int(w, "runs", r->runs);
    jw_int(w, "warmup", r->warmup);
    jw_open(w, "latency_ms", '{');
    jw_num(w, "p50", r->p50);
    jw_num(w, "p90", r->p90);
    jw_num(w, "p99", r->p99);
    jw_num(w, "mean", r->mean);
    jw_num(w, "min", r->min);
    jw_num(w, "max", r->max);
    jw_close(w, '}');
    if (r->device_p50 > 0)
        jw_num(w, "device_ms_p50", r->device_p50);
    jw_num(w, "throughput", r->throughput);
    jw_num(w, "rtf", r->rtf);
    jw_open(w, "memory", '{');
    if (r->have_memory) {
        jw_int(w, "arena_bytes", (long long)r->memory.arena_bytes);
        jw_int(w, "planned_bytes", (long long)r->memory.planned_bytes);
        jw_int(w, "naive_bytes", (long long)r->memory.naive_bytes);
    } else {
        jw_null(w, "arena_bytes");
        jw_null(w, "planned_bytes");
        jw_null(w, "naive_bytes");
    }
    if (r->rss_peak_bytes >= 0)
        jw_int(w, "rss_peak_bytes", (long long)r->rss_peak_bytes);
    else
        jw_null(w, "rss_peak_bytes");
    jw_close(w, '}');
    if (r->have_memory)
        jw_num(w, "gflop", r->memory.gflop);
    else
        jw_null(w, "gflop");
    if (r->have_stages) {
        const av_convert_stats *s = &r->stages;
        jw_open(w, "stages", '{');
        jw_num(w, "total", s->total);
        jw_num(w, "resample_in", s->resample_in);
        jw_num(w, "f0", s->f0);
        jw_num(w, "content", s->content);
        jw_num(w, "pitch", s->pitch);
        jw_num(w, "flow", s->flow);
        jw_num(w, "mel", s->mel);
        jw_num(w, "vocoder", s->vocoder);
        jw_num(w, "assemble", s->assemble);
        jw_num(w, "resample_out", s->resample_out);
        jw_int(w, "chunks", s->chunks);
        jw_int(w, "griffin_lim", s->griffin_lim);
        jw_close(w, '}');
        jw_int(w, "output_rate", r->output_rate);
    }
    jw_str(w, "saved", r->saved[0] ? r->saved : NULL);
    jw_close(w, '}');
}

/* av_build_info()'s "key: value" lines as an object */
static void jw_build_info(jw *w)
{
    jw_open(w, "build", '{');
    const char *p = av_build_info();
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon) {
            char key[128], value[512];
            snprintf(key, sizeof key, "%.*s", (int)(colon - p), p);
            const char *v = colon + 1;
            while (v < p + len && *v == ' ')
                v++;
            snprintf(value, sizeof value, "%.*s", (int)(p + len - v), v);
            jw_str(w, key, value);
        }
        p += len + (eol ? 1 : 0);
    }
    jw_close(w, '}');
}

static FILE *open_tmp(const char *path, char *tmp, size_t tmp_size, char *err, size_t err_size)
{
    snprintf(tmp, tmp_size, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        snprintf(err, err_size, "%s: cannot write (%s)", path, strerror(errno));
    return f;
}

static int close_and_rename(FILE *f, const char *tmp, const char *path, char *err, size_t err_size)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        snprintf(err, err_size, "%s: cannot write (%s)", path, strerror(errno ? errno : EIO));
        remove(tmp);
        return -1;
    }
    return 0;
}

int av_cli_bench_write_json(const char *path, const av_cli_bench_run *run, char *err, size_t err_size)
{
    char tmp[4200];
    FILE *f = open_tmp(path, tmp, sizeof tmp, err, err_size);
    if (!f)
        return -1;
    machine m;
    machine_describe(&m);
    jw w = {.f = f};
    jw_open(&w, NULL, '{');
    jw_str(&w, "schema", "autovoice-bench");
    jw_int(&w, "schema_version", 1);
    jw_str(&w, "date", run->date);
    jw_str(&w, "command", run->command);
    jw_open(&w, "machine", '{');
    jw_str(&w, "cpu", m.cpu);
    jw_int(&w, "cpus_online", m.cpus);
    jw_int(&w, "memory_bytes", m.memory_bytes);
    jw_str(&w, "os", m.os);
    jw_str(&w, "openblas_coretype", getenv("OPENBLAS_CORETYPE"));
    jw_close(&w, '}');
    jw_open(&w, "versions", '{');
    jw_str(&w, "autovoice", av_version_string());
    jw_build_info(&w);
    jw_close(&w, '}');
    jw_open(&w, "settings", '{');
    jw_str(&w, "model", run->model);
    jw_str(&w, "input", run->input);
    jw_str(&w, "device", run->device);
    jw_int(&w, "threads", run->threads);
    jw_int(&w, "repeat", run->repeat);
    jw_int(&w, "warmup", run->warmup);
    jw_open(&w, "seconds", '[');
    for (int i = 0; i < run->n_seconds; i++)
        jw_num(&w, NULL, run->seconds[i]);
    jw_close(&w, ']');
    jw_open(&w, "precisions", '[');
    for (int i = 0; i < run->n_precisions; i++)
        jw_str(&w, NULL, run->precisions[i]);
    jw_close(&w, ']');
    jw_open(&w, "components", '[');
    for (int i = 0; i < run->n_components; i++)
        jw_str(&w, NULL, run->components[i]);
    jw_close(&w, ']');
    jw_close(&w, '}');
    jw_open(&w, "skipped", '[');
    for (int i = 0; i < run->n_skips; i++) {
        jw_open(&w, NULL, '{');
        jw_str(&w, "precision", run->skips[i].precision);
        jw_str(&w, "device", run->skips[i].device);
        jw_str(&w, "reason", run->skips[i].reason);
        jw_close(&w, '}');
    }
    jw_close(&w, ']');
    jw_open(&w, "records", '[');
    for (int i = 0; i < run->n_records; i++)
        jw_record(&w, run, &run->records[i]);
    jw_close(&w, ']');
    jw_close(&w, '}');
    fputc('\n', f);
    return close_and_rename(f, tmp, path, err, err_size);
}

/* ---- markdown ------------------------------------------------------------------------------- */

int av_cli_bench_write_markdown(const char *path, const av_cli_bench_run *run, char *err, size_t err_size)
{
    char tmp[4200];
    FILE *f = open_tmp(path, tmp, sizeof tmp, err, err_size);
    if (!f)
        return -1;
    machine m;
    machine_describe(&m);
    const char *blas = getenv("OPENBLAS_CORETYPE");
    fprintf(f, "Machine: %s (%ld CPUs online), %s. autovoice %s, device %s, %d thread%s, "
            "OPENBLAS_CORETYPE=%s. Date: %s. Command: `%s`.\n\n", m.cpu, m.cpus, m.os,
            av_version_string(), run->device, run->threads, run->threads == 1 ? "" : "s",
            blas ? blas : "unset", run->date, run->command);
    fprintf(f, "Latency in ms over %d run%s after %d warm-up; throughput in seconds of audio per "
            "second (at p50); RTF = p50 / audio length. Accuracy: the first output against "
            "autovoice fp32 on the same inputs.\n\n", run->repeat, run->repeat == 1 ? "" : "s",
            run->warmup);
    fprintf(f, "| component | precision | audio s | p50 | p90 | p99 | audio s/s | RTF | load ms "
            "| build ms | plan ms | arena MiB | peak RSS MiB | SNR dB | correlation | max abs diff |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < run->n_records; i++) {
        const av_cli_bench_record *r = &run->records[i];
        char plan[32] = "-", arena[32] = "-", snr[32] = "-", corr[32] = "-", maxd[32] = "-",
             build[32] = "-";
        if (r->have_build)
            snprintf(build, sizeof build, "%.0f", r->build_ms);
        if (r->have_memory) {
            snprintf(plan, sizeof plan, "%.1f", r->plan_ms);
            snprintf(arena, sizeof arena, "%.1f", (double)r->memory.arena_bytes / MIB);
        }
        if (r->n_outputs && r->outputs[0].have_accuracy) {
            const av_cli_accuracy *a = &r->outputs[0].accuracy;
            format_snr(snr, sizeof snr, a->snr_db);
            snprintf(corr, sizeof corr, "%.6f", a->pearson);
            snprintf(maxd, sizeof maxd, "%.3g", a->max_abs);
        }
        char a[32], b[32], c[32], d[32], e[32];
        fprintf(f, "| %s | %s | %.2f | %s | %s | %s | %s | %s | %.1f | %s | %s | %s | %.0f | %s "
                "| %s | %s |\n", r->component, r->precision, r->audio_seconds,
                num4(a, sizeof a, r->p50), num4(b, sizeof b, r->p90), num4(c, sizeof c, r->p99),
                num4(d, sizeof d, r->throughput), num4(e, sizeof e, r->rtf), r->load_ms, build,
                plan, arena, (double)r->rss_peak_bytes / MIB, snr, corr, maxd);
    }
    int stages = 0;
    for (int i = 0; i < run->n_records; i++)
        stages |= run->records[i].have_stages;
    if (stages) {
        fprintf(f, "\nThe pipeline's stages (`av_converter_last_stats`), median seconds:\n\n"
                "| precision | audio s | total | resample in | F0 | content | pitch | flow | mel "
                "| vocoder | assemble | resample out | chunks |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < run->n_records; i++) {
            const av_cli_bench_record *r = &run->records[i];
            const av_convert_stats *s = &r->stages;
            if (r->have_stages)
                fprintf(f, "| %s | %.2f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f "
                        "| %.3f | %.3f | %d |\n", r->precision, r->audio_seconds, s->total,
                        s->resample_in, s->f0, s->content, s->pitch, s->flow, s->mel, s->vocoder,
                        s->assemble, s->resample_out, s->chunks);
        }
    }
    if (run->n_skips) {
        fprintf(f, "\nSkipped:");
        for (int i = 0; i < run->n_skips; i++)
            fprintf(f, "%s %s on %s, %s", i ? ";" : "", run->skips[i].precision,
                    run->skips[i].device, run->skips[i].reason);
        fprintf(f, ".\n");
    }
    return close_and_rename(f, tmp, path, err, err_size);
}
