/* The builder's YAML configuration through libyaml's document API (as svc/package.c reads
 * model.yaml). Every node keeps its start mark, so each refusal names file:line:column and the
 * dotted key path. Schema and contracts: build_config.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "builder/build_config.h"
#include "core/internal.h"

#define MAX_FILE_BYTES (16u << 20)
#define PATH_LEN 256

/* The components and their graph inputs (docs/MODEL_PACKAGE.md). */
static const struct {
    const char *name;
    const char *inputs[4];
} components[] = {
    {"content_encoder", {"input_audio"}},
    {"pitch_encoder", {"f0_input", "voiced_mask"}},
    {"flow_decoder", {"latent_input", "mask", "conditioning"}},
    {"mel_projection", {"latent_input"}},
    {"vocoder", {"mel_input"}},
};
#define COMPONENT_COUNT (sizeof components / sizeof components[0])

static const char *const keep_groups[] = {"first_conv", "upsamplers", "last_conv"};

typedef struct ctx {
    yaml_document_t doc;
    const char *name;
    char *err;
    size_t err_size;
} ctx;

av__build_config av__build_config_default(void)
{
    av__build_config c;
    memset(&c, 0, sizeof c);
    c.calib.method = AV__CALIB_METHOD_ENTROPY;
    c.calib.percentile = AV__CALIB_DEFAULT_PERCENTILE;
    c.calib.batches = 32;
    return c;
}

void av__build_config_free(av__build_config *cfg)
{
    if (!cfg)
        return;
    for (size_t k = 0; k < cfg->keep_count; k++) {
        for (size_t i = 0; i < cfg->keep[k].count; i++)
            av__free(cfg->keep[k].layers[i]);
        av__free(cfg->keep[k].layers);
    }
    av__free(cfg->keep);
    av__free(cfg->profiles);
    av__free(cfg->calib.data);
    av__free(cfg->calib.cache_dir);
    *cfg = av__build_config_default();
}

/* ---- messages and node helpers --------------------------------------------------------------- */

/* "NAME:LINE:COLUMN: PATH: message" at node n. */
__attribute__((format(printf, 4, 5))) static av_status fail_at(ctx *c, const yaml_node_t *n,
                                                               const char *path, const char *fmt,
                                                               ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return av__fail(c->err, c->err_size, AV_STATUS_FORMAT, "%s:%zu:%zu: %s: %s", c->name,
                    n->start_mark.line + 1, n->start_mark.column + 1, path, msg);
}

static yaml_node_t *node(ctx *c, int id)
{
    return yaml_document_get_node(&c->doc, id);
}

static const char *text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static int is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int is_null(const yaml_node_t *n)
{
    if (!is_plain(n))
        return 0;
    const char *s = text(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* What a node is, for "expected X, got Y". */
static const char *kind(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (is_null(n))
        return "nothing (null)";
    return is_plain(n) ? "a plain scalar" : "a quoted string";
}

/* A key path into out[PATH_LEN] (paths are built from schema names only, so they fit). */
__attribute__((format(printf, 2, 3))) static void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_LEN, fmt, ap);
    va_end(ap);
}

static void join(char *out, const char *path, const char *key)
{
    pathf(out, "%s.%s", path, key);
}

/* Checks that mapping `map` has only keys from allowed[] (NULL-terminated; NULL allowed = any
 * key, checked by the caller) and none twice. */
static av_status check_keys(ctx *c, const yaml_node_t *map, const char *path,
                            const char *const *allowed)
{
    if (map->type != YAML_MAPPING_NODE)
        return fail_at(c, map, path, "expected a mapping, got %s", kind(map));
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node(c, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return fail_at(c, k, path, "keys must be names, got %s", kind(k));
        int known = !allowed;
        for (size_t i = 0; allowed && allowed[i]; i++)
            known |= !strcmp(text(k), allowed[i]);
        if (!known) {
            char list[256] = "";
            for (size_t i = 0; allowed[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                         allowed[i]);
            return fail_at(c, k, path, "unknown key '%s' (expected one of: %s)", text(k), list);
        }
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            const yaml_node_t *k2 = node(c, q->key);
            if (k2->type == YAML_SCALAR_NODE && !strcmp(text(k2), text(k)))
                return fail_at(c, k, path, "key '%s' given twice (first on line %zu)", text(k),
                               k2->start_mark.line + 1);
        }
    }
    return AV_STATUS_OK;
}

/* The value of `key` in mapping `map` (keys already checked), or NULL. */
static yaml_node_t *get(ctx *c, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
        if (!strcmp(text(node(c, p->key)), key))
            return node(c, p->value);
    return NULL;
}

