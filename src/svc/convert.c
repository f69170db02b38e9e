/* The conversion path of include/autovoice/svc.h: whole-signal preparation (content rate, peak
 * normalisation, F0), then chunks over decoder frames. docs/CONVERSION.md explains the margins. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "autovoice/engine.h"
#include "autovoice/svc.h"
#include "core/internal.h"
#include "ops/op.h"
#include "dsp/griffin_lim.h"
#include "svc/convert_internal.h"
#include "svc/package.h"

/* Receptive-field probes: a component whose output still changes this far from a perturbed
 * frame is treated as not local, and the signal is converted whole. */
#define PROBE_MAX_FRAMES 1024
/* Frames added to each measured receptive field. */
#define CONTEXT_SAFETY_FRAMES 2
/* Griffin-Lim context on each side of a chunk, decoder frames: its STFT frames overlap by
 * n_fft / hop = 4 frames, and the phase it finds settles within a few frames of a window edge. */
#define GRIFFIN_LIM_CONTEXT_FRAMES 16
#define PI 3.14159265358979323846

static const char *const component_labels[AV__COMP_COUNT] = {
    "content_encoder", "pitch_encoder", "flow_decoder", "mel_projection", "vocoder"};

struct av_converter {
    av__package pkg;
    av_session *sessions[AV__COMP_COUNT];
    /* receptive fields in decoder frames, measured on first use; -1: not yet, INT32_MAX: global */
    int context[AV__COMP_COUNT];
    av_convert_stats stats;
    int have_stats;
    int threads;
    av_session_config session_cfg; /* every component's session: threads, device, GPU math */
    av__convert_observer observer; /* convert_internal.h; NULL: none */
    void *observer_user;
    int probing;                   /* 1 while measure_context runs: the observer is not told */
    char dir[4096];
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

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

av_convert_config av_convert_config_default(void)
{
    av_convert_config c = {.speaker = NULL, .pitch_shift = 0.0, .temperature = -1.0, .seed = 0,
                           .output_rate = 0, .f0_method = AV_F0_METHOD_PYIN,
                           .chunk_seconds = AV_CONVERT_DEFAULT_CHUNK_SECONDS,
                           .context_seconds = AV_CONVERT_DEFAULT_CONTEXT_SECONDS,
                           .crossfade_seconds = AV_CONVERT_DEFAULT_CROSSFADE_SECONDS};
    return c;
}

av_status av_converter_create(const char *model_dir, int threads, av_converter **out, char *err,
                              size_t err_size)
{
    av_session_config cfg = av_session_config_default();
    cfg.threads = threads;
    return av_converter_create_with(model_dir, &cfg, out, err, err_size);
}

/* onnx_only: every component from its ONNX file, never the package's plans. */
static av_status converter_create(const char *model_dir, const av_session_config *session_cfg,
                                  int onnx_only, av_converter **out, char *err, size_t err_size)
{
    if (!out || !model_dir || !session_cfg)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_converter_create: NULL argument");
    *out = NULL;
    av_converter *cv = av__calloc(1, sizeof *cv);
    if (!cv)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int c = 0; c < AV__COMP_COUNT; c++)
        cv->context[c] = -1;
    av_status st = av__package_load(model_dir, &cv->pkg, err, err_size);
    if (st != AV_STATUS_OK) {
        av__free(cv);
        return st;
    }
    cv->threads = session_cfg->threads;
    cv->session_cfg = *session_cfg;
    snprintf(cv->dir, sizeof cv->dir, "%s", model_dir);
    for (int c = 0; c < AV__COMP_COUNT; c++) {
        if (!cv->pkg.models[c])
            continue;
        if ((onnx_only || session_cfg->device != AV_DEVICE_CPU) &&
            av_model_is_plan(cv->pkg.models[c])) {
            /* plans are built for the CPU (their bf16 / int8 layers would run on the CUDA
             * backend's CPU fallback): the GPU runs the ONNX graph; so does calibration */
            char path[8192];
            av_model *onnx = NULL;
            snprintf(path, sizeof path, "%s/%s", model_dir, cv->pkg.component_files[c]);
            if ((st = av_model_load(path, &onnx, err, err_size)) != AV_STATUS_OK) {
                av_converter_free(cv);
                return st;
            }
            av_model_free(cv->pkg.models[c]);
            cv->pkg.models[c] = onnx;
        }
        av_session_config cfg = *session_cfg;
        if (cfg.device != AV_DEVICE_CPU && cfg.gpu_math == AV_GPU_FP16 && c != AV__COMP_VOCODER)
            cfg.gpu_math = AV_GPU_FP32; /* see av_converter_create_with */
        st = av_session_create(cv->pkg.models[c], &cfg, &cv->sessions[c], err, err_size);
        if (st != AV_STATUS_OK) {
            av_converter_free(cv);
            return st;
        }
    }
    *out = cv;
    return AV_STATUS_OK;
}

av_status av_converter_create_with(const char *model_dir, const av_session_config *session_cfg,
                                   av_converter **out, char *err, size_t err_size)
{
    return converter_create(model_dir, session_cfg, 0, out, err, err_size);
}

