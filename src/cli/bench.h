/* `autovoice bench`: what one run measured, shared by cmd_bench.c (measuring) and bench_report.c
 * (the console lines, JSON and markdown). The JSON layout is documented in docs/BENCH_SCHEMA.md;
 * a field added here goes there too. */
#ifndef AV_CLI_BENCH_H
#define AV_CLI_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "autovoice/engine.h"
#include "autovoice/svc.h"
#include "bench_metrics.h"

#define AV_BENCH_MAX_IO 8        /* inputs or outputs of one component */
#define AV_BENCH_MAX_LIST 16     /* entries of --seconds, --precision, --component */
#define AV_BENCH_MAX_PLANS 5     /* plans behind one record: a component's, or the pipeline's */
#define AV_BENCH_MAX_FALLBACKS 4 /* log lines kept per record */

typedef struct av_cli_bench_tensor {
    char name[64];
    char dtype[16];
    int ndim;
    int64_t shape[AV_MAX_DIMS];
    int have_accuracy;           /* outputs: 0 when not float32 (no metric defined) */
    av_cli_accuracy accuracy;    /* against autovoice fp32 on the same inputs */
} av_cli_bench_tensor;

/* A plan a record ran: one the bench built (bf16 and int8 on the CPU) or a plan file it was
 * given (--model FILE.plan, --plans). */
typedef struct av_cli_bench_plan {
    char component[32];
    char precision[16];          /* the precision the plan was built as (av_plan_info) */
    int nodes[6];                /* nodes per av_precision (index AV_PRECISION_FP32, ...) */
    char file[512];              /* the given plan file; "" for a plan this run built */
    char calibration[256];       /* int8 plans this run built: the calibration inputs; else "" */
} av_cli_bench_plan;

/* One (component, precision, length) measurement. Times in milliseconds of wall time. */
typedef struct av_cli_bench_record {
    char component[32];          /* a package component, or "pipeline" */
    char precision[16];
    double seconds;              /* requested length */
    double audio_seconds;        /* what the inputs stand for (rounded to whole frames) */
    int n_inputs, n_outputs;
    av_cli_bench_tensor inputs[AV_BENCH_MAX_IO], outputs[AV_BENCH_MAX_IO];
    double load_ms;              /* model load (parse, fold, optimise) / converter creation */
    double plan_ms;              /* session planning for these shapes (components only) */
    int have_build;              /* the bench built the plan(s) it ran: */
    double build_ms;             /* av_model_save_plan, summed over the pipeline's components */
    int n_plans;                 /* plans that ran; 0: the ONNX graph */
    av_cli_bench_plan plans[AV_BENCH_MAX_PLANS];
    char reference[512];         /* the model the fp32 reference ran; "" when there was none */
    int n_fallbacks;             /* pipeline: the library's lines about running an ONNX file */
    char fallbacks[AV_BENCH_MAX_FALLBACKS][256]; /* instead of a plan */
    int runs, warmup;
    double p50, p90, p99, mean, min, max;
    double device_p50;           /* CUDA: median GPU time of the nodes (CUDA events), else 0 */
    double throughput;           /* seconds of audio per second of wall time, at p50 */
    double rtf;                  /* p50 / audio: below 1 is faster than real time */
    int have_memory;             /* components: the engine's plan facts below */
    av_session_memory memory;
    int64_t rss_peak_bytes;      /* process high-water mark when the record finished */
    int have_stages;             /* pipeline: medians of av_convert_stats over the runs */
    av_convert_stats stages;
    int output_rate;             /* pipeline: Hz of the output waveform */
    char saved[512];             /* --save-tensors: the directory of this record's tensors */
} av_cli_bench_record;

/* A requested variant this build cannot run (it is skipped for every component). */
typedef struct av_cli_bench_skip {
    char precision[16];
    char device[16];
    char reason[160];
} av_cli_bench_skip;

typedef struct av_cli_bench_run {
    char command[2048];          /* the command line, shell-quoted */
    char date[32];               /* UTC, ISO 8601 */
    const char *model;
    const char *input;           /* pipeline input file */
    const char *device;
    int threads, repeat, warmup;
    int n_seconds, n_precisions, n_components;
    double seconds[AV_BENCH_MAX_LIST];
    const char *precisions[AV_BENCH_MAX_LIST];
    const char *components[AV_BENCH_MAX_LIST];
    av_cli_bench_record *records;
    int n_records, cap_records;
    av_cli_bench_skip skips[64];
    int n_skips;
} av_cli_bench_run;

/* bench_report.c */
void av_cli_bench_print_record(FILE *out, const av_cli_bench_record *r);
/* Write PATH.tmp, then rename over PATH; 0 on success, else -1 with err filled. */
int av_cli_bench_write_json(const char *path, const av_cli_bench_run *run, char *err, size_t err_size);
int av_cli_bench_write_markdown(const char *path, const av_cli_bench_run *run, char *err, size_t err_size);

#endif
