/* libFuzzer target for svc/package: feeds each input to av__package_parse_yaml (model.yaml from
 * memory: no file is opened) and checks what a successful parse promises (package.h): both mel
 * blocks pass av__mel_spec_check and agree with the keys around them, the dimensions add up, the
 * F0 range is ordered, every speaker name is 1-63 characters, every recorded path is relative and
 * stays inside the package (only the vocoder may be absent), nothing is loaded. A failure must
 * leave *pkg empty and say why, naming the file. Build and run: tests/fuzz/README.md. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/plan_format.h"
#include "svc/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parser never loads components: these stand in for the engine's loader, which
 * av__package_load (linked in with package.c, never called here) refers to. */
av_status av_model_load(const char *path, av_model **out, char *err, size_t err_size)
{
    (void)path, (void)err, (void)err_size;
    *out = NULL;
    abort();
}

void av_model_free(av_model *model)
{
    if (model)
        abort();
}

int av__plan_is_fresh(const char *plan_path, const char *onnx_path)
{
    (void)plan_path, (void)onnx_path;
    abort();
}

static int safe_path(const char *p, size_t size)
{
    size_t n = strnlen(p, size);
    if (n == 0 || n == size || p[0] == '/')
        return 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '.' && p[i + 1] == '.' && (i == 0 || p[i - 1] == '/') &&
            (i + 2 == n || p[i + 2] == '/'))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    av__package pkg;
    memset(err, 'x', sizeof err);
    if (av__package_parse_yaml((const char *)data, size, "fuzz.yaml", &pkg, err, sizeof err) !=
        AV_STATUS_OK) {
        if (pkg.speaker_names || pkg.n_speakers || pkg.name[0] || pkg.content_rate ||
            !memchr(err, '\0', sizeof err) || strncmp(err, "fuzz.yaml: ", 11) != 0 || !err[11])
            abort(); /* a failure leaves *pkg empty and says why */
        return 0;
    }
    const av__mel_spec *c = &pkg.content_mel, *d = &pkg.decoder_mel;
    if (av__mel_spec_check(c, NULL, 0) != AV_STATUS_OK ||
        av__mel_spec_check(d, NULL, 0) != AV_STATUS_OK || c->sample_rate != pkg.content_rate ||
        d->sample_rate != pkg.decoder_rate || pkg.content_hop != c->hop_length ||
        d->hop_length != pkg.hop_length || d->n_mels != pkg.dim_mel ||
        pkg.dim_cond != pkg.dim_content + pkg.dim_pitch + pkg.dim_speaker ||
        !(pkg.f0_min < pkg.f0_max) || pkg.output_rate < 8000 || !(pkg.temperature >= 0))
        abort();
    if (!memchr(pkg.name, '\0', sizeof pkg.name) || !memchr(pkg.preset, '\0', sizeof pkg.preset))
        abort();
    if (pkg.n_speakers < 1 || !pkg.speaker_names || pkg.speakers ||
        !safe_path(pkg.speakers_file, sizeof pkg.speakers_file))
        abort();
    for (int i = 0; i < pkg.n_speakers; i++) {
        size_t n = strnlen(pkg.speaker_names[i], sizeof pkg.speaker_names[i]);
        if (n == 0 || n == sizeof pkg.speaker_names[i])
            abort();
    }
    for (int k = 0; k < AV__COMP_COUNT; k++) {
        if (pkg.models[k])
            abort();
        if (!safe_path(pkg.component_files[k], sizeof pkg.component_files[k]) &&
            !(k == AV__COMP_VOCODER && pkg.component_files[k][0] == '\0'))
            abort();
    }
    av__package_free(&pkg);
    return 0;
}