static av_status get_bool(ctx *c, const yaml_node_t *n, const char *path, int *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False",
                                                                               "FALSE"};
    if (is_plain(n))
        for (int i = 0; i < 3; i++) {
            if (!strcmp(text(n), yes[i]))
                return *out = 1, AV_STATUS_OK;
            if (!strcmp(text(n), no[i]))
                return *out = 0, AV_STATUS_OK;
        }
    if (n->type == YAML_SCALAR_NODE && !is_null(n))
        return fail_at(c, n, path, "expected true or false, got '%s'", text(n));
    return fail_at(c, n, path, "expected true or false, got %s", kind(n));
}

/* A plain decimal integer in [lo, hi]. */
static av_status get_int(ctx *c, const yaml_node_t *n, const char *path, int64_t lo, int64_t hi,
                         int64_t *out)
{
    if (!is_plain(n) || is_null(n))
        return fail_at(c, n, path, "expected an integer, got %s", kind(n));
    const char *s = text(n);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || (s[0] != '-' && s[0] != '+' && (s[0] < '0' || s[0] > '9')))
        return fail_at(c, n, path, "expected an integer, got '%s'", s);
    if (errno == ERANGE || v < lo || v > hi)
        return fail_at(c, n, path, "%s is out of range [%" PRId64 ", %" PRId64 "]", s, lo, hi);
    *out = v;
    return AV_STATUS_OK;
}

/* A non-empty string, copied. */
static av_status get_string(ctx *c, const yaml_node_t *n, const char *path, char **out)
{
    if (n->type != YAML_SCALAR_NODE || is_null(n))
        return fail_at(c, n, path, "expected a non-empty string, got %s", kind(n));
    size_t len = n->data.scalar.length;
    if (len == 0 || memchr(text(n), '\0', len))
        return fail_at(c, n, path, "expected a non-empty string without NUL characters");
    char *s = av__malloc(len + 1);
    if (!s)
        return av__fail(c->err, c->err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    memcpy(s, text(n), len + 1);
    av__free(*out);
    *out = s;
    return AV_STATUS_OK;
}

/* ---- the blocks ------------------------------------------------------------------------------ */

static av_status parse_precision(ctx *c, const yaml_node_t *map, const char *path,
                                 av__build_config *cfg)
{
    static const char *const keys[] = {"fp16", "bf16", "int8", "strict_types", NULL};
    int *fields[] = {&cfg->fp16, &cfg->bf16, &cfg->int8, &cfg->strict_types};
    av_status st = check_keys(c, map, path, keys);
    for (int i = 0; st == AV_STATUS_OK && keys[i]; i++) {
        const yaml_node_t *v = get(c, map, keys[i]);
        char sub[PATH_LEN];
        join(sub, path, keys[i]);
        if (v)
            st = get_bool(c, v, sub, fields[i]);
    }
    return st;
}

/* One of min/opt/max: a list of 1..AV__BUILD_MAX_RANK positive integers. */
static av_status parse_dims(ctx *c, const yaml_node_t *n, const char *path, int64_t *dims,
                            int *rank)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail_at(c, n, path, "expected a list of dimensions like [1, 8000], got %s",
                       kind(n));
    size_t r = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (r < 1 || r > AV__BUILD_MAX_RANK)
        return fail_at(c, n, path, "a shape has 1 to %d dimensions, this one %zu",
                       AV__BUILD_MAX_RANK, r);
    for (size_t i = 0; i < r; i++) {
        const yaml_node_t *d = node(c, n->data.sequence.items.start[i]);
        char sub[PATH_LEN];
        pathf(sub, "%s[%zu]", path, i);
        av_status st = get_int(c, d, sub, INT64_MIN, INT64_MAX, &dims[i]);
        if (st != AV_STATUS_OK)
            return st;
        if (dims[i] < 1)
            return fail_at(c, d, sub, "dimension %" PRId64 " is not positive (dimensions are >= 1)",
                           dims[i]);
        if (dims[i] > INT32_MAX)
            return fail_at(c, d, sub, "dimension %" PRId64 " is out of range [1, %d]", dims[i],
                           INT32_MAX);
    }
    *rank = (int)r;
    return AV_STATUS_OK;
}

