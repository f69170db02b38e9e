/* model.yaml through libyaml's document API (from memory: av__package_parse_yaml), then the
 * speaker table through the NPY reader and the components through the engine (av__package_load). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "autovoice/svc.h"
#include "core/internal.h"
#include "engine/plan_format.h"
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

/* The value node of `key` in mapping node `map`, or NULL. `key` may be "a.b.c". Follows keys
 * only, so an alias that makes a node contain itself cannot loop. */
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

static const char *kind(const yaml_node_t *v)
{
    return v->type == YAML_MAPPING_NODE ? "a mapping" : v->type == YAML_SEQUENCE_NODE ? "a list"
                                                                                        : "empty";
}

/* Why `key` has no value: an enclosing key that holds something else than a mapping, or a
 * missing key (AV_STATUS_NOT_FOUND without a message when the key is optional). */
static av_status missing(yaml_ctx *y, const char *key, int required)
{
    char prefix[128];
    for (const char *dot = strchr(key, '.'); dot; dot = strchr(dot + 1, '.')) {
        size_t n = (size_t)(dot - key);
        if (n >= sizeof prefix)
            break;
        memcpy(prefix, key, n);
        prefix[n] = '\0';
        yaml_node_t *v = lookup(y, yaml_document_get_root_node(&y->doc), prefix);
        if (v && v->type != YAML_MAPPING_NODE)
            return av__fail(y->err, y->err_size, AV_STATUS_FORMAT,
                            "%s: '%s' must be a mapping, not %s", y->path, prefix,
                            v->type == YAML_SCALAR_NODE ? "a single value" : kind(v));
    }
    if (!required)
        return AV_STATUS_NOT_FOUND;
    return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: missing key '%s'", y->path, key);
}

/* A scalar value of fewer than `size` bytes, without NUL characters. */
static av_status get_string(yaml_ctx *y, const char *key, char *out, size_t size, int required)
{
    yaml_node_t *v = lookup(y, yaml_document_get_root_node(&y->doc), key);
    if (!v)
        return missing(y, key, required);
    if (v->type != YAML_SCALAR_NODE)
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT,
                        "%s: '%s' must be a single value, not %s", y->path, key, kind(v));
    if (v->data.scalar.length >= size)
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT,
                        "%s: '%s' is longer than %zu characters", y->path, key, size - 1);
    if (strlen((const char *)v->data.scalar.value) != v->data.scalar.length)
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: '%s' contains a NUL character",
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
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: '%s' is %g, expected an integer",
                        y->path, key, v);
    *out = (int)v;
    return AV_STATUS_OK;
}

/* Index of the value of `key` in names[0..count), which the message lists when it is not one. */
static av_status get_enum(yaml_ctx *y, const char *key, const char *const *names, int count,
                          int *out)
{
    char text[64], list[256] = "";
    av_status st = get_string(y, key, text, sizeof text, 1);
    if (st != AV_STATUS_OK)
        return st;
    for (int i = 0; i < count; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = i;
            return AV_STATUS_OK;
        }
        size_t at = strlen(list);
        snprintf(list + at, sizeof list - at, "%s%s", i ? ", " : "", names[i]);
    }
    return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: '%s' is '%s', expected %s%s",
                    y->path, key, text, count > 1 ? "one of " : "", list);
}

/* YAML 1.1 booleans as written by people and tools: true/false in three capitalisations. */
static av_status get_bool(yaml_ctx *y, const char *key, int *out)
{
    static const char *const names[] = {"false", "true", "False", "True", "FALSE", "TRUE"};
    char text[64];
    av_status st = get_string(y, key, text, sizeof text, 1);
    if (st != AV_STATUS_OK)
        return st;
    for (int i = 0; i < 6; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = i % 2;
            return AV_STATUS_OK;
        }
    return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: '%s' is '%s', expected true or false",
                    y->path, key, text);
}