av_status av__converter_create_observed(const char *model_dir, const av_session_config *cfg,
                                        av__convert_observer observer, void *user,
                                        av_converter **out, char *err, size_t err_size)
{
    av_status st = converter_create(model_dir, cfg, 1, out, err, err_size);
    if (st == AV_STATUS_OK) {
        (*out)->observer = observer;
        (*out)->observer_user = user;
    }
    return st;
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

av_status av_converter_last_stats(const av_converter *cv, av_convert_stats *stats)
{
    if (!cv || !stats)
        return AV_STATUS_INVALID_ARGUMENT;
    if (!cv->have_stats)
        return AV_STATUS_NOT_FOUND;
    *stats = cv->stats;
    return AV_STATUS_OK;
}

/* Up to three bound inputs of one component run. */
typedef struct comp_inputs {
    int n;
    const char *names[3];
    av_dtype dtypes[3];
    int ndims[3];
    int64_t shapes[3][3];
    const void *data[3];
} comp_inputs;

/* 1 when every input of `in` lies within the profiles of component c's plan (or c is not a plan,
 * or the plan has no profile for it). */
static int fits_profiles(const av_converter *cv, int c, const comp_inputs *in)
{
    const av_model *m = cv->pkg.models[c];
    av_plan_info info;
    if (!av_model_is_plan(m) || av_model_plan_info(m, &info) != AV_STATUS_OK)
        return 1;
    for (int k = 0; k < info.n_profiles; k++) {
        av_plan_profile p;
        if (av_model_plan_profile(m, k, &p) != AV_STATUS_OK)
            continue;
        for (int i = 0; i < in->n; i++) {
            if (strcmp(p.input, in->names[i]) != 0)
                continue;
            if (p.ndim != in->ndims[i])
                return 0;
            for (int d = 0; d < p.ndim; d++)
                if (in->shapes[i][d] < p.min[d] || in->shapes[i][d] > p.max[d])
                    return 0;
        }
    }
    return 1;
}

/* Replaces component c's plan by its ONNX file, for shapes the plan's profiles do not cover (a
 * whole long input, a chunk longer than the profiles were built for). */
static av_status use_onnx_instead(av_converter *cv, int c)
{
    char path[8192], err[1024];
    snprintf(path, sizeof path, "%s/%s", cv->dir, cv->pkg.component_files[c]);
    av_model *onnx = NULL;
    av_session *s = NULL;
    av_session_config cfg = cv->session_cfg;
    if (cfg.device != AV_DEVICE_CPU && cfg.gpu_math == AV_GPU_FP16 && c != AV__COMP_VOCODER)
        cfg.gpu_math = AV_GPU_FP32; /* see av_converter_create_with */
    av_status st = av_model_load(path, &onnx, err, sizeof err);
    if (st == AV_STATUS_OK)
        st = av_session_create(onnx, &cfg, &s, err, sizeof err);
    if (st != AV_STATUS_OK) {
        av_model_free(onnx);
        return cv_fail(cv, st, "%s", err);
    }
    av__log(AV_LOG_LEVEL_INFO, "%s: input shapes outside the plan's profiles; running %s instead",
            component_labels[c], path);
    av_session_free(cv->sessions[c]);
    av_model_free(cv->pkg.models[c]);
    cv->sessions[c] = s;
    cv->pkg.models[c] = onnx;
    return AV_STATUS_OK;
}

/* Runs component c on `in`; the output stays in the session until its next run. `seconds`, when
 * given, accumulates the wall time. */
static av_status run_component(av_converter *cv, int c, const comp_inputs *in, const char *out_name,
                               av_tensor *out, double *seconds)
{
    if (!fits_profiles(cv, c, in)) {
        av_status st = use_onnx_instead(cv, c);
        if (st != AV_STATUS_OK)
            return st;
    }
    av_session *s = cv->sessions[c];
    double t0 = now_seconds();
    for (int i = 0; i < in->n; i++)
        if (av_session_set_input(s, in->names[i], in->dtypes[i], in->ndims[i], in->shapes[i],
                                 in->data[i]) != AV_STATUS_OK)
            return cv_fail(cv, AV_STATUS_FORMAT, "%s: %s", component_labels[c], av_session_last_error(s));
    av_status st;
    if (cv->observer && !cv->probing) {
        av_tensor t[3];
        char msg[768] = "";
        memset(t, 0, sizeof t);
        for (int i = 0; i < in->n; i++) {
            t[i].name = in->names[i];
            t[i].dtype = in->dtypes[i];
            t[i].ndim = in->ndims[i];
            memcpy(t[i].shape, in->shapes[i], sizeof in->shapes[i]);
            t[i].data = in->data[i];
        }
        if ((st = cv->observer(cv->observer_user, component_labels[c], in->n, t, msg, sizeof msg)))
            return cv_fail(cv, st, "%s: %s", component_labels[c], msg);
    }
    st = av_session_run(s);
    if (st != AV_STATUS_OK)
        return cv_fail(cv, st, "%s: %s", component_labels[c], av_session_last_error(s));
    if (av_session_get_output(s, out_name, out) != AV_STATUS_OK)
        return cv_fail(cv, AV_STATUS_FORMAT, "%s: %s", component_labels[c], av_session_last_error(s));
    if (seconds)
        *seconds += now_seconds() - t0;
    return AV_STATUS_OK;
}

/* ---- receptive fields ---------------------------------------------------------------------- */

/* Inputs of a decoder-side component over `frames` frames: a fixed pseudo-random pattern, plus
 * `bump` on every channel of frame `at` (at < 0: none). `buf` holds every input back to back. */
static void probe_inputs(const av__package *pkg, int c, int64_t frames, int64_t at, float bump,
                         float *buf, comp_inputs *in)
{
    int64_t L = pkg->dim_latent, C = pkg->dim_cond, M = pkg->dim_mel;
    memset(in, 0, sizeof *in);
    int64_t chans[3];
    if (c == AV__COMP_FLOW) {
        *in = (comp_inputs){.n = 3, .names = {"latent_input", "mask", "conditioning"},
                            .shapes = {{1, L, frames}, {1, 1, frames}, {1, C, frames}}};
        chans[0] = L, chans[1] = 1, chans[2] = C;
    } else {
        *in = (comp_inputs){.n = 1, .names = {c == AV__COMP_MEL ? "latent_input" : "mel_input"},
                            .shapes = {{1, c == AV__COMP_MEL ? L : M, frames}}};
        chans[0] = c == AV__COMP_MEL ? L : M;
    }
    float *p = buf;
    for (int i = 0; i < in->n; i++) {
        in->dtypes[i] = AV_DTYPE_FLOAT32;
        in->ndims[i] = 3;
        in->data[i] = p;
        int is_mask = c == AV__COMP_FLOW && i == 1;
        for (int64_t ch = 0; ch < chans[i]; ch++)
            for (int64_t t = 0; t < frames; t++) {
                float v = is_mask ? 1.0f : 0.5f * av__rng_normal(0x70b3u + (uint64_t)i, (uint64_t)(ch * frames + t));
                if (c == AV__COMP_VOCODER)
                    v = v - 5.0f; /* a plausible log-mel level */
                if (t == at && !is_mask)
                    v += bump;
                *p++ = v;
            }
    }
}

/* Measures how many decoder frames of context component c needs on each side: the farthest
 * output frame that changes when one input frame changes, probed at the centre of a window that
 * doubles until the change no longer reaches its edges. *frames is INT32_MAX for a component
 * whose output changes everywhere (not local). */
static av_status measure_context(av_converter *cv, int c, int *frames)
{
    const av__package *pkg = &cv->pkg;
    const char *out_name = c == AV__COMP_FLOW ? "output_latent" : c == AV__COMP_MEL ? "mel_output"
                                                                                       : "audio_output";
    int64_t per_frame_out = c == AV__COMP_VOCODER ? pkg->hop_length : 1; /* output samples per frame */
    for (int64_t P = 64; P <= PROBE_MAX_FRAMES; P *= 2) {
        int64_t chans = c == AV__COMP_FLOW ? pkg->dim_latent + 1 + pkg->dim_cond
                        : c == AV__COMP_MEL ? pkg->dim_latent : pkg->dim_mel;
        float *buf = av__mallocarray((size_t)(chans * P), sizeof *buf);
        float *base = NULL;
        if (!buf)
            return cv_fail(cv, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        comp_inputs in;
        av_tensor out;
        probe_inputs(pkg, c, P, -1, 0, buf, &in);
        av_status st = run_component(cv, c, &in, out_name, &out, NULL);
        int64_t n = 0, ch_out = 0, t_out = 0;
        if (st == AV_STATUS_OK) {
            n = 1;
            for (int d = 0; d < out.ndim; d++)
                n *= out.shape[d];
            t_out = out.shape[out.ndim - 1];
            ch_out = t_out ? n / t_out : 0;
            if (!(base = av__mallocarray((size_t)n, sizeof *base)))
                st = cv_fail(cv, AV_STATUS_OUT_OF_MEMORY, "out of memory");
            else
                memcpy(base, out.data, (size_t)n * sizeof *base);
        }
        int64_t reach = -1;
        if (st == AV_STATUS_OK) {
            probe_inputs(pkg, c, P, P / 2, 1.0f, buf, &in);
            st = run_component(cv, c, &in, out_name, &out, NULL);
        }
        if (st == AV_STATUS_OK) {
            const float *y = out.data;
            for (int64_t ch = 0; ch < ch_out; ch++)
                for (int64_t s = 0; s < t_out; s++)
                    if (y[ch * t_out + s] != base[ch * t_out + s]) {
                        int64_t frame = s / per_frame_out;
                        int64_t d = frame > P / 2 ? frame - P / 2 : P / 2 - frame;
                        reach = d > reach ? d : reach;
                    }
        }
        av__free(buf);
        av__free(base);
        if (st != AV_STATUS_OK)
            return st;
        if (reach < P / 2 - 1) {
            *frames = (int)(reach < 0 ? 0 : reach);
            return AV_STATUS_OK;
        }
    }
    *frames = INT32_MAX;
    return AV_STATUS_OK;
}

/* ---- interpolation ------------------------------------------------------------------------- */

/* Source frame positions of decoder frame t, as PyTorch's F.interpolate(mode="linear",
 * align_corners=False) maps t_out frames onto t_in: i0, i1 = i0 + 1 (clamped) and weight w of i1. */
static void source_position(int64_t t, int64_t t_in, int64_t t_out, int64_t *i0, int64_t *i1, float *w)
{
    double pos = ((double)t + 0.5) * ((double)t_in / (double)t_out) - 0.5;
    if (pos < 0)
        pos = 0;
    int64_t a = (int64_t)pos;
    if (a > t_in - 1)
        a = t_in - 1;
    *i0 = a;
    *i1 = a + 1 < t_in ? a + 1 : t_in - 1;
    *w = (float)(pos - (double)a);
}

/* dst[c * count + j] for decoder frames first + j (channel-major) from src, time-major
 * [n_src, channels], which holds source frames src_first .. src_first + n_src - 1 of a signal of
 * t_in frames that maps onto t_out decoder frames. */
static void interpolate_window(const float *src, int64_t src_first, int channels, int64_t t_in,
                               int64_t t_out, float *dst, int64_t first, int64_t count)
{
    for (int64_t j = 0; j < count; j++) {
        int64_t i0, i1;
        float w;
        source_position(first + j, t_in, t_out, &i0, &i1, &w);
        const float *a = src + (i0 - src_first) * channels, *b = src + (i1 - src_first) * channels;
        for (int c = 0; c < channels; c++)
            dst[(int64_t)c * count + j] = (1.0f - w) * a[c] + w * b[c];
    }
}

/* ---- one conversion ------------------------------------------------------------------------ */

/* Whole-signal state shared by the chunks. */
typedef struct job {
    const av_convert_config *cfg;
    const float *speaker;
    double temperature;
    av_audio x16;               /* content-encoder rate, peak-normalised */
    int64_t t_content;          /* content frames of the whole signal */
    float *f0;                  /* t_pitch F0 values (Hz, 0 unvoiced) after shift and clamp */
    unsigned char *voiced;
    int64_t t_pitch;
    int64_t n_dec;              /* output samples at the decoder rate */
    int64_t t_dec;              /* decoder frames */
    float *wave;                /* t_dec * hop samples, the chunks' crossfaded sum */
    /* chunk geometry, decoder frames */
    int64_t n_chunks, crossfade, ctx_flow, ctx_voc, ctx_content;
    /* per-chunk work buffers, grown as needed */
    float *cond, *noise, *mask, *voc_in, *gl_out;
    size_t cond_cap, noise_cap, mask_cap, voc_in_cap, gl_out_cap;
    double progress_done;
} job;

static int grow(float **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 1;
    float *p = av__realloc(*buf, need * sizeof *p);
    if (!p)
        return 0;
    *buf = p;
    *cap = need;
    return 1;
}

static av_status report(av_converter *cv, const job *jb, double fraction)
{
    if (jb->cfg->progress && jb->cfg->progress(jb->cfg->progress_user, fraction > 1 ? 1 : fraction))
        return cv_fail(cv, AV_STATUS_CANCELLED, "cancelled");
    return AV_STATUS_OK;
}

/* Content rate, peak normalisation, F0 and its shift. */
static av_status prepare(av_converter *cv, const av_audio *in, job *jb)
{
    const av__package *pkg = &cv->pkg;
    const av_convert_config *cfg = jb->cfg;
    av_convert_stats *stats = &cv->stats;
    char msg[768];
    double t0 = now_seconds();
    av_status st = av_audio_resample(in, pkg->content_rate, &jb->x16, msg, sizeof msg);
    if (st != AV_STATUS_OK)
        return cv_fail(cv, st, "%s", msg);
    if (jb->x16.frames < 1024)
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "the input is too short (%.3f s; at least %.3f s)",
                       (double)in->frames / in->sample_rate, 1024.0 / pkg->content_rate);
    float peak = 0;
    for (int64_t i = 0; i < jb->x16.frames; i++)
        peak = fabsf(jb->x16.samples[i]) > peak ? fabsf(jb->x16.samples[i]) : peak;
    float gain = 1.0f / (peak > 1e-8f ? peak : 1e-8f);
    for (int64_t i = 0; i < jb->x16.frames; i++)
        jb->x16.samples[i] *= gain;
    jb->t_content = 1 + jb->x16.frames / pkg->content_hop;
    stats->resample_in = now_seconds() - t0;

    /* F0 at the model's frame rate: tracked, or taken from the supplied contour */
    t0 = now_seconds();
    jb->t_pitch = (int64_t)floor((double)in->frames / in->sample_rate * pkg->f0_frame_rate) + 1;
    jb->f0 = av__mallocarray((size_t)jb->t_pitch, sizeof *jb->f0);
    jb->voiced = av__calloc((size_t)jb->t_pitch, 1);
    if (!jb->f0 || !jb->voiced)
        return cv_fail(cv, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    const av_f0_frame *contour = cfg->f0;
    int64_t n_contour = cfg->n_f0;
    av_f0_frame *tracked = NULL;
    if (!contour) {
        av_f0_config fc = av_f0_config_default();
        fc.method = cfg->f0_method;
        fc.f0_min = (float)pkg->f0_min;
        fc.f0_max = (float)pkg->f0_max;
        fc.hop_seconds = 1.0 / pkg->f0_frame_rate;
        if (fc.f0_max > in->sample_rate / 4.0f)
            fc.f0_max = in->sample_rate / 4.0f;
        if ((st = av_f0_track(in->samples, in->frames, in->sample_rate, &fc, &tracked, &n_contour,
                              msg, sizeof msg)) != AV_STATUS_OK)
            return cv_fail(cv, st, "F0 tracking: %s", msg);
        contour = tracked;
    }
    if (n_contour < 1) {
        av_f0_free(tracked);
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "the F0 contour is empty");
    }
    double shift = pow(2.0, cfg->pitch_shift / 12.0);
    for (int64_t t = 0, k = 0; t < jb->t_pitch; t++) {
        /* nearest contour frame in time (contours from files may use any spacing) */
        double when = (double)t / pkg->f0_frame_rate;
        while (k + 1 < n_contour && fabs(contour[k + 1].time - when) <= fabs(contour[k].time - when))
            k++;
        double hz = contour[k].voiced && contour[k].f0 > 0 ? contour[k].f0 * shift : 0.0;
        if (hz > 0) {
            hz = hz < pkg->f0_min ? pkg->f0_min : hz > pkg->f0_max ? pkg->f0_max : hz;
            jb->voiced[t] = 1;
        }
        jb->f0[t] = (float)hz;
    }
    av_f0_free(tracked);
    stats->f0 = cfg->f0 ? 0.0 : now_seconds() - t0;
    return AV_STATUS_OK;
}

/* Chunk k's frame ranges: [out0, out1) it contributes to the output (crossfades included),
 * [voc0, voc1) the vocoder runs over, [flow0, flow1) the flow and mel projection run over. */
typedef struct chunk_span {
    int64_t core0, core1, out0, out1, voc0, voc1, flow0, flow1;
} chunk_span;

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static chunk_span chunk_geometry(const job *jb, int64_t k)
{
    chunk_span s;
    int64_t T = jb->t_dec, half = jb->crossfade / 2;
    s.core0 = T * k / jb->n_chunks;
    s.core1 = T * (k + 1) / jb->n_chunks;
    s.out0 = k ? s.core0 - half : 0;
    s.out1 = k + 1 < jb->n_chunks ? s.core1 + (jb->crossfade - half) : T;
    s.voc0 = clamp64(s.out0 - jb->ctx_voc, 0, T);
    s.voc1 = clamp64(s.out1 + jb->ctx_voc, 0, T);
    s.flow0 = clamp64(s.voc0 - jb->ctx_flow, 0, T);
    s.flow1 = clamp64(s.voc1 + jb->ctx_flow, 0, T);
    return s;
}

/* Weight of chunk k's output at decoder sample s (global): 1 inside its core, a raised-cosine
 * ramp over the crossfades shared with its neighbours (the two ramps of a seam sum to 1). */
static float chunk_weight(const job *jb, const chunk_span *sp, int64_t k, int64_t s, int64_t hop)
{
    int64_t xs = jb->crossfade * hop;
    if (xs <= 0)
        return 1.0f;
    if (k > 0 && s < sp->out0 * hop + xs) {
        double u = ((double)(s - sp->out0 * hop) + 0.5) / (double)xs;
        return (float)(0.5 - 0.5 * cos(PI * u));
    }
    if (k + 1 < jb->n_chunks && s >= sp->out1 * hop - xs) {
        double u = ((double)(sp->out1 * hop - s) - 0.5) / (double)xs;
        return (float)(0.5 - 0.5 * cos(PI * u));
    }
    return 1.0f;
}

static av_status convert_chunk(av_converter *cv, job *jb, int64_t k)
{
    const av__package *pkg = &cv->pkg;
    av_convert_stats *stats = &cv->stats;
    chunk_span sp = chunk_geometry(jb, k);
    int64_t F = sp.flow1 - sp.flow0, L = pkg->dim_latent, C = pkg->dim_cond, hop = pkg->hop_length;
    av_status st;
    av_tensor content, pitch, latent, mel, wave;

    /* content frames the flow window interpolates from, plus the encoder's context */
    int64_t i0, i1, j0, j1;
    float w;
    source_position(sp.flow0, jb->t_content, jb->t_dec, &i0, &i1, &w);
    source_position(sp.flow1 - 1, jb->t_content, jb->t_dec, &j0, &j1, &w);
    int64_t c0 = clamp64(i0 - jb->ctx_content, 0, jb->t_content);
    int64_t c1 = clamp64(j1 + 1 + jb->ctx_content, 0, jb->t_content);
    int64_t s0 = c0 * pkg->content_hop;
    int64_t s1 = c1 * pkg->content_hop < jb->x16.frames ? c1 * pkg->content_hop : jb->x16.frames;
    comp_inputs in = {.n = 1, .names = {"input_audio"}, .dtypes = {AV_DTYPE_FLOAT32}, .ndims = {2},
                      .shapes = {{1, s1 - s0}}, .data = {jb->x16.samples + s0}};
    if ((st = run_component(cv, AV__COMP_CONTENT, &in, "content_features", &content, &stats->content)))
        return st;
    if (content.ndim != 3 || content.shape[2] != pkg->dim_content || content.shape[1] < c1 - c0)
        return cv_fail(cv, AV_STATUS_FORMAT, "content_encoder: gave [%lld, %lld, %lld] for %lld samples, "
                       "expected [1, %lld, %d]", (long long)content.shape[0], (long long)content.shape[1],
                       (long long)(content.ndim > 2 ? content.shape[2] : 0), (long long)(s1 - s0),
                       (long long)(c1 - c0), pkg->dim_content);

    /* pitch frames of the flow window (the pitch encoder works frame by frame) */
    source_position(sp.flow0, jb->t_pitch, jb->t_dec, &i0, &i1, &w);
    source_position(sp.flow1 - 1, jb->t_pitch, jb->t_dec, &j0, &j1, &w);
    int64_t p0 = i0, p1 = j1 + 1;
    in = (comp_inputs){.n = 2, .names = {"f0_input", "voiced_mask"},
                       .dtypes = {AV_DTYPE_FLOAT32, AV_DTYPE_BOOL}, .ndims = {2, 2},
                       .shapes = {{1, p1 - p0}, {1, p1 - p0}},
                       .data = {jb->f0 + p0, jb->voiced + p0}};
    if ((st = run_component(cv, AV__COMP_PITCH, &in, "pitch_features", &pitch, &stats->pitch)))
        return st;
    if (pitch.ndim != 3 || pitch.shape[1] != p1 - p0 || pitch.shape[2] != pkg->dim_pitch)
        return cv_fail(cv, AV_STATUS_FORMAT, "pitch_encoder: output does not match the package's dimensions");

    /* conditioning, noise and mask over the flow window */
    double t0 = now_seconds();
    if (!grow(&jb->cond, &jb->cond_cap, (size_t)(C * F)) || !grow(&jb->noise, &jb->noise_cap, (size_t)(L * F)) ||
        !grow(&jb->mask, &jb->mask_cap, (size_t)F))
        return cv_fail(cv, AV_STATUS_OUT_OF_MEMORY, "out of memory (%lld decoder frames)", (long long)F);
    interpolate_window(content.data, c0, pkg->dim_content, jb->t_content, jb->t_dec, jb->cond, sp.flow0, F);
    interpolate_window(pitch.data, p0, pkg->dim_pitch, jb->t_pitch, jb->t_dec,
                       jb->cond + (int64_t)pkg->dim_content * F, sp.flow0, F);
    for (int c = 0; c < pkg->dim_speaker; c++)
        for (int64_t t = 0; t < F; t++)
            jb->cond[(int64_t)(pkg->dim_content + pkg->dim_pitch + c) * F + t] = jb->speaker[c];
    for (int64_t c = 0; c < L; c++)
        for (int64_t t = 0; t < F; t++)
            jb->noise[c * F + t] = (float)jb->temperature *
                                   av__rng_normal(jb->cfg->seed, (uint64_t)((sp.flow0 + t) * L + c));
    for (int64_t t = 0; t < F; t++)
        jb->mask[t] = 1.0f; /* every frame is valid */
    stats->assemble += now_seconds() - t0;

    in = (comp_inputs){.n = 3, .names = {"latent_input", "mask", "conditioning"},
                       .dtypes = {AV_DTYPE_FLOAT32, AV_DTYPE_FLOAT32, AV_DTYPE_FLOAT32},
                       .ndims = {3, 3, 3}, .shapes = {{1, L, F}, {1, 1, F}, {1, C, F}},
                       .data = {jb->noise, jb->mask, jb->cond}};
    if ((st = run_component(cv, AV__COMP_FLOW, &in, "output_latent", &latent, &stats->flow)))
        return st;
    in = (comp_inputs){.n = 1, .names = {"latent_input"}, .dtypes = {AV_DTYPE_FLOAT32}, .ndims = {3},
                       .shapes = {{1, L, F}}, .data = {latent.data}};
    if ((st = run_component(cv, AV__COMP_MEL, &in, "mel_output", &mel, &stats->mel)))
        return st;
    if (mel.ndim != 3 || mel.shape[1] != pkg->dim_mel || mel.shape[2] != F)
        return cv_fail(cv, AV_STATUS_FORMAT, "mel_projection: output does not match the package's dimensions");

    /* the vocoder window of the mel, channel-major */
    int64_t V = sp.voc1 - sp.voc0, M = pkg->dim_mel;
    if (!grow(&jb->voc_in, &jb->voc_in_cap, (size_t)(M * V)))
        return cv_fail(cv, AV_STATUS_OUT_OF_MEMORY, "out of memory");
    const float *mel_data = mel.data;
    for (int64_t c = 0; c < M; c++)
        memcpy(jb->voc_in + c * V, mel_data + c * F + (sp.voc0 - sp.flow0), (size_t)V * sizeof(float));
    const float *y;
    if (cv->sessions[AV__COMP_VOCODER]) {
        in = (comp_inputs){.n = 1, .names = {"mel_input"}, .dtypes = {AV_DTYPE_FLOAT32}, .ndims = {3},
                           .shapes = {{1, M, V}}, .data = {jb->voc_in}};
        if ((st = run_component(cv, AV__COMP_VOCODER, &in, "audio_output", &wave, &stats->vocoder)))
            return st;
        int64_t wave_n = wave.shape[wave.ndim - 1];
        if (wave_n < V * hop)
            return cv_fail(cv, AV_STATUS_FORMAT, "vocoder: gave %lld samples for %lld frames, expected %lld",
                           (long long)wave_n, (long long)V, (long long)(V * hop));
        y = wave.data;
    } else {
        /* no vocoder in the package: Griffin-Lim on the decoder mel */
        char msg[512];
        av__griffin_lim_config gl = av__griffin_lim_config_default();
        gl.seed = jb->cfg->seed;
        gl.threads = cv->threads;
        t0 = now_seconds();
        if (!grow(&jb->gl_out, &jb->gl_out_cap, (size_t)(V * hop)))
            return cv_fail(cv, AV_STATUS_OUT_OF_MEMORY, "out of memory");
        if ((st = av__griffin_lim(&pkg->decoder_mel, jb->voc_in, V, &gl, jb->gl_out, msg, sizeof msg)))
            return cv_fail(cv, st, "Griffin-Lim: %s", msg);
        stats->vocoder += now_seconds() - t0;
        y = jb->gl_out;
    }

    t0 = now_seconds();
    for (int64_t s = sp.out0 * hop; s < sp.out1 * hop; s++)
        jb->wave[s] += chunk_weight(jb, &sp, k, s, hop) * y[s - sp.voc0 * hop];
    stats->assemble += now_seconds() - t0;
    return AV_STATUS_OK;
}

/* Decides the chunking: n_chunks, crossfade and the margins (measuring the receptive fields on
 * first use). A component that is not local makes the signal convert whole. */
static av_status plan_chunks(av_converter *cv, job *jb)
{
    const av__package *pkg = &cv->pkg;
    const av_convert_config *cfg = jb->cfg;
    double frame_rate = (double)pkg->decoder_rate / pkg->hop_length;
    int64_t chunk = (int64_t)llround(cfg->chunk_seconds * frame_rate);
    jb->n_chunks = 1;
    jb->crossfade = jb->ctx_flow = jb->ctx_voc = jb->ctx_content = 0;
    /* a chunk is between 2/3 and 4/3 of the asked length: no short last chunk */
    if (chunk <= 0 || jb->t_dec <= chunk + chunk / 3)
        return AV_STATUS_OK;
    static const int decoder_side[] = {AV__COMP_FLOW, AV__COMP_MEL, AV__COMP_VOCODER};
    for (size_t i = 0; i < sizeof decoder_side / sizeof decoder_side[0]; i++) {
        int c = decoder_side[i];
        if (!cv->sessions[c]) /* no vocoder: Griffin-Lim's fixed context */
            cv->context[c] = GRIFFIN_LIM_CONTEXT_FRAMES;
        if (cv->context[c] < 0) {
            cv->probing = 1;
            av_status st = measure_context(cv, c, &cv->context[c]);
            cv->probing = 0;
            if (st != AV_STATUS_OK)
                return st;
        }
        if (cv->context[c] == INT32_MAX) {
            av__log(AV_LOG_LEVEL_WARNING, "%s is not local (its output changes more than %d frames away "
                    "from a changed input): converting the whole signal at once",
                    component_labels[c], PROBE_MAX_FRAMES / 2);
            return AV_STATUS_OK;
        }
    }
    jb->n_chunks = (jb->t_dec + chunk / 2) / chunk;
    if (jb->n_chunks < 2)
        jb->n_chunks = 2;
    jb->crossfade = 2 * (int64_t)llround(cfg->crossfade_seconds * frame_rate / 2);
    int64_t shortest = jb->t_dec / jb->n_chunks;
    if (jb->crossfade > shortest / 2)
        jb->crossfade = shortest / 2 / 2 * 2;
    jb->ctx_voc = cv->context[AV__COMP_VOCODER] + CONTEXT_SAFETY_FRAMES;
    jb->ctx_flow = cv->context[AV__COMP_FLOW] + cv->context[AV__COMP_MEL] + CONTEXT_SAFETY_FRAMES;
    jb->ctx_content = (int64_t)ceil(cfg->context_seconds * pkg->content_rate / pkg->content_hop);
    return AV_STATUS_OK;
}

static void job_free(job *jb)
{
    av_audio_free(&jb->x16);
    av__free(jb->f0);
    av__free(jb->voiced);
    av__free(jb->wave);
    av__free(jb->cond);
    av__free(jb->noise);
    av__free(jb->mask);
    av__free(jb->voc_in);
    av__free(jb->gl_out);
}

av_status av_convert(av_converter *cv, const av_audio *in, const av_convert_config *cfg_in,
                     av_audio *out)
{
    if (!cv || !in || !out)
        return AV_STATUS_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    cv->err[0] = '\0';
    cv->have_stats = 0;
    memset(&cv->stats, 0, sizeof cv->stats);
    av_convert_config cfg = cfg_in ? *cfg_in : av_convert_config_default();
    const av__package *pkg = &cv->pkg;
    double t_start = now_seconds();

    if (!in->samples || in->frames <= 0 || in->sample_rate < AV_AUDIO_MIN_SAMPLE_RATE ||
        in->sample_rate > AV_AUDIO_MAX_SAMPLE_RATE)
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "the input signal is empty or its rate is out of range");
    if (!(fabs(cfg.pitch_shift) <= 48.0))
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "pitch shift %g is outside [-48, 48] semitones",
                       cfg.pitch_shift);
    if (!(cfg.chunk_seconds == 0 || (cfg.chunk_seconds >= 1 && cfg.chunk_seconds <= AV_CONVERT_MAX_CHUNK_SECONDS)))
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "chunk length %g s is outside [1, %g] (or 0 for "
                       "the whole signal)", cfg.chunk_seconds, AV_CONVERT_MAX_CHUNK_SECONDS);
    if (!(cfg.context_seconds >= 0 && cfg.context_seconds <= 10) ||
        !(cfg.crossfade_seconds >= 0 && cfg.crossfade_seconds <= 2))
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "context must be in [0, 10] s and crossfade in [0, 2] s");
    if ((cfg.f0 == NULL) != (cfg.n_f0 == 0))
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "a supplied F0 contour needs both frames and a count");

    job jb = {.cfg = &cfg};
    jb.speaker = cfg.speaker_embedding;
    if (!jb.speaker) {
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
        jb.speaker = pkg->speakers + (size_t)idx * (size_t)pkg->dim_speaker;
    }
    jb.temperature = cfg.temperature >= 0 ? cfg.temperature : pkg->temperature;
    int out_rate = cfg.output_rate > 0 ? cfg.output_rate : pkg->output_rate;
    av_status st;
    av_audio dec = {0};
    char msg[768];

    if ((st = report(cv, &jb, 0.0)) || (st = prepare(cv, in, &jb)) || (st = report(cv, &jb, 0.05)))
        goto done;
    jb.n_dec = (int64_t)llround((double)in->frames * pkg->decoder_rate / in->sample_rate);
    jb.t_dec = (jb.n_dec + pkg->hop_length - 1) / pkg->hop_length;
    if ((st = plan_chunks(cv, &jb)))
        goto done;
    cv->stats.chunks = (int)jb.n_chunks;
    cv->stats.griffin_lim = cv->sessions[AV__COMP_VOCODER] == NULL;
    cv->stats.flow_context_frames = cv->context[AV__COMP_FLOW];
    cv->stats.mel_context_frames = cv->context[AV__COMP_MEL];
    cv->stats.vocoder_context_frames = cv->context[AV__COMP_VOCODER];
    if (!(jb.wave = av__calloc((size_t)(jb.t_dec * pkg->hop_length), sizeof *jb.wave))) {
        st = cv_fail(cv, AV_STATUS_OUT_OF_MEMORY, "out of memory (%lld decoder frames)", (long long)jb.t_dec);
        goto done;
    }
    for (int64_t k = 0; k < jb.n_chunks; k++) {
        if ((st = convert_chunk(cv, &jb, k)) ||
            (st = report(cv, &jb, 0.05 + 0.9 * (double)(k + 1) / (double)jb.n_chunks)))
            goto done;
    }
    double t0 = now_seconds();
    dec = (av_audio){.samples = jb.wave, .frames = jb.n_dec, .sample_rate = pkg->decoder_rate};
    st = av_audio_resample(&dec, out_rate, out, msg, sizeof msg);
    dec.samples = NULL; /* still jb.wave */
    if (st != AV_STATUS_OK) {
        cv_fail(cv, st, "%s", msg);
        goto done;
    }
    cv->stats.resample_out = now_seconds() - t0;
    if ((st = report(cv, &jb, 1.0)))
        goto done;
    cv->stats.input_seconds = (double)in->frames / in->sample_rate;
    cv->stats.total = now_seconds() - t_start;
    cv->have_stats = 1;
