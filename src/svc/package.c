/* model.yaml through libyaml's document API, the speaker table through the NPY reader, the
 * components through the engine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/internal.h"
#include "svc/package.h"
#include "util/npy.h"

#define FORMAT_VERSION 1

static const char *const component_keys[AV__COMP_COUNT] = {
    "content_encoder", "pitch_encoder", "flow_decoder", "mel_projection", "vocoder"};

typedef struct yaml_ctx {
    yaml_document_t doc;
    const char *path;
    char *err;
    size_t err_size;
} yaml_ctx;

/* The value node of `key` in mapping node `map`, or NULL. `key` may be "a.b.c". */
static yaml_node_t *lookup(yaml_ctx *y, yaml_node_t *map, const char *key)
{
    char part[64];
    const char *dot = strchr(key, '.');
    size_t n = dot ? (size_t)(dot - key) : strlen(key);
    if (!map || map->type != YAML_MAPPING_NODE || n >= sizeof part)
        return NULL;
    memcpy(part, key, n);
    part[n] = '\0';
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, part) == 0) {
            yaml_node_t *v = yaml_document_get_node(&y->doc, p->value);
            return dot ? lookup(y, v, dot + 1) : v;
        }
    }
    return NULL;
}

static av_status get_string(yaml_ctx *y, const char *key, char *out, size_t size, int required)
{
    yaml_node_t *v = lookup(y, yaml_document_get_root_node(&y->doc), key);
    if (!v) {
        if (!required)
            return AV_STATUS_NOT_FOUND;
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: missing key '%s'", y->path, key);
    }
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.length >= size)
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: '%s' must be a short string",
                        y->path, key);
    memcpy(out, v->data.scalar.value, v->data.scalar.length + 1);
    return AV_STATUS_OK;
}

static av_status get_number(yaml_ctx *y, const char *key, double lo, double hi, double *out)
{
    char text[64];
    av_status st = get_string(y, key, text, sizeof text, 1);
    if (st != AV_STATUS_OK)
        return st;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !(v >= lo && v <= hi))
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT,
                        "%s: '%s' is '%s', expected a number in [%g, %g]", y->path, key, text, lo, hi);
    *out = v;
    return AV_STATUS_OK;
}

static av_status get_int(yaml_ctx *y, const char *key, int lo, int hi, int *out)
{
    double v;
    av_status st = get_number(y, key, lo, hi, &v);
    if (st != AV_STATUS_OK)
        return st;
    if (v != (double)(int)v)
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: '%s' must be an integer",
                        y->path, key);
    *out = (int)v;
    return AV_STATUS_OK;
}