/* A component or data path must stay inside the package: no absolute paths, no "..". */
static int safe_relative(const char *p)
{
    if (p[0] == '/' || p[0] == '\0')
        return 0;
    for (const char *s = p; *s; s++)
        if (s[0] == '.' && s[1] == '.' && (s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
            return 0;
    return 1;
}

static av_status get_path(yaml_ctx *y, const char *key, char *out, size_t size, int required)
{
    av_status st = get_string(y, key, out, size, required);
    if (st == AV_STATUS_OK && !safe_relative(out))
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT,
                        "%s: %s '%s' must be a path inside the package", y->path, key, out);
    return st;
}

/* The mel block `block`.mel (docs/MODEL_PACKAGE.md, "Mel blocks") at `rate` Hz. */
static av_status get_mel(yaml_ctx *y, const char *block, int rate, av__mel_spec *m)
{
    static const char *const windows[] = {"hann_periodic"};
    static const char *const scales[] = {"htk", "slaney"};   /* order of av__mel_scale */
    static const char *const norms[] = {"none", "slaney"};   /* order of av__mel_norm */
    static const char *const logs[] = {"add", "clamp"};      /* order of av__mel_log */
    char key[64];
    int window, scale, norm, log_mode;
    av_status st;
    memset(m, 0, sizeof *m);
    m->sample_rate = rate;
#define KEY(name) (snprintf(key, sizeof key, "%s.mel.%s", block, name), key)
    if ((st = get_int(y, KEY("n_fft"), AV__MEL_MIN_FFT, AV__MEL_MAX_FFT, &m->n_fft)) ||
        (st = get_int(y, KEY("win_length"), 1, AV__MEL_MAX_FFT, &m->win_length)) ||
        (st = get_int(y, KEY("hop_length"), 1, AV__MEL_MAX_FFT, &m->hop_length)) ||
        (st = get_enum(y, KEY("window"), windows, 1, &window)) ||
        (st = get_bool(y, KEY("center"), &m->center)) ||
        (st = get_int(y, KEY("n_mels"), 1, AV__MEL_MAX_MELS, &m->n_mels)) ||
        (st = get_number(y, KEY("f_min"), 0, rate / 2.0, &m->f_min)) ||
        (st = get_number(y, KEY("f_max"), 0, rate / 2.0, &m->f_max)) ||
        (st = get_enum(y, KEY("mel_scale"), scales, 2, &scale)) ||
        (st = get_enum(y, KEY("mel_norm"), norms, 2, &norm)) ||
        (st = get_int(y, KEY("power"), 1, 2, &m->power)) ||
        (st = get_enum(y, KEY("log"), logs, 2, &log_mode)) ||
        (st = get_number(y, KEY("log_floor"), 0, 1, &m->log_floor)))
        return st;
#undef KEY
    m->scale = scale == 0 ? AV__MEL_SCALE_HTK : AV__MEL_SCALE_SLANEY;
    m->norm = norm == 0 ? AV__MEL_NORM_NONE : AV__MEL_NORM_SLANEY;
    m->log = log_mode == 0 ? AV__MEL_LOG_ADD : AV__MEL_LOG_CLAMP;
    char msg[256];
    if (av__mel_spec_check(m, msg, sizeof msg) != AV_STATUS_OK)
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: %s.mel: %s", y->path, block,
                        msg);
    return AV_STATUS_OK;
}

