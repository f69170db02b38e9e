/* onnx/import over the official ONNX node tests (Debian package libonnx-testdata): every
 * model.onnx and every test_data_set_N/input_N.pb and output_N.pb under
 * /usr/share/libonnx-testdata/data/node (or $AV_ONNX_TESTDATA). Prints the counts and each
 * refusal with its message.
 *
 * Checks: at least 900 models load; a refusal is always AV_STATUS_UNSUPPORTED with a message (the
 * files are valid ONNX, so a FORMAT refusal is an importer bug); for a model that loaded, each
 * .pb of a tensor input / output loads and agrees with the declared element type and known
 * dimensions (string tensors: refused as unsupported); a few values read with Debian's python3
 * and onnx.numpy_helper. Skips (exit 77) when the test data is not installed. */
#define _POSIX_C_SOURCE 200809L /* opendir */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "onnx/import.h"

#define DEFAULT_DIR "/usr/share/libonnx-testdata/data/node"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of `dir` starting with `prefix`; *n gets the count. */
static char **list_dir(const char *dir, const char *prefix, int *n)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    int cap = 0;
    *n = 0;
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char **more = realloc(names, (size_t)cap * sizeof *names);
            if (!more)
                break;
            names = more;
        }
        size_t len = strlen(e->d_name) + 1;
        if (!(names[*n] = malloc(len)))
            break;
        memcpy(names[(*n)++], e->d_name, len);
    }
    closedir(d);
    if (*n)
        qsort(names, (size_t)*n, sizeof *names, cmp_names);
    return names;
}

