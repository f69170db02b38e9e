/* The conversion path of include/autovoice/svc.h, whole signal at once. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "autovoice/engine.h"
#include "autovoice/svc.h"
#include "core/internal.h"
#include "ops/op.h"
#include "svc/package.h"

struct av_converter {
    av__package pkg;
    av_session *sessions[AV__COMP_COUNT];
    char err[1024];
};

static av_status cv_fail(av_converter *cv, av_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static av_status cv_fail(av_converter *cv, av_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cv->err, sizeof cv->err, fmt, ap);
    va_end(ap);
    return st;
}

av_convert_config av_convert_config_default(void)
{
    av_convert_config c = {.speaker = NULL, .pitch_shift = 0.0, .temperature = -1.0, .seed = 0,
                           .output_rate = 0, .f0_method = AV_F0_METHOD_PYIN};
    return c;
}

av_status av_converter_create(const char *model_dir, int threads, av_converter **out, char *err,
                              size_t err_size)
{
    if (!out || !model_dir)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_converter_create: NULL argument");
    *out = NULL;
    av_converter *cv = av__calloc(1, sizeof *cv);
    if (!cv)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    av_status st = av__package_load(model_dir, &cv->pkg, err, err_size);
    if (st != AV_STATUS_OK) {
        av__free(cv);
        return st;
    }
    if (!cv->pkg.models[AV__COMP_VOCODER]) {
        av_converter_free(cv);
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                        "%s: the package has no vocoder, and Griffin-Lim is not implemented yet",
                        model_dir);
    }
    av_session_config cfg = av_session_config_default();
    cfg.threads = threads;
    for (int c = 0; c < AV__COMP_COUNT; c++) {
        if (!cv->pkg.models[c])
            continue;
        st = av_session_create(cv->pkg.models[c], &cfg, &cv->sessions[c], err, err_size);
        if (st != AV_STATUS_OK) {
            av_converter_free(cv);
            return st;
        }
    }
    *out = cv;
    return AV_STATUS_OK;
}

void av_converter_free(av_converter *cv)
{
    if (!cv)
        return;
    for (int c = 0; c < AV__COMP_COUNT; c++)
        av_session_free(cv->sessions[c]);
    av__package_free(&cv->pkg);
    av__free(cv);
}

int av_converter_speaker_count(const av_converter *cv) { return cv ? cv->pkg.n_speakers : 0; }
const char *av_converter_speaker_name(const av_converter *cv, int i)
{
    return cv && i >= 0 && i < cv->pkg.n_speakers ? cv->pkg.speaker_names[i] : NULL;
}
int av_converter_speaker_dim(const av_converter *cv) { return cv ? cv->pkg.dim_speaker : 0; }
int av_converter_output_rate(const av_converter *cv) { return cv ? cv->pkg.output_rate : 0; }
const char *av_converter_last_error(const av_converter *cv) { return cv ? cv->err : "no converter"; }

/* Runs one component; `in` holds n_in bound inputs. The output stays in the session until its
 * next run. */
static av_status run_component(av_converter *cv, int c, int n_in, const char *const *names,
                               const av_dtype *dtypes, const int *ndims, const int64_t (*shapes)[3],
                               const void *const *data, const char *out_name, av_tensor *out)
{
    static const char *const labels[] = {"content_encoder", "pitch_encoder", "flow_decoder",
                                         "mel_projection", "vocoder"};
    av_session *s = cv->sessions[c];
    for (int i = 0; i < n_in; i++)
        if (av_session_set_input(s, names[i], dtypes[i], ndims[i], shapes[i], data[i]) != AV_STATUS_OK)
            return cv_fail(cv, AV_STATUS_FORMAT, "%s: %s", labels[c], av_session_last_error(s));
    av_status st = av_session_run(s);
    if (st != AV_STATUS_OK)
        return cv_fail(cv, st, "%s: %s", labels[c], av_session_last_error(s));
    if (av_session_get_output(s, out_name, out) != AV_STATUS_OK)
        return cv_fail(cv, AV_STATUS_FORMAT, "%s: %s", labels[c], av_session_last_error(s));
    return AV_STATUS_OK;
}