static av_status parse_profile(ctx *c, const yaml_node_t *map, const char *path,
                               av__build_profile *p)
{
    static const char *const keys[] = {"min", "opt", "max", NULL};
    int64_t *dims[] = {p->min, p->opt, p->max};
    int ranks[3];
    av_status st = check_keys(c, map, path, keys);
    for (int i = 0; st == AV_STATUS_OK && i < 3; i++) {
        const yaml_node_t *v = get(c, map, keys[i]);
        char sub[PATH_LEN];
        join(sub, path, keys[i]);
        if (!v)
            return fail_at(c, map, path, "missing '%s' (a profile needs min, opt and max)",
                           keys[i]);
        if ((st = parse_dims(c, v, sub, dims[i], &ranks[i])) != AV_STATUS_OK)
            return st;
        if (i > 0 && ranks[i] != ranks[0])
            return fail_at(c, v, sub, "rank mismatch: min has %d dimensions, %s has %d", ranks[0],
                           keys[i], ranks[i]);
    }
    if (st != AV_STATUS_OK)
        return st;
    p->rank = ranks[0];
    for (int d = 0; d < p->rank; d++)
        if (!(p->min[d] <= p->opt[d] && p->opt[d] <= p->max[d])) {
            const char *bad = p->min[d] > p->opt[d] ? "opt" : "max";
            const yaml_node_t *list = get(c, map, bad);
            char sub[PATH_LEN];
            pathf(sub, "%s.%s[%d]", path, bad, d);
            return fail_at(c, node(c, list->data.sequence.items.start[d]), sub,
                           "min <= opt <= max does not hold in dimension %d: min %" PRId64
                           ", opt %" PRId64 ", max %" PRId64, d, p->min[d], p->opt[d], p->max[d]);
        }
    return AV_STATUS_OK;
}

static int component_index(const char *name)
{
    for (size_t i = 0; i < COMPONENT_COUNT; i++)
        if (!strcmp(name, components[i].name))
            return (int)i;
    return -1;
}

static av_status parse_shapes(ctx *c, const yaml_node_t *map, const char *path,
                              av__build_config *cfg)
{
    const char *names[COMPONENT_COUNT + 1];
    for (size_t i = 0; i < COMPONENT_COUNT; i++)
        names[i] = components[i].name;
    names[COMPONENT_COUNT] = NULL;
    av_status st = check_keys(c, map, path, names);
    if (st != AV_STATUS_OK)
        return st;
    /* Count the profiles first: one allocation. */
    size_t total = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const yaml_node_t *v = node(c, p->value);
        if (v->type == YAML_MAPPING_NODE)
            total += (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    }
    if (total && !(cfg->profiles = av__calloc(total, sizeof *cfg->profiles)))
        return av__fail(c->err, c->err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        int ci = component_index(text(node(c, p->key)));
        const yaml_node_t *v = node(c, p->value);
        char sub[PATH_LEN];
        join(sub, path, components[ci].name);
        if ((st = check_keys(c, v, sub, components[ci].inputs)) != AV_STATUS_OK)
            return st;
        for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
            const char *input = text(node(c, q->key));
            av__build_profile *prof = &cfg->profiles[cfg->profile_count];
            prof->component = components[ci].name;
            for (int k = 0; components[ci].inputs[k]; k++)
                if (!strcmp(input, components[ci].inputs[k]))
                    prof->input = components[ci].inputs[k];
            char sub2[PATH_LEN];
            join(sub2, sub, input);
            if ((st = parse_profile(c, node(c, q->value), sub2, prof)) != AV_STATUS_OK)
                return st;
            cfg->profile_count++;
        }
    }
    return AV_STATUS_OK;
}

