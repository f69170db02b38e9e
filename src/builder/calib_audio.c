/* Calibration inputs from audio files through the conversion pipeline; contract in
 * calib_audio.h. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "autovoice/audio.h"
#include "autovoice/svc.h"
#include "builder/calib_audio.h"
#include "core/internal.h"
#include "svc/convert_internal.h"

/* ---- the file list --------------------------------------------------------------------------- */

static int audio_name(const char *name)
{
    static const char *const ext[] = {"wav", "wave", "flac", "ogg", "oga", "mp3", "aif", "aiff"};
    const char *dot = strrchr(name, '.');
    if (name[0] == '.' || !dot || dot == name)
        return 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (!strcasecmp(dot + 1, ext[i]))
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void av__calib_audio_list_free(char **paths, size_t count)
{
    for (size_t i = 0; paths && i < count; i++)
        av__free(paths[i]);
    av__free(paths);
}

av_status av__calib_audio_list(const char *dir, char ***paths, size_t *count, char *err,
                               size_t err_size)
{
    *paths = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return av__fail(err, err_size, AV_STATUS_IO, "%s: cannot read the calibration "
                        "directory: %s", dir, strerror(errno));
    char **list = NULL;
    size_t n = 0, cap = 0;
    av_status st = AV_STATUS_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!audio_name(e->d_name))
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = av__malloc(len);
        if (!path)
            goto oom;
        snprintf(path, len, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            av__free(path);
            continue;
        }
        if (n == cap) {
            size_t c2 = cap ? 2 * cap : 16;
            char **bigger = av__realloc(list, c2 * sizeof *bigger);
            if (!bigger) {
                av__free(path);
                goto oom;
            }
            list = bigger;
            cap = c2;
        }
        list[n++] = path;
    }
    closedir(d);
    if (!n) {
        av__free(list);
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: no audio files to calibrate with (.wav, .flac, .ogg, .mp3, .aiff)",
                        dir);
    }
    qsort(list, n, sizeof *list, cmp_str);
    *paths = list;
    *count = n;
    return st;
oom:
    closedir(d);
    av__calib_audio_list_free(list, n);
    return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
}

/* ---- collecting ------------------------------------------------------------------------------ */

typedef struct collect {
    const av__calib_audio_request *r;
    av__tensor *t; /* [batch * n_in + input] */
    int n_batches, cap, full;
} collect;

static av_status observe(void *user, const char *component, int n_inputs,
                         const av_tensor *inputs, char *err, size_t err_size)
{
    collect *c = user;
    const av__graph *g = c->r->g;
    if (strcmp(component, c->r->component) != 0)
        return AV_STATUS_OK;
    if (c->n_batches == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        av__tensor *bigger = av__realloc(c->t, (size_t)cap * (size_t)g->n_inputs * sizeof *bigger);
        if (!bigger)
            return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        c->t = bigger;
        c->cap = cap;
    }
    av__tensor *batch = &c->t[(size_t)c->n_batches * (size_t)g->n_inputs];
    memset(batch, 0, (size_t)g->n_inputs * sizeof *batch);
    av_status st = AV_STATUS_OK;
    for (int i = 0; i < g->n_inputs && st == AV_STATUS_OK; i++) {
        const av__value *v = &g->values[g->inputs[i]];
        const av_tensor *x = NULL;
        for (int k = 0; k < n_inputs && !x; k++)
            if (!strcmp(inputs[k].name, v->name))
                x = &inputs[k];
        if (!x) {
            char names[256] = "";
            for (int k = 0; k < n_inputs; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         k ? ", " : "", inputs[k].name);
            st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                          "the model being built has input '%s', the converter gives %s",
                          v->name, names);
        } else if ((int)x->dtype != (int)v->dtype || (v->ndim >= 0 && x->ndim != v->ndim)) {
            st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                          "input '%s': the converter gives %s of rank %d, the model being built "
                          "takes %s of rank %d", v->name, av__dtype_name((av__dtype)x->dtype),
                          x->ndim, av__dtype_name(v->dtype), v->ndim);
        } else {
            av__tensor *t = &batch[i];
            t->dtype = v->dtype;
            t->ndim = x->ndim;
            memcpy(t->shape, x->shape, sizeof t->shape);
            size_t bytes = av__tensor_bytes(t);
            if (bytes == SIZE_MAX || !(t->data = av__aligned_alloc(bytes ? bytes : 1)))
                st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            else if (bytes)
                memcpy(t->data, x->data, bytes);
        }
    }
    if (st != AV_STATUS_OK) {
        for (int i = 0; i < g->n_inputs; i++)
            av__aligned_free(batch[i].data);
        return st;
    }
    if (++c->n_batches < c->r->max_batches)
        return AV_STATUS_OK;
    c->full = 1; /* enough: stop this conversion (the files left are not read) */
    return av__fail(err, err_size, AV_STATUS_CANCELLED, "enough calibration batches");
}

av_status av__calib_audio_collect(const av__calib_audio_request *r, av__tensor **batches,
                                  int *n_batches, int *n_files, char *err, size_t err_size)
{
    *batches = NULL;
    *n_batches = *n_files = 0;
    if (!r || !r->audio_dir || !r->package_dir || !r->component || !r->g || r->max_batches < 1)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av__calib_audio_collect: bad request");
    char **paths = NULL;
    size_t n_paths = 0;
    av_converter *cv = NULL;
    collect c = {.r = r};
    av_audio audio = {0}, out = {0};
    av_status st = av__calib_audio_list(r->audio_dir, &paths, &n_paths, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    av_session_config sc = av_session_config_default();
    sc.threads = r->threads;
    char msg[1024];
    if ((st = av__converter_create_observed(r->package_dir, &sc, observe, &c, &cv, msg,
                                            sizeof msg)) != AV_STATUS_OK) {
        av__fail(err, err_size, st, "calibration from audio needs the model package %s: %s",
                 r->package_dir, msg);
        goto done;
    }
    av_convert_config cfg = av_convert_config_default();
    size_t f = 0;
    for (; f < n_paths && !c.full; f++) {
        if ((st = av_audio_read(paths[f], &audio, msg, sizeof msg)) != AV_STATUS_OK) {
            av__fail(err, err_size, st, "calibration audio %s", msg);
            goto done;
        }
        st = av_convert(cv, &audio, &cfg, &out);
        av_audio_free(&audio);
        av_audio_free(&out);
        if (st == AV_STATUS_CANCELLED && c.full) {
            st = AV_STATUS_OK;
        } else if (st != AV_STATUS_OK) {
            av__fail(err, err_size, st, "calibration audio %s: converting it: %s", paths[f],
                     av_converter_last_error(cv));
            goto done;
        }
    }
    if (!c.n_batches) {
        st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                      "%s: converting %zu audio file%s with %s never ran its %s (does the "
                      "package have one?)", r->audio_dir, n_paths, n_paths == 1 ? "" : "s",
                      r->package_dir, r->component);
        goto done;
    }
    *batches = c.t;
    *n_batches = c.n_batches;
    *n_files = (int)f;
    c.t = NULL;
done:
    for (int b = 0; c.t && b < c.n_batches * r->g->n_inputs; b++)
        av__aligned_free(c.t[b].data);
    av__free(c.t);
    av_converter_free(cv);
    av__calib_audio_list_free(paths, n_paths);
    return st;
}
