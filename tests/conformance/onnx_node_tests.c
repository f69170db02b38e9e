/* Runs the official ONNX node tests (Debian's libonnx-testdata) through the engine's public API.
 *
 * usage: onnx_node_tests DATA_DIR [--filter SUBSTRING] [--exclusions FILE] [--tolerances FILE]
 *                        [--min-pass N] [--quiet]
 *
 * One line per test: PASS, FAIL (with the reason), UNSUPPORTED (the engine refuses the model or its
 * data as not implemented: an operator it does not register, sequence/optional/string types) or EXCLUDED (listed in the exclusions file, with its reason); then a
 * totals line. Outputs are compared as ONNX's backend tests do: |got - want| <= atol + rtol|want|
 * with rtol 1e-3, atol 1e-7 unless the tolerances file overrides them for that test; NaN matches
 * NaN; integers and bools must be equal. Exit status 0 when nothing failed and at least
 * --min-pass tests passed. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "autovoice/engine.h"
#include "graph/ir.h"
#include "onnx/import.h"
#include "ops/op.h"

#define MAX_LIST 512

typedef struct entry {
    char name[160];
    char reason[240];
    double rtol, atol;
} entry;

static int load_list(const char *path, entry *list, int with_tolerances)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    int n = 0;
    char line[512];
    while (fgets(line, sizeof line, f) && n < MAX_LIST) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        entry *e = &list[n];
        int consumed = 0;
        if (with_tolerances) {
            if (sscanf(line, "%159s %lf %lf %n", e->name, &e->rtol, &e->atol, &consumed) < 3)
                continue;
        } else if (sscanf(line, "%159s %n", e->name, &consumed) < 1) {
            continue;
        }
        snprintf(e->reason, sizeof e->reason, "%s", line + consumed);
        e->reason[strcspn(e->reason, "\n")] = '\0';
        n++;
    }
    fclose(f);
    return n;
}

/* name matches a pattern: shell-style wildcards (fnmatch) */
static const entry *find_entry(const entry *list, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (fnmatch(list[i].name, name, 0) == 0)
            return &list[i];
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_float(av__dtype t)
{
    return t == AV__DT_F32 || t == AV__DT_F64 || t == AV__DT_F16 || t == AV__DT_BF16;
}

/* Compares got with want; on mismatch writes the reason. */
static int compare(const av_tensor *got, const av__tensor *want, double rtol, double atol,
                   char *why, size_t n)
{
    if ((av__dtype)got->dtype != want->dtype) {
        snprintf(why, n, "dtype %s, expected %s", av_dtype_name(got->dtype),
                 av__dtype_name(want->dtype));
        return 0;
    }
    if (got->ndim != want->ndim || memcmp(got->shape, want->shape, (size_t)want->ndim * 8) != 0) {
        char a[128] = "", b[128] = "";
        for (int d = 0; d < got->ndim; d++)
            snprintf(a + strlen(a), sizeof a - strlen(a), "%s%lld", d ? "x" : "", (long long)got->shape[d]);
        for (int d = 0; d < want->ndim; d++)
            snprintf(b + strlen(b), sizeof b - strlen(b), "%s%lld", d ? "x" : "", (long long)want->shape[d]);
        snprintf(why, n, "shape [%s], expected [%s]", a, b);
        return 0;
    }
    av__tensor g = {.dtype = want->dtype, .ndim = want->ndim, .data = (void *)(uintptr_t)got->data};
    memcpy(g.shape, want->shape, sizeof g.shape);
    int64_t count = av__tensor_count(want);
    int64_t bad = 0, first = -1;
    double worst = 0;
    for (int64_t i = 0; i < count; i++) {
        int ok;
        if (is_float(want->dtype)) {
            double x = av__tensor_get_f64(&g, i), y = av__tensor_get_f64(want, i);
            if (isnan(x) || isnan(y))
                ok = isnan(x) && isnan(y);
            else if (isinf(y) || isinf(x))
                ok = x == y;
            else
                ok = fabs(x - y) <= atol + rtol * fabs(y);
            if (!ok && fabs(x - y) > worst)
                worst = fabs(x - y);
        } else {
            ok = av__tensor_get_i64(&g, i) == av__tensor_get_i64(want, i);
        }
        if (!ok) {
            if (first < 0)
                first = i;
            bad++;
        }
    }
    if (bad) {
        snprintf(why, n, "%lld of %lld values differ (first at %lld: got %.9g, expected %.9g; "
                 "worst |diff| %.3g)", (long long)bad, (long long)count, (long long)first,
                 av__tensor_get_f64(&g, first), av__tensor_get_f64(want, first), worst);
        return 0;
    }
    return 1;
}

enum { R_PASS, R_FAIL, R_UNSUPPORTED, R_EXCLUDED };

/* The official data stores bfloat16 tensors as uint16 (a quirk of ONNX's test generator at
 * 1.12): when the model says bfloat16, take the bits as bfloat16. */
static void fix_bfloat16(av__tensor *t, av_dtype declared)
{
    if (declared == AV_DTYPE_BFLOAT16 && t->dtype == AV__DT_U16)
        t->dtype = AV__DT_BF16;
}

static int run_test(const char *dir, double rtol, double atol, char *why, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    av_model *m = NULL;
    char err[1024];
    av_status st = av_model_load(path, &m, err, sizeof err);
    if (st != AV_STATUS_OK) {
        /* The engine refuses what it does not implement (operators, sequence/optional types)
         * with AV_STATUS_UNSUPPORTED: not a failure of a claimed operator. */
        const char *msg = strstr(err, "unsupported operator") ? strstr(err, "unsupported operator") : err;
        snprintf(why, n, "%s", msg);
        return st == AV_STATUS_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
    }
    av_session_config cfg = av_session_config_default();
    cfg.threads = 1;
    av_session *s = NULL;
    int result = R_FAIL;
    av__tensor inputs[32], outputs[32];
    int n_in = 0, n_out = 0;
    if (av_session_create(m, &cfg, &s, err, sizeof err) != AV_STATUS_OK) {
        snprintf(why, n, "%s", err);
        goto done;
    }
    int model_in = av_model_input_count(m), model_out = av_model_output_count(m);
    for (int i = 0; i < model_in && i < 32; i++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, i);
        char name[256];
        if ((st = av__onnx_load_tensor_file(path, &inputs[i], name, sizeof name, err, sizeof err)) != AV_STATUS_OK) {
            snprintf(why, n, "input %d: %s", i, err);
            if (st == AV_STATUS_UNSUPPORTED)
                result = R_UNSUPPORTED;
            goto done;
        }
        n_in++;
        av_tensor info;
        av_model_input(m, i, &info);
        fix_bfloat16(&inputs[i], info.dtype);
        if (av_session_set_input(s, info.name, (av_dtype)inputs[i].dtype, inputs[i].ndim,
                                 inputs[i].shape, inputs[i].data) != AV_STATUS_OK) {
            snprintf(why, n, "%s", av_session_last_error(s));
            goto done;
        }
    }
    for (int i = 0; i < model_out && i < 32; i++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, i);
        char name[256];
        if ((st = av__onnx_load_tensor_file(path, &outputs[i], name, sizeof name, err, sizeof err)) != AV_STATUS_OK) {
            snprintf(why, n, "output %d: %s", i, err);
            if (st == AV_STATUS_UNSUPPORTED)
                result = R_UNSUPPORTED;
            goto done;
        }
        n_out++;
        av_tensor info;
        av_model_output(m, i, &info);
        fix_bfloat16(&outputs[i], info.dtype);
    }
    if (av_session_run(s) != AV_STATUS_OK) {
        snprintf(why, n, "%s", av_session_last_error(s));
        goto done;
    }
    for (int i = 0; i < n_out; i++) {
        av_tensor info, got;
        av_model_output(m, i, &info);
        if (av_session_get_output(s, info.name, &got) != AV_STATUS_OK) {
            snprintf(why, n, "%s", av_session_last_error(s));
            goto done;
        }
        char reason[512];
        if (!compare(&got, &outputs[i], rtol, atol, reason, sizeof reason)) {
            snprintf(why, n, "output '%s': %s", info.name, reason);
            goto done;
        }
    }
    result = R_PASS;
