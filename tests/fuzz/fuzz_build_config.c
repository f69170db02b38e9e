/* libFuzzer target for builder/build_config: feeds each input to av__build_config_parse (the
 * `tensorrt` block of config/model_config.yaml or a model.yaml) and checks what build_config.h
 * promises: a success gives booleans 0/1, values in their ranges, profiles of 1 to 8 dimensions
 * with 1 <= min <= opt <= max under known component and input names, non-empty strings; a
 * failure leaves the defaults and a message that starts with the file name (FORMAT with
 * "NAME:LINE:COLUMN: ", or NOT_FOUND without a `tensorrt` block). libyaml is not instrumented.
 * Build and run: tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build_config.h"

#define NAME "fuzz.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_default(const av__build_config *c)
{
    av__build_config d = av__build_config_default();
    return c->fp16 == d.fp16 && c->bf16 == d.bf16 && c->int8 == d.int8 &&
           c->strict_types == d.strict_types && c->workspace_mb == d.workspace_mb &&
           !c->profiles && !c->profile_count && !c->keep && !c->keep_count &&
           c->calib.method == d.calib.method && c->calib.percentile == d.calib.percentile &&
           !c->calib.data && !c->calib.cache_dir && c->calib.batches == d.calib.batches;
}

static int good_string(const char *s)
{
    return s && s[0];
}

static int is_bool(int v)
{
    return v == 0 || v == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    av__build_config c;
    memset(&c, 0x5a, sizeof c);
    av_status st = av__build_config_parse((const char *)data, size, NAME, &c, err, sizeof err);
    if (st != AV_STATUS_OK) {
        if ((st != AV_STATUS_FORMAT && st != AV_STATUS_NOT_FOUND) || !is_default(&c) ||
            !memchr(err, '\0', sizeof err) || strncmp(err, NAME ":", strlen(NAME ":")) != 0)
            abort();
        return 0;
    }
    if (!is_bool(c.fp16) || !is_bool(c.bf16) || !is_bool(c.int8) || !is_bool(c.strict_types) ||
        c.workspace_mb < 0 || c.workspace_mb > 1048576 ||
        (unsigned)c.calib.method > AV__CALIB_METHOD_PERCENTILE ||
        !(c.calib.percentile > 0 && c.calib.percentile <= 100) || c.calib.batches < 1 ||
        c.calib.batches > 1000000 || (c.calib.data && !good_string(c.calib.data)) ||
        (c.calib.cache_dir && !good_string(c.calib.cache_dir)) ||
        (c.profile_count && !c.profiles) || (c.keep_count && !c.keep))
        abort();
    for (size_t i = 0; i < c.profile_count; i++) {
        const av__build_profile *p = &c.profiles[i];
        if (!good_string(p->component) || !good_string(p->input) || p->rank < 1 ||
            p->rank > AV__BUILD_MAX_RANK)
            abort();
        for (int d = 0; d < p->rank; d++)
            if (!(1 <= p->min[d] && p->min[d] <= p->opt[d] && p->opt[d] <= p->max[d]))
                abort();
        for (size_t j = 0; j < i; j++) /* one profile per input */
            if (!strcmp(c.profiles[j].component, p->component) &&
                !strcmp(c.profiles[j].input, p->input))
                abort();
        if (av__build_config_profile(&c, p->component, p->input) != p)
            abort();
    }
    for (size_t i = 0; i < c.keep_count; i++) {
        const av__build_keep *k = &c.keep[i];
        if (!good_string(k->component) || (k->count && !k->layers))
            abort();
        for (size_t j = 0; j < k->count; j++)
            if (!good_string(k->layers[j]))
                abort();
        if (av__build_config_keep(&c, k->component) != k)
            abort();
    }
    av__build_config_free(&c);
    if (!is_default(&c))
        abort(); /* free leaves the defaults */
    return 0;
}