done:
    if (st != AV_STATUS_OK)
        av_audio_free(out);
    job_free(&jb);
    return st;
}

/* Same file (device and inode), when both exist. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

av_status av_convert_file(av_converter *cv, const char *in_path, const char *out_path,
                          av_audio_format format, int overwrite, const av_convert_config *cfg)
{
    if (!cv)
        return AV_STATUS_INVALID_ARGUMENT;
    if (!in_path || !out_path)
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "av_convert_file: NULL path");
    if (!strcmp(in_path, out_path) || same_file(in_path, out_path))
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "%s: the output would overwrite the input", out_path);
    struct stat sb;
    if (!overwrite && lstat(out_path, &sb) == 0)
        return cv_fail(cv, AV_STATUS_INVALID_ARGUMENT, "%s: exists, and replacing it was not asked for", out_path);
    av_audio in = {0}, out = {0};
    char msg[768];
    av_status st = av_audio_read(in_path, &in, msg, sizeof msg);
    if (st != AV_STATUS_OK)
        return cv_fail(cv, st, "%s", msg);
    if ((st = av_convert(cv, &in, cfg, &out)) != AV_STATUS_OK) {
        char inner[sizeof cv->err];
        memcpy(inner, cv->err, sizeof inner);
        cv_fail(cv, st, "%s: %s", in_path, inner);
    } else {
        int64_t clipped = 0;
        if ((st = av_audio_write(out_path, &out, format, &clipped, msg, sizeof msg)) != AV_STATUS_OK) {
            cv->have_stats = 0;
            cv_fail(cv, st, "%s", msg);
        }
        cv->stats.clipped = clipped;
    }
    av_audio_free(&in);
    av_audio_free(&out);
    return st;
}