static av_status get_speaker_names(yaml_ctx *y, av__package *pkg)
{
    yaml_node_t *names = lookup(y, yaml_document_get_root_node(&y->doc), "speakers.names");
    if (!names)
        return missing(y, "speakers.names", 1);
    if (names->type != YAML_SEQUENCE_NODE)
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT, "%s: speakers.names must be a list",
                        y->path);
    ptrdiff_t n = names->data.sequence.items.top - names->data.sequence.items.start;
    if (n < 1 || n > 100000)
        return av__fail(y->err, y->err_size, AV_STATUS_FORMAT,
                        "%s: speakers.names must list 1-100000 names, not %td", y->path, n);
    pkg->speaker_names = av__calloc((size_t)n, sizeof *pkg->speaker_names);
    if (!pkg->speaker_names)
        return av__fail(y->err, y->err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < (int)n; i++) {
        yaml_node_t *s = yaml_document_get_node(&y->doc, names->data.sequence.items.start[i]);
        if (!s || s->type != YAML_SCALAR_NODE || s->data.scalar.length == 0 ||
            s->data.scalar.length >= sizeof pkg->speaker_names[0] ||
            strlen((const char *)s->data.scalar.value) != s->data.scalar.length)
            return av__fail(y->err, y->err_size, AV_STATUS_FORMAT,
                            "%s: speaker name %d must be a string of 1-63 characters", y->path, i);
        memcpy(pkg->speaker_names[i], s->data.scalar.value, s->data.scalar.length + 1);
    }
    pkg->n_speakers = (int)n;
    return AV_STATUS_OK;
}

/* Everything of model.yaml, in the order of docs/MODEL_PACKAGE.md. */
static av_status parse_document(yaml_ctx *y, av__package *pkg)
{
    const char *path = y->path;
    char *err = y->err;
    size_t err_size = y->err_size;
    char text[64];
    int version;
    av_status st;
    if (!yaml_document_get_root_node(&y->doc))
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: empty document", path);
    if (yaml_document_get_root_node(&y->doc)->type != YAML_MAPPING_NODE)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: the document must be a mapping",
                        path);
    if ((st = get_string(y, "format", text, sizeof text, 1)) != AV_STATUS_OK)
        return st;
    if (strcmp(text, "autovoice-model") != 0)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: format is '%s', not autovoice-model",
                        path, text);
    if ((st = get_int(y, "format_version", 1, 1000, &version)) != AV_STATUS_OK)
        return st;
    if (version != FORMAT_VERSION)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "%s: format_version %d; this autovoice reads version %d", path, version,
                        FORMAT_VERSION);
    if (get_string(y, "name", pkg->name, sizeof pkg->name, 0) == AV_STATUS_FORMAT ||
        get_string(y, "preset", pkg->preset, sizeof pkg->preset, 0) == AV_STATUS_FORMAT)
        return AV_STATUS_FORMAT;
    for (int c = 0; c < AV__COMP_COUNT; c++) {
        char key[64];
        snprintf(key, sizeof key, "components.%s", component_keys[c]);
        st = get_path(y, key, pkg->component_files[c], sizeof pkg->component_files[c],
                      c != AV__COMP_VOCODER);
        if (st == AV_STATUS_NOT_FOUND) /* no vocoder: Griffin-Lim with decoder.mel */
            pkg->component_files[c][0] = '\0';
        else if (st != AV_STATUS_OK)
            return st;
    }
    if ((st = get_int(y, "content_encoder.sample_rate", 8000, 192000, &pkg->content_rate)) ||
        (st = get_mel(y, "content_encoder", pkg->content_rate, &pkg->content_mel)) ||
        (st = get_int(y, "decoder.sample_rate", 8000, 192000, &pkg->decoder_rate)) ||
        (st = get_int(y, "decoder.hop_length", 1, 65536, &pkg->hop_length)) ||
        (st = get_mel(y, "decoder", pkg->decoder_rate, &pkg->decoder_mel)) ||
        (st = get_number(y, "pitch.f0_min", 1, 20000, &pkg->f0_min)) ||
        (st = get_number(y, "pitch.f0_max", 1, 20000, &pkg->f0_max)) ||
        (st = get_number(y, "pitch.frame_rate", 1, 10000, &pkg->f0_frame_rate)) ||
        (st = get_int(y, "dimensions.content", 1, 65536, &pkg->dim_content)) ||
        (st = get_int(y, "dimensions.pitch", 1, 65536, &pkg->dim_pitch)) ||
        (st = get_int(y, "dimensions.speaker", 1, 65536, &pkg->dim_speaker)) ||
        (st = get_int(y, "dimensions.conditioning", 1, 65536 * 3, &pkg->dim_cond)) ||
        (st = get_int(y, "dimensions.latent", 1, 65536, &pkg->dim_latent)) ||
        (st = get_int(y, "dimensions.mel", 1, 65536, &pkg->dim_mel)) ||
        (st = get_number(y, "inference.temperature", 0, 100, &pkg->temperature)) ||
        (st = get_int(y, "output.sample_rate", 8000, 192000, &pkg->output_rate)) ||
        (st = get_path(y, "speakers.embeddings", pkg->speakers_file, sizeof pkg->speakers_file, 1)) ||
        (st = get_speaker_names(y, pkg)))
        return st;
    pkg->content_hop = pkg->content_mel.hop_length;
    if (pkg->decoder_mel.hop_length != pkg->hop_length)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: decoder.mel.hop_length %d differs from decoder.hop_length %d", path,
                        pkg->decoder_mel.hop_length, pkg->hop_length);
    if (pkg->decoder_mel.n_mels != pkg->dim_mel)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: decoder.mel.n_mels %d differs from dimensions.mel %d", path,
                        pkg->decoder_mel.n_mels, pkg->dim_mel);
    if (pkg->f0_min >= pkg->f0_max)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: pitch.f0_min must be below f0_max", path);
    if (pkg->dim_cond != pkg->dim_content + pkg->dim_pitch + pkg->dim_speaker)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: dimensions.conditioning %d is not content + pitch + speaker (%d)", path,
                        pkg->dim_cond, pkg->dim_content + pkg->dim_pitch + pkg->dim_speaker);
    return AV_STATUS_OK;
}

