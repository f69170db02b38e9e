/* libFuzzer target for the plan loader (src/engine/plan.c): feeds each input to
 * av__plan_load_memory and checks what a successful load promises (engine/plan_format.h). An
 * input that starts with the plan magic and holds a whole header first gets this library's
 * version and a correct checksum, as tests/c/test_plan.c does when it replays the corpus: the
 * fuzzer then reaches the section parsers instead of stopping at the checksum, and the seeds stay
 * valid across library versions. Build and run: tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_internal.h"
#include "engine/plan_format.h"
#include "ops/conv_dnnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef AV_FUZZ_NO_BUILD_INFO
/* src/core/build_info.c stays out of the clang build (clang 14 does not know the "f16c" name
 * that its __builtin_cpu_supports uses); this stands in for its one function the loader needs. */
const char *av_version_string(void) { return "0.0.0-fuzz"; }
#endif

static void check_model(const av_model *m)
{
    const av__graph *g = m->g;
    av_plan_info info;
    if (!av_model_is_plan(m) || av_model_plan_info(m, &info) != AV_STATUS_OK)
        abort();
    int counted[6] = {0}; /* the recorded precisions are what the nodes compute in */
    for (int n = 0; n < g->n_nodes; n++) {
        av_precision p = av__node_precision(&g->nodes[n]);
        if (p < AV_PRECISION_FP32 || p > AV_PRECISION_INT8)
            abort();
        counted[p]++;
    }
    if (memcmp(counted, info.nodes_by_precision, sizeof counted) != 0)
        abort();
    unsigned char *defined = calloc((size_t)g->n_values + 1, 1);
    if (!defined)
        abort();
    volatile unsigned char sink = 0;
    for (int v = 0; v < g->n_values; v++) {
        const av__value *val = &g->values[v];
        if ((val->flags & AV__VALUE_INPUT) && (val->flags & AV__VALUE_CONST))
            abort();
        defined[v] = (val->flags & (AV__VALUE_INPUT | AV__VALUE_CONST)) != 0;
        if (!(val->flags & AV__VALUE_CONST))
            continue;
        const av__tensor *t = &val->constant;
        size_t bytes = av__tensor_bytes(t);
        if (!t->data || (uintptr_t)t->data % 64 || bytes == SIZE_MAX || t->ndim < 0 ||
            t->ndim > AV__MAX_DIMS)
            abort();
        const unsigned char *b = t->data;
        for (size_t i = 0; i < bytes + 64; i++) /* 64 readable bytes past the end, as promised */
            sink ^= b[i];
        for (size_t i = 0; t->dtype == AV__DT_BOOL && i < bytes; i++)
            if (b[i] > 1)
                abort();
    }
    for (int n = 0; n < g->n_nodes; n++) {
        const av__node *node = &g->nodes[n];
        if (!m->ops[n])
            abort();
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] >= 0 && (node->inputs[i] >= g->n_values || !defined[node->inputs[i]]))
                abort(); /* not in topological order */
        for (int o = 0; o < node->n_outputs; o++) {
            int v = node->outputs[o];
            if (v >= 0 && (v >= g->n_values || defined[v] || g->values[v].producer != n))
                abort();
            if (v >= 0)
                defined[v] = 1;
        }
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (!defined[g->outputs[i]])
            abort();
    for (int i = 0; i < info.n_profiles; i++) {
        av_plan_profile p;
        if (av_model_plan_profile(m, i, &p) != AV_STATUS_OK || p.ndim < 1 || p.ndim > AV_MAX_DIMS)
            abort();
        for (int d = 0; d < p.ndim; d++)
            if (p.min[d] < 1 || p.min[d] > p.opt[d] || p.opt[d] > p.max[d])
                abort();
    }
    (void)sink;
    free(defined);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    if (size >= AV__PLAN_HEADER_SIZE && av__plan_sniff(copy, size)) {
        const char *version = av_version_string();
        memset(copy + AV__PLAN_OFF_LIBRARY, 0, AV__PLAN_LIBRARY_SIZE);
        memcpy(copy + AV__PLAN_OFF_LIBRARY, version, strlen(version));
        uint64_t sum = av__plan_checksum(copy, size);
        memcpy(copy + AV__PLAN_OFF_CHECKSUM, &sum, 8);
    }
    char err[1024] = "";
    av_model *m = (av_model *)(uintptr_t)1;
    if (av__plan_load_memory(copy, size, "fuzz.plan", &m, err, sizeof err) != AV_STATUS_OK) {
        if (m || strncmp(err, "fuzz.plan: ", 11) != 0)
            abort(); /* a failure leaves *out NULL and says why, naming the input */
    } else {
        check_model(m);
        av_model_free(m);
    }
    free(copy);
    return 0;
}