static void free_list(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static struct {
    int models, models_loaded, models_refused;
    int pbs, pbs_loaded, pbs_refused, pbs_checked, pbs_expected_refusals, quirks;
} count;

/* Inconsistencies of the official data itself (checked with onnx.load and TensorProto parsing
 * in Debian's python3): bfloat16 inputs / outputs stored as uint16 tensors, and CastLike's `like`
 * input stored with shape [1] where the model declares [3, 4]. */
static int known_quirk(const char *test, const av__value *declared, const av__tensor *t)
{
    if (declared->dtype == AV__DT_BF16 && t->dtype == AV__DT_U16)
        return 1;
    return strncmp(test, "test_castlike_", 14) == 0 && strcmp(declared->name, "like") == 0 &&
           t->ndim == 1 && t->shape[0] == 1;
}

/* A .pb of a model that loaded: it must match the declared value (NULL when the model declares
 * fewer inputs / outputs than there are files). */
static void check_pb(const char *test, const char *path, const av__value *declared,
                     const char *what)
{
    av__tensor t;
    char name[256], err[512] = "";
    av_status st = av__onnx_load_tensor_file(path, &t, name, sizeof name, err, sizeof err);
    count.pbs++;
    if (st == AV_STATUS_OK)
        count.pbs_loaded++;
    else
        count.pbs_refused++;
    if (st != AV_STATUS_OK && !err[0]) {
        fprintf(stderr, "%s: refused without a message\n", path);
        CHECK(err[0] != '\0');
    }
    if (declared && declared->dtype == AV__DT_STRING) {
        count.pbs_expected_refusals++;
        if (st != AV_STATUS_UNSUPPORTED || !strstr(err, "string tensors are not supported")) {
            fprintf(stderr, "%s: expected a string refusal, got %d %s\n", path, (int)st, err);
            CHECK_INT(st, AV_STATUS_UNSUPPORTED);
        }
    } else if (declared) {
        count.pbs_checked++;
        if (st != AV_STATUS_OK) {
            fprintf(stderr, "%s (%s of a loaded model): %s\n", path, what, err);
            CHECK_INT(st, AV_STATUS_OK);
        } else {
            int same = declared->dtype == AV__DT_UNDEFINED || declared->dtype == t.dtype;
            if (declared->ndim >= 0) {
                same &= declared->ndim == t.ndim;
                for (int k = 0; same && k < t.ndim; k++)
                    same &= declared->dims[k].value < 0 || declared->dims[k].value == t.shape[k];
            }
            if (!same && known_quirk(test, declared, &t)) {
                count.quirks++;
                printf("note: %s: %s rank %d for the declared %s '%s' rank %d (a quirk of the "
                       "official data)\n", path, av__dtype_name(t.dtype), t.ndim,
                       av__dtype_name(declared->dtype), declared->name, declared->ndim);
            } else if (!same) {
                fprintf(stderr, "%s: %s rank %d does not match the declared %s '%s' rank %d\n",
                        path, av__dtype_name(t.dtype), t.ndim, av__dtype_name(declared->dtype),
                        declared->name, declared->ndim);
                CHECK(same);
            }
            if (name[0] && strcmp(name, declared->name) != 0)
                printf("note: %s is named '%s', the model's %s is '%s'\n", path, name, what,
                       declared->name);
        }
    }
    av__aligned_free(t.data);
}

static void check_dir(const char *root, const char *test)
{
    char path[4096], err[512] = "";
    av__graph *g = NULL;
    snprintf(path, sizeof path, "%s/%s/model.onnx", root, test);
    av_status st = av__onnx_load_file(path, &g, err, sizeof err);
    count.models++;
    if (st == AV_STATUS_OK) {
        count.models_loaded++;
    } else {
        count.models_refused++;
        const char *msg = strstr(err, "model.onnx: ");
        printf("refused %-55s %s\n", test, msg ? msg + 12 : err);
        CHECK(msg && msg[12] != '\0');
        if (st != AV_STATUS_UNSUPPORTED) {
            fprintf(stderr, "%s: refused with status %d (%s), expected unsupported\n", test,
                    (int)st, av_status_string(st));
            CHECK_INT(st, AV_STATUS_UNSUPPORTED);
        }
    }

    snprintf(path, sizeof path, "%s/%s", root, test);
    int n_sets;
    char **sets = list_dir(path, "test_data_set_", &n_sets);
    for (int s = 0; s < n_sets; s++) {
        char set_dir[2048];
        snprintf(set_dir, sizeof set_dir, "%s/%s/%s", root, test, sets[s]);
        int n_files;
        char **files = list_dir(set_dir, "", &n_files);
        for (int f = 0; f < n_files; f++) {
            int index, output = strncmp(files[f], "output_", 7) == 0;
            size_t len = strlen(files[f]);
            if (len < 4 || strcmp(files[f] + len - 3, ".pb") != 0)
                continue;
            if (sscanf(files[f] + (output ? 7 : 6), "%d", &index) != 1)
                continue;
            const av__value *declared = NULL;
            if (g && !output && index < g->n_inputs)
                declared = &g->values[g->inputs[index]];
            if (g && output && index < g->n_outputs)
                declared = &g->values[g->outputs[index]];
            snprintf(path, sizeof path, "%s/%s", set_dir, files[f]);
            check_pb(test, path, declared, output ? "output" : "input");
        }
        free_list(files, n_files);
    }
    free_list(sets, n_sets);
    av__graph_free(g);
}

/* Values read with Debian's python3:
 *   onnx.numpy_helper.to_array(t).view(np.uint32 / np.uint16).flat[...] */
static void check_known_values(const char *root)
{
    char path[2048], name[64], err[512] = "";
    av__tensor t;

    snprintf(path, sizeof path, "%s/test_add/test_data_set_0/input_0.pb", root);
    CHECK_INT(av__onnx_load_tensor_file(path, &t, name, sizeof name, err, sizeof err),
              AV_STATUS_OK);
    CHECK_STR(name, "x");
    CHECK_INT(t.dtype, AV__DT_F32);
    CHECK_INT(t.ndim, 3);
    CHECK(t.shape[0] == 3 && t.shape[1] == 4 && t.shape[2] == 5);
    if (t.data) {
        const uint32_t *u = t.data;
        const float *f = t.data;
        CHECK_INT(u[0], 1071762552u); /* 1.7640524 */
        CHECK_INT(u[1], 1053614440u); /* 0.4001572 */
        CHECK_NEAR(f[59], -0.36274117, 1e-7);
    }
    av__aligned_free(t.data);

    snprintf(path, sizeof path, "%s/test_add/test_data_set_0/output_0.pb", root);
    CHECK_INT(av__onnx_load_tensor_file(path, &t, name, sizeof name, err, sizeof err),
              AV_STATUS_OK);
    CHECK_STR(name, "sum");
    if (t.data) {
        CHECK_NEAR(((const float *)t.data)[0], 1.091592, 1e-6);
        CHECK_NEAR(((const float *)t.data)[59], 0.5594655, 1e-6);
    }
    av__aligned_free(t.data);

    snprintf(path, sizeof path, "%s/test_cast_FLOAT_to_FLOAT16/test_data_set_0/output_0.pb", root);
    CHECK_INT(av__onnx_load_tensor_file(path, &t, name, sizeof name, err, sizeof err),
              AV_STATUS_OK);
    CHECK_INT(t.dtype, AV__DT_F16);
    CHECK(t.ndim == 2 && t.shape[0] == 3 && t.shape[1] == 4);
    if (t.data) {
        CHECK_INT(((const uint16_t *)t.data)[0], 14436); /* 0.549 */
        CHECK_INT(((const uint16_t *)t.data)[1], 14777); /* 0.7153 */
    }
    av__aligned_free(t.data);

    snprintf(path, sizeof path, "%s/test_argmax_default_axis_example/test_data_set_0/output_0.pb",
             root);
    CHECK_INT(av__onnx_load_tensor_file(path, &t, name, sizeof name, err, sizeof err),
              AV_STATUS_OK);
    CHECK_INT(t.dtype, AV__DT_I64);
    CHECK(t.ndim == 2 && t.shape[0] == 1 && t.shape[1] == 2);
    if (t.data)
        CHECK(((const int64_t *)t.data)[0] == 1 && ((const int64_t *)t.data)[1] == 1);
    av__aligned_free(t.data);

    av__graph *g = NULL;
    snprintf(path, sizeof path, "%s/test_argmax_default_axis_example/model.onnx", root);
    CHECK_INT(av__onnx_load_file(path, &g, err, sizeof err), AV_STATUS_OK);
    if (g) {
        CHECK_INT(g->n_nodes, 1);
        CHECK_STR(g->nodes[0].op_type, "ArgMax");
        CHECK_INT(av__attr_int(&g->nodes[0], "keepdims", -1), 1);
        CHECK_INT(g->n_inputs, 1);
        CHECK_STR(g->values[g->inputs[0]].name, "data");
        CHECK_STR(g->values[g->outputs[0]].name, "result");
        CHECK_INT(g->values[g->outputs[0]].dtype, AV__DT_I64);
        av__graph_free(g);
    }
}

int main(void)
{
    const char *root = getenv("AV_ONNX_TESTDATA");
    if (!root || !root[0])
        root = DEFAULT_DIR;
    int n_tests;
    char **tests = list_dir(root, "test_", &n_tests);
    if (!tests)
        SKIP("%s not found (Debian package libonnx-testdata)", root);
    for (int i = 0; i < n_tests; i++)
        check_dir(root, tests[i]);
    free_list(tests, n_tests);
    check_known_values(root);

    printf("models: %d, loaded %d, refused %d (with a message), crashed 0\n", count.models,
           count.models_loaded, count.models_refused);
    printf(".pb tensors: %d, loaded %d, refused %d; of loaded models: %d checked against the "
           "declared type (%d known quirks of the data), %d string tensors refused as expected\n",
           count.pbs, count.pbs_loaded, count.pbs_refused, count.pbs_checked, count.quirks,
           count.pbs_expected_refusals);
    CHECK(count.models_loaded >= 900);
    return check_report("test_onnx_testdata");
}