/* dst[c * T + t] (channel-major, T frames) from src laid out time-major [Tin, C], linearly
 * interpolated as PyTorch's F.interpolate(mode="linear", align_corners=False). */
static void interpolate_time_major(const float *src, int64_t t_in, int channels, float *dst,
                                   int64_t t_out)
{
    double scale = (double)t_in / (double)t_out;
    for (int64_t t = 0; t < t_out; t++) {
        double pos = ((double)t + 0.5) * scale - 0.5;
        if (pos < 0)
            pos = 0;
        int64_t i0 = (int64_t)pos;
        if (i0 > t_in - 1)
            i0 = t_in - 1;
        int64_t i1 = i0 + 1 < t_in ? i0 + 1 : t_in - 1;
        float w = (float)(pos - (double)i0);
        for (int c = 0; c < channels; c++)
            dst[(int64_t)c * t_out + t] =
                (1.0f - w) * src[i0 * channels + c] + w * src[i1 * channels + c];
    }
}

av_status av_convert(av_converter *cv, const av_audio *in, const av_convert_config *cfg_in,
                     av_audio *out)
{
    if (!cv || !in || !out)
        return AV_STATUS_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    cv->err[0] = '\0';
    av_convert_config cfg = cfg_in ? *cfg_in : av_convert_config_default();
    const av__package *pkg = &cv->pkg;
    av_status st = AV_STATUS_OK;
    av_audio x16 = {0}, voc = {0};
    av_f0_frame *tracked = NULL;
    float *f0 = NULL, *cond = NULL, *noise = NULL;
    unsigned char *voiced = NULL;
    char msg[768];

    if (!in->samples || in->frames <= 0 || in->sample_rate < AV_AUDIO_MIN_SAMPLE_RATE ||
        in->sample_rate > AV_AUDIO_MAX_SAMPLE_RATE)
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "the input signal is empty or its rate is out of range");
    if (!(fabs(cfg.pitch_shift) <= 48.0))
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "pitch shift %g is outside [-48, 48] semitones",
                       cfg.pitch_shift);
    const float *speaker = cfg.speaker_embedding;
    if (!speaker) {
        int idx = cfg.speaker ? av__package_find_speaker(pkg, cfg.speaker) : 0;
        if (idx < 0) {
            char names[512] = "";
            for (int i = 0; i < pkg->n_speakers; i++) {
                strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
                strncat(names, pkg->speaker_names[i], sizeof names - strlen(names) - 1);
            }
            return cv_fail(cv, AV_STATUS_NOT_FOUND, "unknown speaker '%s' (this model has: %s)",
                           cfg.speaker, names);
        }
        speaker = pkg->speakers + (size_t)idx * (size_t)pkg->dim_speaker;
    }
    double temperature = cfg.temperature >= 0 ? cfg.temperature : pkg->temperature;
    int out_rate = cfg.output_rate > 0 ? cfg.output_rate : pkg->output_rate;

    /* 1. content: the model's rate, peak-normalised over the whole signal */
    if ((st = av_audio_resample(in, pkg->content_rate, &x16, msg, sizeof msg)) != AV_STATUS_OK) {
        cv_fail(cv, st, "%s", msg);
        goto done;
    }
    if (x16.frames < 1024) {
        st = cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "the input is too short (%.3f s; at least "
                     "%.3f s)", (double)in->frames / in->sample_rate, 1024.0 / pkg->content_rate);
        goto done;
    }
    float peak = 0;
    for (int64_t i = 0; i < x16.frames; i++)
        peak = fabsf(x16.samples[i]) > peak ? fabsf(x16.samples[i]) : peak;
    float gain = 1.0f / (peak > 1e-8f ? peak : 1e-8f);
    for (int64_t i = 0; i < x16.frames; i++)
        x16.samples[i] *= gain;

    /* 2. F0 at the model's frame rate: tracked, or resampled from the supplied contour */
    int64_t t_pitch = (int64_t)floor((double)in->frames / in->sample_rate * pkg->f0_frame_rate) + 1;
    f0 = av__mallocarray((size_t)t_pitch, sizeof *f0);
    voiced = av__calloc((size_t)t_pitch, 1);
    if (!f0 || !voiced) {
        st = cv_fail(cv, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    const av_f0_frame *contour = cfg.f0;
    int64_t n_contour = cfg.n_f0;
    if (!contour) {
        av_f0_config fc = av_f0_config_default();
        fc.method = cfg.f0_method;
        fc.f0_min = (float)pkg->f0_min;
        fc.f0_max = (float)pkg->f0_max;
        fc.hop_seconds = 1.0 / pkg->f0_frame_rate;
        if (fc.f0_max > in->sample_rate / 4.0f)
            fc.f0_max = in->sample_rate / 4.0f;
        if ((st = av_f0_track(in->samples, in->frames, in->sample_rate, &fc, &tracked, &n_contour,
                              msg, sizeof msg)) != AV_STATUS_OK) {
            cv_fail(cv, st, "F0 tracking: %s", msg);
            goto done;
        }
        contour = tracked;
    }
    if (n_contour < 1) {
        st = cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "the F0 contour is empty");
        goto done;
    }
    double shift = pow(2.0, cfg.pitch_shift / 12.0);
    for (int64_t t = 0, k = 0; t < t_pitch; t++) {
        /* nearest contour frame in time (contours from files may use any spacing) */
        double when = (double)t / pkg->f0_frame_rate;
        while (k + 1 < n_contour && fabs(contour[k + 1].time - when) <= fabs(contour[k].time - when))
            k++;
        double hz = contour[k].voiced && contour[k].f0 > 0 ? contour[k].f0 * shift : 0.0;
        if (hz > 0) {
            hz = hz < pkg->f0_min ? pkg->f0_min : hz > pkg->f0_max ? pkg->f0_max : hz;
            voiced[t] = 1;
        }
        f0[t] = (float)hz;
    }

    /* 3. encoders */
    av_tensor content, pitch;
    {
        const char *names[1] = {"input_audio"};
        const av_dtype dt[1] = {AV_DTYPE_FLOAT32};
        const int nd[1] = {2};
        const int64_t sh[1][3] = {{1, x16.frames, 0}};
        const void *data[1] = {x16.samples};
        if ((st = run_component(cv, AV__COMP_CONTENT, 1, names, dt, nd, sh, data,
                                "content_features", &content)) != AV_STATUS_OK)
            goto done;
    }
    {
        const char *names[2] = {"f0_input", "voiced_mask"};
        const av_dtype dt[2] = {AV_DTYPE_FLOAT32, AV_DTYPE_BOOL};
        const int nd[2] = {2, 2};
        const int64_t sh[2][3] = {{1, t_pitch, 0}, {1, t_pitch, 0}};
        const void *data[2] = {f0, voiced};
        if ((st = run_component(cv, AV__COMP_PITCH, 2, names, dt, nd, sh, data, "pitch_features",
                                &pitch)) != AV_STATUS_OK)
            goto done;
    }
    if (content.ndim != 3 || content.shape[2] != pkg->dim_content || pitch.ndim != 3 ||
        pitch.shape[2] != pkg->dim_pitch) {
        st = cv_fail(cv, AV_STATUS_FORMAT, "encoder outputs do not match the package's dimensions");
        goto done;
    }

    /* 4. conditioning at decoder frames */
    int64_t n_dec = (int64_t)llround((double)in->frames * pkg->decoder_rate / in->sample_rate);
    int64_t t_dec = (n_dec + pkg->hop_length - 1) / pkg->hop_length;
    int64_t C = pkg->dim_cond, L = pkg->dim_latent;
    cond = av__mallocarray((size_t)(C * t_dec), sizeof *cond);
    noise = av__mallocarray((size_t)(L * t_dec), sizeof *noise);
    if (!cond || !noise) {
        st = cv_fail(cv, AV_STATUS_OUT_OF_MEMORY, "out of memory (%lld decoder frames)", (long long)t_dec);
        goto done;
    }
    interpolate_time_major(content.data, content.shape[1], pkg->dim_content, cond, t_dec);
    interpolate_time_major(pitch.data, pitch.shape[1], pkg->dim_pitch,
                           cond + (int64_t)pkg->dim_content * t_dec, t_dec);
    for (int c = 0; c < pkg->dim_speaker; c++)
        for (int64_t t = 0; t < t_dec; t++)
            cond[(int64_t)(pkg->dim_content + pkg->dim_pitch + c) * t_dec + t] = speaker[c];
    for (int64_t c = 0; c < L; c++)
        for (int64_t t = 0; t < t_dec; t++)
            noise[c * t_dec + t] =
                (float)temperature * av__rng_normal(cfg.seed, (uint64_t)(t * L + c));

    /* 5. flow, mel projection, vocoder */
    av_tensor latent, mel, wave;
    {
        /* every frame is valid: the mask is t_dec ones */
        float *mask = av__mallocarray((size_t)t_dec, sizeof *mask);
        if (!mask) {
            st = cv_fail(cv, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        for (int64_t t = 0; t < t_dec; t++)
            mask[t] = 1.0f;
        const char *names[3] = {"latent_input", "mask", "conditioning"};
        const av_dtype dt[3] = {AV_DTYPE_FLOAT32, AV_DTYPE_FLOAT32, AV_DTYPE_FLOAT32};
        const int nd[3] = {3, 3, 3};
        const int64_t sh[3][3] = {{1, L, t_dec}, {1, 1, t_dec}, {1, C, t_dec}};
        const void *data[3] = {noise, mask, cond};
        st = run_component(cv, AV__COMP_FLOW, 3, names, dt, nd, sh, data, "output_latent", &latent);
        av__free(mask);
        if (st != AV_STATUS_OK)
            goto done;
    }
    {
        const char *names[1] = {"latent_input"};
        const av_dtype dt[1] = {AV_DTYPE_FLOAT32};
        const int nd[1] = {3};
        const int64_t sh[1][3] = {{1, L, t_dec}};
        const void *data[1] = {latent.data};
        if ((st = run_component(cv, AV__COMP_MEL, 1, names, dt, nd, sh, data, "mel_output", &mel)) != AV_STATUS_OK)
            goto done;
    }
    {
        const char *names[1] = {"mel_input"};
        const av_dtype dt[1] = {AV_DTYPE_FLOAT32};
        const int nd[1] = {3};
        const int64_t sh[1][3] = {{1, pkg->dim_mel, t_dec}};
        const void *data[1] = {mel.data};
        if ((st = run_component(cv, AV__COMP_VOCODER, 1, names, dt, nd, sh, data, "audio_output",
                                &wave)) != AV_STATUS_OK)
            goto done;
    }
    int64_t wave_n = wave.shape[wave.ndim - 1];
    voc.sample_rate = pkg->decoder_rate;
    voc.frames = n_dec < wave_n ? n_dec : wave_n;
    voc.samples = (float *)(uintptr_t)wave.data; /* borrowed from the session: not freed here */
    if ((st = av_audio_resample(&voc, out_rate, out, msg, sizeof msg)) != AV_STATUS_OK)
        cv_fail(cv, st, "%s", msg);
    voc.samples = NULL;
done:
    av_audio_free(&x16);
    av_f0_free(tracked);
    av__free(f0);
    av__free(voiced);
    av__free(cond);
    av__free(noise);
    return st;
}