static av_status parse_calibration(ctx *c, const yaml_node_t *map, const char *path,
                                   av__build_config *cfg)
{
    static const char *const keys[] = {"method", "percentile", "data", "cache_dir", "batches",
                                       NULL};
    av_status st = check_keys(c, map, path, keys);
    if (st != AV_STATUS_OK)
        return st;
    char sub[PATH_LEN];
    const yaml_node_t *v;
    if ((v = get(c, map, "method"))) {
        join(sub, path, "method");
        int m = v->type == YAML_SCALAR_NODE ? av__calib_method_from_name(text(v)) : -1;
        if (m < 0)
            return v->type == YAML_SCALAR_NODE
                       ? fail_at(c, v, sub,
                                 "unknown calibration method '%s' (expected entropy, minmax or "
                                 "percentile)", text(v))
                       : fail_at(c, v, sub, "expected entropy, minmax or percentile, got %s",
                                 kind(v));
        cfg->calib.method = (av__calib_method)m;
    }
    if ((v = get(c, map, "percentile"))) {
        join(sub, path, "percentile");
        if (!is_plain(v) || is_null(v))
            return fail_at(c, v, sub, "expected a number, got %s", kind(v));
        char *end;
        errno = 0;
        double p = strtod(text(v), &end);
        if (end == text(v) || *end || errno)
            return fail_at(c, v, sub, "expected a number, got '%s'", text(v));
        if (!(p > 0.0 && p <= 100.0))
            return fail_at(c, v, sub, "%s is out of range (0, 100]", text(v));
        cfg->calib.percentile = p;
    }
    if ((v = get(c, map, "data"))) {
        join(sub, path, "data");
        if ((st = get_string(c, v, sub, &cfg->calib.data)) != AV_STATUS_OK)
            return st;
    }
    if ((v = get(c, map, "cache_dir"))) {
        join(sub, path, "cache_dir");
        if ((st = get_string(c, v, sub, &cfg->calib.cache_dir)) != AV_STATUS_OK)
            return st;
    }
    if ((v = get(c, map, "batches"))) {
        int64_t b;
        join(sub, path, "batches");
        if ((st = get_int(c, v, sub, 1, 1000000, &b)) != AV_STATUS_OK)
            return st;
        cfg->calib.batches = (int)b;
    }
    return AV_STATUS_OK;
}

static av_status parse_keep(ctx *c, const yaml_node_t *map, const char *path,
                            av__build_config *cfg)
{
    const char *names[COMPONENT_COUNT + 1];
    for (size_t i = 0; i < COMPONENT_COUNT; i++)
        names[i] = components[i].name;
    names[COMPONENT_COUNT] = NULL;
    av_status st = check_keys(c, map, path, names);
    if (st != AV_STATUS_OK)
        return st;
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    if (n && !(cfg->keep = av__calloc(n, sizeof *cfg->keep)))
        return av__fail(c->err, c->err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        int ci = component_index(text(node(c, p->key)));
        const yaml_node_t *v = node(c, p->value);
        char sub[PATH_LEN];
        join(sub, path, components[ci].name);
        if (v->type != YAML_SEQUENCE_NODE)
            return fail_at(c, v, sub, "expected a list of layer names or first_conv, upsamplers, "
                                      "last_conv; got %s", kind(v));
        av__build_keep *k = &cfg->keep[cfg->keep_count++];
        k->component = components[ci].name;
        size_t count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (count && !(k->layers = av__calloc(count, sizeof *k->layers)))
            return av__fail(c->err, c->err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        for (size_t i = 0; i < count; i++) {
            char sub2[PATH_LEN];
            pathf(sub2, "%s[%zu]", sub, i);
            if ((st = get_string(c, node(c, v->data.sequence.items.start[i]), sub2,
                                 &k->layers[i])) != AV_STATUS_OK)
                return st;
            k->count++;
        }
    }
    return AV_STATUS_OK;
}

static av_status parse_voice_conversion(ctx *c, const yaml_node_t *map, const char *path,
                                        av__build_config *cfg)
{
    static const char *const keys[] = {"precision", "workspace_mb", "dynamic_shapes",
                                       "int8_calibration", "keep_precision", NULL};
    av_status st = check_keys(c, map, path, keys);
    if (st != AV_STATUS_OK)
        return st;
    char sub[PATH_LEN];
    const yaml_node_t *v;
    if ((v = get(c, map, "precision"))) {
        join(sub, path, "precision");
        if ((st = parse_precision(c, v, sub, cfg)) != AV_STATUS_OK)
            return st;
    }
    if ((v = get(c, map, "workspace_mb"))) {
        join(sub, path, "workspace_mb");
        if ((st = get_int(c, v, sub, 1, 1048576, &cfg->workspace_mb)) != AV_STATUS_OK)
            return st;
    }
    if ((v = get(c, map, "dynamic_shapes"))) {
        join(sub, path, "dynamic_shapes");
        if ((st = parse_shapes(c, v, sub, cfg)) != AV_STATUS_OK)
            return st;
    }
    if ((v = get(c, map, "int8_calibration"))) {
        join(sub, path, "int8_calibration");
        if ((st = parse_calibration(c, v, sub, cfg)) != AV_STATUS_OK)
            return st;
    }
    if ((v = get(c, map, "keep_precision"))) {
        join(sub, path, "keep_precision");
        if ((st = parse_keep(c, v, sub, cfg)) != AV_STATUS_OK)
            return st;
    }
    return AV_STATUS_OK;
}

/* ---- entry points ---------------------------------------------------------------------------- */

av_status av__build_config_parse(const char *yaml_text, size_t len, const char *name,
                                 av__build_config *cfg, char *err, size_t err_size)
{
    if (!cfg)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__build_config_parse: NULL argument");
    *cfg = av__build_config_default();
    if (!yaml_text || !name)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__build_config_parse: NULL argument");
    ctx c = {.name = name, .err = err, .err_size = err_size};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml_text, len);
    if (!yaml_parser_load(&parser, &c.doc)) {
        av_status st = parser.error == YAML_MEMORY_ERROR
                           ? av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory")
                           : av__fail(err, err_size, AV_STATUS_FORMAT,
                                      "%s:%zu:%zu: YAML syntax error: %s%s%s", name,
                                      parser.problem_mark.line + 1,
                                      parser.problem_mark.column + 1,
                                      parser.problem ? parser.problem : "malformed",
                                      parser.context ? " " : "",
                                      parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return st;
    }
    yaml_parser_delete(&parser);

    av__build_config out = av__build_config_default();
    av_status st = AV_STATUS_OK;
    yaml_node_t *root = yaml_document_get_root_node(&c.doc);
    yaml_node_t *trt = NULL;
    if (root && root->type != YAML_MAPPING_NODE) {
        st = fail_at(&c, root, "(top level)", "expected a mapping, got %s", kind(root));
        goto done;
    }
    if (root)
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
             p < root->data.mapping.pairs.top; p++) {
            yaml_node_t *k = node(&c, p->key);
            if (k->type != YAML_SCALAR_NODE || strcmp(text(k), "tensorrt"))
                continue;
            if (trt) {
                st = fail_at(&c, k, "tensorrt", "key 'tensorrt' given twice");
                goto done;
            }
            trt = node(&c, p->value);
        }
    if (!trt) {
        st = av__fail(err, err_size, AV_STATUS_NOT_FOUND, "%s: no 'tensorrt' block", name);
        goto done;
    }
    static const char *const trt_keys[] = {"voice_conversion", NULL};
    if ((st = check_keys(&c, trt, "tensorrt", trt_keys)) != AV_STATUS_OK)
        goto done;
    yaml_node_t *vc = get(&c, trt, "voice_conversion");
    if (!vc) {
        st = fail_at(&c, trt, "tensorrt", "missing 'voice_conversion'");
        goto done;
    }
    if ((st = parse_voice_conversion(&c, vc, "tensorrt.voice_conversion", &out)) != AV_STATUS_OK)
        goto done;
    *cfg = out;
    out = av__build_config_default();
done:
    av__build_config_free(&out);
    yaml_document_delete(&c.doc);
    return st;
}