av_status av__package_parse_yaml(const char *text, size_t len, const char *name, av__package *pkg,
                                 char *err, size_t err_size)
{
    if (!pkg)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "package: pkg is NULL");
    memset(pkg, 0, sizeof *pkg);
    const char *path = name ? name : "model.yaml";
    if (!text && len)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%s: text is NULL", path);
    if (len > AV__PACKAGE_YAML_MAX_BYTES)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: larger than %d bytes", path,
                        AV__PACKAGE_YAML_MAX_BYTES);
    yaml_parser_t parser;
    yaml_ctx y = {.path = path, .err = err, .err_size = err_size};
    if (!yaml_parser_initialize(&parser))
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""), len);
    if (!yaml_parser_load(&parser, &y.doc)) { /* libyaml deletes the partial document itself */
        av_status st = parser.error == YAML_MEMORY_ERROR
                           ? av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory", path)
                           : av__fail(err, err_size, AV_STATUS_FORMAT, "%s: line %zu: %s", path,
                                      parser.problem_mark.line + 1,
                                      parser.problem ? parser.problem : "bad YAML");
        yaml_parser_delete(&parser);
        return st;
    }
    yaml_parser_delete(&parser);
    av_status st = parse_document(&y, pkg);
    yaml_document_delete(&y.doc);
    if (st != AV_STATUS_OK)
        av__package_free(pkg);
    return st;
}

/* The whole of a small file into a new NUL-terminated buffer. */
static av_status read_text(const char *path, char **out, size_t *len, char *err, size_t err_size)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return av__fail(err, err_size, AV_STATUS_IO, "%s: %s", path, strerror(errno));
    av_status st = AV_STATUS_OK;
    char *buf = av__malloc(AV__PACKAGE_YAML_MAX_BYTES + 1);
    if (!buf) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    size_t n = fread(buf, 1, AV__PACKAGE_YAML_MAX_BYTES + 1, f);
    if (ferror(f)) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: read error", path);
        goto done;
    }
    if (n > AV__PACKAGE_YAML_MAX_BYTES) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: larger than %d bytes", path,
                      AV__PACKAGE_YAML_MAX_BYTES);
        goto done;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
done:
    av__free(buf);
    fclose(f);
    return st;
}

/* Component c from DIR/<component>.plan when that plan is fresh (engine/plan_format.h), else
 * from its ONNX file `onnx`, saying nothing; a fresh plan that fails to load is logged and the
 * ONNX file used. */