done:
    for (int i = 0; i < n_in; i++)
        av__aligned_free(inputs[i].data);
    for (int i = 0; i < n_out; i++)
        av__aligned_free(outputs[i].data);
    av_session_free(s);
    av_model_free(m);
    return result;
}

int main(int argc, char **argv)
{
    const char *data = NULL, *filter = NULL, *excl_path = NULL, *tol_path = NULL;
    int min_pass = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--filter") && i + 1 < argc)
            filter = argv[++i];
        else if (!strcmp(argv[i], "--exclusions") && i + 1 < argc)
            excl_path = argv[++i];
        else if (!strcmp(argv[i], "--tolerances") && i + 1 < argc)
            tol_path = argv[++i];
        else if (!strcmp(argv[i], "--min-pass") && i + 1 < argc)
            min_pass = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (!data)
            data = argv[i];
        else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!data) {
        fprintf(stderr, "usage: onnx_node_tests DATA_DIR [--filter S] [--exclusions F] "
                        "[--tolerances F] [--min-pass N] [--quiet]\n");
        return 2;
    }
    static entry excl[MAX_LIST], tol[MAX_LIST];
    int n_excl = excl_path ? load_list(excl_path, excl, 0) : 0;
    int n_tol = tol_path ? load_list(tol_path, tol, 1) : 0;
    if (n_excl < 0 || n_tol < 0)
        return 2;
    DIR *d = opendir(data);
    if (!d) {
        printf("SKIP: %s not found (install Debian's libonnx-testdata)\n", data);
        return 77;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || (filter && !strstr(de->d_name, filter)))
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 1024;
            names = realloc(names, cap * sizeof *names);
        }
        names[count++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof *names, cmp_str);
    int totals[4] = {0};
    static const char *const label[] = {"PASS", "FAIL", "UNSUPPORTED", "EXCLUDED"};
    for (size_t i = 0; i < count; i++) {
        char dir[1024], why[1024] = "";
        snprintf(dir, sizeof dir, "%s/%s", data, names[i]);
        int r;
        const entry *x = find_entry(excl, n_excl, names[i]);
        if (x) {
            r = R_EXCLUDED;
            snprintf(why, sizeof why, "%s", x->reason);
        } else {
            const entry *t = find_entry(tol, n_tol, names[i]);
            r = run_test(dir, t ? t->rtol : 1e-3, t ? t->atol : 1e-7, why, sizeof why);
        }
        totals[r]++;
        if (!quiet || r == R_FAIL)
            printf("%-11s %s%s%s\n", label[r], names[i], why[0] ? ": " : "", why);
        free(names[i]);
    }
    free(names);
    printf("onnx node tests: %d passed, %d failed, %d unsupported, %d excluded, %zu in all\n",
           totals[R_PASS], totals[R_FAIL], totals[R_UNSUPPORTED], totals[R_EXCLUDED], count);
    if (totals[R_PASS] < min_pass)
        printf("onnx node tests: fewer than the required %d passed\n", min_pass);
    return totals[R_FAIL] || totals[R_PASS] < min_pass ? 1 : 0;
}