av_status av__build_config_load(const char *path, av__build_config *cfg, char *err,
                                size_t err_size)
{
    if (!path || !cfg) {
        if (cfg)
            *cfg = av__build_config_default();
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__build_config_load: NULL argument");
    }
    *cfg = av__build_config_default();
    FILE *f = fopen(path, "rb");
    if (!f)
        return av__fail(err, err_size, AV_STATUS_IO, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    av_status st = AV_STATUS_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_FILE_BYTES) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT,
                              "%s: larger than %u MiB: not a build configuration", path,
                              MAX_FILE_BYTES >> 20);
                goto done;
            }
            size_t ncap = cap ? cap * 2 : 8192;
            char *b = av__realloc(buf, ncap);
            if (!b) {
                st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
                goto done;
            }
            buf = b;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                st = av__fail(err, err_size, AV_STATUS_IO, "%s: read error", path);
            break;
        }
    }
    if (st == AV_STATUS_OK)
        st = av__build_config_parse(buf ? buf : "", len, path, cfg, err, err_size);
done:
    av__free(buf);
    fclose(f);
    return st;
}

const av__build_profile *av__build_config_profile(const av__build_config *cfg,
                                                  const char *component, const char *input)
{
    for (size_t i = 0; cfg && component && input && i < cfg->profile_count; i++)
        if (!strcmp(cfg->profiles[i].component, component) &&
            !strcmp(cfg->profiles[i].input, input))
            return &cfg->profiles[i];
    return NULL;
}

const av__build_keep *av__build_config_keep(const av__build_config *cfg, const char *component)
{
    for (size_t i = 0; cfg && component && i < cfg->keep_count; i++)
        if (!strcmp(cfg->keep[i].component, component))
            return &cfg->keep[i];
    return NULL;
}

int av__build_keep_is_group(const char *layer)
{
    for (size_t i = 0; layer && i < sizeof keep_groups / sizeof keep_groups[0]; i++)
        if (!strcmp(layer, keep_groups[i]))
            return 1;
    return 0;
}