static av_status load_component(const char *dir, int c, const char *onnx, av_model **out,
                                char *err, size_t err_size)
{
    char plan[4096], msg[1024];
    snprintf(plan, sizeof plan, "%s/%s.plan", dir, component_keys[c]);
    if (av__plan_is_fresh(plan, onnx)) {
        if (av_model_load(plan, out, msg, sizeof msg) == AV_STATUS_OK)
            return AV_STATUS_OK;
        av__log(AV_LOG_LEVEL_WARNING, "%s; using %s instead", msg, onnx);
    }
    return av_model_load(onnx, out, err, err_size);
}

av_status av_package_component(const char *model_dir, int index, const char **name,
                               char *onnx_path, char *plan_path, size_t path_size, char *err,
                               size_t err_size)
{
    if (!model_dir || index < 0 || index >= AV__COMP_COUNT || !onnx_path || !plan_path || !path_size)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_package_component: bad argument");
    if (name)
        *name = component_keys[index];
    char path[4096], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/model.yaml", model_dir);
    av_status st = read_text(path, &text, &len, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    av__package pkg;
    st = av__package_parse_yaml(text, len, path, &pkg, err, err_size);
    av__free(text);
    if (st != AV_STATUS_OK)
        return st;
    if (!pkg.component_files[index][0])
        st = av__fail(err, err_size, AV_STATUS_NOT_FOUND, "%s: no %s", path, component_keys[index]);
    else if ((size_t)snprintf(onnx_path, path_size, "%s/%s", model_dir,
                              pkg.component_files[index]) >= path_size ||
             (size_t)snprintf(plan_path, path_size, "%s/%s.plan", model_dir,
                              component_keys[index]) >= path_size)
        st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%s: path too long", model_dir);
    av__package_free(&pkg);
    return st;
}

static av_status load_speakers(const char *dir, av__package *pkg, char *err, size_t err_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, pkg->speakers_file);
    av__npy_array a;
    char msg[512];
    av_status st = av__npy_load(path, &a, msg, sizeof msg);
    if (st != AV_STATUS_OK)
        return av__fail(err, err_size, st, "%s", msg);
    if (a.dtype != AV__NPY_F32 || a.ndim != 2 || a.shape[0] != pkg->n_speakers ||
        a.shape[1] != pkg->dim_speaker) {
        av__npy_free(&a);
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: expected float32 [%d, %d] (speakers x dimensions.speaker)", path,
                        pkg->n_speakers, pkg->dim_speaker);
    }
    pkg->speakers = av__mallocarray(a.count, sizeof(float));
    if (!pkg->speakers) {
        av__npy_free(&a);
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    memcpy(pkg->speakers, a.data, a.count * sizeof(float));
    av__npy_free(&a);
    return AV_STATUS_OK;
}

av_status av__package_load(const char *dir, av__package *pkg, char *err, size_t err_size)
{
    if (!pkg)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "package: pkg is NULL");
    memset(pkg, 0, sizeof *pkg);
    if (!dir)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "package: dir is NULL");
    char path[4096];
    snprintf(path, sizeof path, "%s/model.yaml", dir);
    char *text;
    size_t len;
    av_status st = read_text(path, &text, &len, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    st = av__package_parse_yaml(text, len, path, pkg, err, err_size);
    av__free(text);
    if (st != AV_STATUS_OK)
        return st;
    if ((st = load_speakers(dir, pkg, err, err_size)) != AV_STATUS_OK)
        goto done;
    for (int c = 0; c < AV__COMP_COUNT; c++) {
        char full[4096];
        if (!pkg->component_files[c][0])
            continue; /* no vocoder */
        snprintf(full, sizeof full, "%s/%s", dir, pkg->component_files[c]);
        if ((st = load_component(dir, c, full, &pkg->models[c], err, err_size)) != AV_STATUS_OK)
            goto done;
    }
done:
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