/* A component path must stay inside the package: no absolute paths, no "..". */
static int safe_relative(const char *p)
{
    if (p[0] == '/' || p[0] == '\0')
        return 0;
    for (const char *s = p; *s; s++)
        if (s[0] == '.' && s[1] == '.' && (s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
            return 0;
    return 1;
}

static av_status read_speakers(yaml_ctx *y, const char *dir, av__package *pkg)
{
    char file[256], path[4096];
    av_status st = get_string(y, "speakers.embeddings", file, sizeof file, 1);
    if (st != AV_STATUS_OK)
        return st;
    if (!safe_relative(file))
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT,
                        "%s: speakers.embeddings '%s' must be a path inside the package", y->path, file);
    yaml_node_t *names = lookup(y, yaml_document_get_root_node(&y->doc), "speakers.names");
    if (!names || names->type != YAML_SEQUENCE_NODE)
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: speakers.names must be a list",
                        y->path);
    int n = (int)(names->data.sequence.items.top - names->data.sequence.items.start);
    if (n < 1 || n > 100000)
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: speakers.names is empty", y->path);
    pkg->speaker_names = av__calloc((size_t)n, sizeof *pkg->speaker_names);
    if (!pkg->speaker_names)
        return av__fail(y->err, y->err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < n; i++) {
        yaml_node_t *s = yaml_document_get_node(&y->doc, names->data.sequence.items.start[i]);
        if (!s || s->type != YAML_SCALAR_NODE || s->data.scalar.length == 0 ||
            s->data.scalar.length >= sizeof pkg->speaker_names[0])
            return av__fail(y->err, y->err_size, AV_STATUS_FORMAT,
                            "%s: speaker name %d must be a string of 1-63 characters", y->path, i);
        memcpy(pkg->speaker_names[i], s->data.scalar.value, s->data.scalar.length + 1);
    }
    pkg->n_speakers = n;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    av__npy_array a;
    char msg[512];
    if ((st = av__npy_load(path, &a, msg, sizeof msg)) != AV_STATUS_OK)
        return av__fail(y->err, y->err_size, st, "%s", msg);
    if (a.dtype != AV__NPY_F32 || a.ndim != 2 || a.shape[0] != n || a.shape[1] != pkg->dim_speaker) {
        av__npy_free(&a);
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT,
                        "%s: expected float32 [%d, %d] (speakers x dimensions.speaker)", path, n,
                        pkg->dim_speaker);
    }
    pkg->speakers = av__mallocarray(a.count, sizeof(float));
    if (!pkg->speakers) {
        av__npy_free(&a);
        return av__fail(y->err, y->err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    memcpy(pkg->speakers, a.data, a.count * sizeof(float));
    av__npy_free(&a);
    return AV_STATUS_OK;
}

av_status av__package_load(const char *dir, av__package *pkg, char *err, size_t err_size)
{
    memset(pkg, 0, sizeof *pkg);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.yaml", dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return av__fail(err, err_size, AV_STATUS_IO, "%s: %s", path, strerror(errno));
    yaml_parser_t parser;
    yaml_ctx y = {.path = path, .err = err, .err_size = err_size};
    av_status st = AV_STATUS_OK;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &y.doc)) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: line %zu: %s", path,
                      parser.problem_mark.line + 1, parser.problem ? parser.problem : "bad YAML");
        yaml_parser_delete(&parser);
        fclose(f);
        return st;
    }
    yaml_parser_delete(&parser);
    fclose(f);
    if (!yaml_document_get_root_node(&y.doc)) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: empty document", path);
        goto done;
    }

    char text[64];
    int version;
    if ((st = get_string(&y, "format", text, sizeof text, 1)) != AV_STATUS_OK)
        goto done;
    if (strcmp(text, "autovoice-model") != 0) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: format is '%s', not autovoice-model",
                      path, text);
        goto done;
    }
    if ((st = get_int(&y, "format_version", 1, 1000, &version)) != AV_STATUS_OK)
        goto done;
    if (version != FORMAT_VERSION) {
        st = av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                      "%s: format_version %d; this autovoice reads version %d", path, version,
                      FORMAT_VERSION);
        goto done;
    }
    if (get_string(&y, "name", pkg->name, sizeof pkg->name, 0) == AV_STATUS_FORMAT ||
        get_string(&y, "preset", pkg->preset, sizeof pkg->preset, 0) == AV_STATUS_FORMAT) {
        st = AV_STATUS_FORMAT;
        goto done;
    }
    if ((st = get_int(&y, "content_encoder.sample_rate", 8000, 192000, &pkg->content_rate)) ||
        (st = get_int(&y, "content_encoder.mel.hop_length", 1, 65536, &pkg->content_hop)) ||
        (st = get_int(&y, "decoder.sample_rate", 8000, 192000, &pkg->decoder_rate)) ||
        (st = get_int(&y, "decoder.hop_length", 1, 65536, &pkg->hop_length)) ||
        (st = get_number(&y, "pitch.f0_min", 1, 20000, &pkg->f0_min)) ||
        (st = get_number(&y, "pitch.f0_max", 1, 20000, &pkg->f0_max)) ||
        (st = get_number(&y, "pitch.frame_rate", 1, 10000, &pkg->f0_frame_rate)) ||
        (st = get_int(&y, "dimensions.content", 1, 65536, &pkg->dim_content)) ||
        (st = get_int(&y, "dimensions.pitch", 1, 65536, &pkg->dim_pitch)) ||
        (st = get_int(&y, "dimensions.speaker", 1, 65536, &pkg->dim_speaker)) ||
        (st = get_int(&y, "dimensions.conditioning", 1, 65536 * 3, &pkg->dim_cond)) ||
        (st = get_int(&y, "dimensions.latent", 1, 65536, &pkg->dim_latent)) ||
        (st = get_int(&y, "dimensions.mel", 1, 65536, &pkg->dim_mel)) ||
        (st = get_number(&y, "inference.temperature", 0, 100, &pkg->temperature)) ||
        (st = get_int(&y, "output.sample_rate", 8000, 192000, &pkg->output_rate)))
        goto done;
    if (pkg->f0_min >= pkg->f0_max) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: pitch.f0_min must be below f0_max", path);
        goto done;
    }
    if (pkg->dim_cond != pkg->dim_content + pkg->dim_pitch + pkg->dim_speaker) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT,
                      "%s: dimensions.conditioning %d is not content + pitch + speaker (%d)", path,
                      pkg->dim_cond, pkg->dim_content + pkg->dim_pitch + pkg->dim_speaker);
        goto done;
    }
    if ((st = read_speakers(&y, dir, pkg)) != AV_STATUS_OK)
        goto done;
    for (int c = 0; c < AV__COMP_COUNT; c++) {
        char key[64], file[256], full[4096];
        snprintf(key, sizeof key, "components.%s", component_keys[c]);
        av_status g = get_string(&y, key, file, sizeof file, c != AV__COMP_VOCODER);
        if (g == AV_STATUS_NOT_FOUND)
            continue; /* no vocoder: Griffin-Lim (not implemented yet) */
        if (g != AV_STATUS_OK) {
            st = g;
            goto done;
        }
        if (!safe_relative(file)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: %s '%s' must be a path inside the "
                          "package", path, key, file);
            goto done;
        }
        snprintf(full, sizeof full, "%s/%s", dir, file);
        if ((st = av_model_load(full, &pkg->models[c], err, err_size)) != AV_STATUS_OK)
            goto done;
    }
done:
    yaml_document_delete(&y.doc);
    if (st != AV_STATUS_OK)
        av__package_free(pkg);
    return st;
}

void av__package_free(av__package *pkg)
{
    if (!pkg)
        return;
    for (int c = 0; c < AV__COMP_COUNT; c++)
        av_model_free(pkg->models[c]);
    av__free(pkg->speaker_names);
    av__free(pkg->speakers);
    memset(pkg, 0, sizeof *pkg);
}

int av__package_find_speaker(const av__package *pkg, const char *name)
{
    for (int i = 0; i < pkg->n_speakers; i++)
        if (strcmp(pkg->speaker_names[i], name) == 0)
            return i;
    return -1;
}
