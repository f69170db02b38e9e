/* Griffin-Lim with momentum over the STFT of a mel spec (see griffin_lim.h for the method).
 *
 * Work is split into `lanes`, one per thread, each with its own FFT and scratch. The STFT side is
 * per frame and lands in per-frame storage, so any split gives the same bits. The overlap-add of
 * the inverse side is made split-independent by cutting the frames into fixed chunks long enough
 * that chunks two apart never touch the same sample: the even chunks are added first (in
 * parallel), then the odd ones, so every sample receives its terms in one fixed order. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "core/threadpool.h"
#include "dsp/griffin_lim.h"
#include "dsp/stft.h"
#include "ops/op.h" /* av__rng_uniform */

#define TWO_PI 6.28318530717958647692
/* Log-mel values above this are refused: e^50 is ~1e21, far beyond any magnitude of audio in
 * [-1, 1] (at most sum(window) ~ n_fft / 2), and keeps every sum finite in float. */
#define MAX_LOG_MEL 50.0f

av__griffin_lim_config av__griffin_lim_config_default(void)
{
    av__griffin_lim_config c = {
        .iterations = 32, .momentum = 0.99f, .seed = 0, .threads = 1, .nnls_iterations = 50};
    return c;
}

typedef struct lane {
    av__fft fft;
    double *scratch;   /* mel inversion: y, u [n_mels]; s, numer, d [bins] */
} lane;

typedef struct gl_run {
    const av__mel_spec *spec;
    const av__griffin_lim_config *cfg;
    int n_fft, bins, hop, n_mels;
    int w_lo, w_hi;       /* window support [w_lo, w_hi) inside n_fft */
    int64_t pad;          /* reflect padding of the spec, each side */
    int64_t n;            /* signal samples: frames * hop */
    int64_t stride;       /* spectrogram columns (the caller's frames) */
    int64_t frames;       /* columns used: stride, or stride - 1 (see av__griffin_lim) */
    int64_t stft_frames;  /* STFT frames of the n-sample signal */
    int64_t span;         /* padded positions the STFT frames cover: (stft_frames - 1) hop + n_fft */
    int64_t chunk;        /* frames per overlap-add chunk */
    int parity;           /* overlap-add pass: 0 even chunks, 1 odd */
    float beta;           /* momentum / (1 + momentum) */
    const float *log_mel;
    /* mel inversion */
    float *fb;            /* [n_mels][bins] */
    int *fb_lo, *fb_hi;   /* non-zero columns [lo, hi) of each filter */
    double *chol;         /* [n_mels][n_mels] lower Cholesky factor of fb fb^T + lambda I */
    unsigned char *covered; /* [bins] some filter is non-zero there */
    /* iteration state */
    float *w;             /* [n_fft] window */
    float *mag;           /* [frames][bins] target magnitude */
    float *c;             /* [stft_frames][2 bins] current coefficients */
    float *prev;          /* [frames][2 bins] previous rebuilt STFT */
    float *num;           /* [span] overlap-add numerator */
    float *xpad;          /* [span] padded signal */
    float *x;             /* [n] signal */
    float *invden;        /* [n] 1 / folded sum of squared windows, 0 where nothing covers */
    lane *lanes;
    int n_lanes;
} gl_run;

/* ---- mel -> linear magnitude ---------------------------------------------------------------- */

/* Lower Cholesky factor of fb fb^T + lambda I into r->chol. lambda = 1e-6 of the mean diagonal
 * keeps a filter with no bins (or nearly dependent ones) from making it singular. */
static void gram_cholesky(gl_run *r)
{
    const int m = r->n_mels, bins = r->bins;
    double *g = r->chol, trace = 0.0;
    for (int a = 0; a < m; a++) {
        for (int b = 0; b <= a; b++) {
            int lo = r->fb_lo[a] > r->fb_lo[b] ? r->fb_lo[a] : r->fb_lo[b];
            int hi = r->fb_hi[a] < r->fb_hi[b] ? r->fb_hi[a] : r->fb_hi[b];
            double s = 0.0;
            for (int k = lo; k < hi; k++)
                s += (double)r->fb[(size_t)a * bins + k] * r->fb[(size_t)b * bins + k];
            g[(size_t)a * m + b] = s;
        }
        trace += g[(size_t)a * m + a];
    }
    const double lambda = 1e-6 * (trace > 0.0 ? trace / m : 1.0);
    for (int a = 0; a < m; a++)
        g[(size_t)a * m + a] += lambda;
    for (int j = 0; j < m; j++) {
        double d = g[(size_t)j * m + j];
        for (int k = 0; k < j; k++)
            d -= g[(size_t)j * m + k] * g[(size_t)j * m + k];
        d = sqrt(d > lambda ? d : lambda); /* positive definite in exact arithmetic */
        g[(size_t)j * m + j] = d;
        for (int i = j + 1; i < m; i++) {
            double s = g[(size_t)i * m + j];
            for (int k = 0; k < j; k++)
                s -= g[(size_t)i * m + k] * g[(size_t)j * m + k];
            g[(size_t)i * m + j] = s / d;
        }
    }
}

/* Target magnitude of frame t (see griffin_lim.h, steps 1-2). */
static void invert_frame(gl_run *r, lane *ln, int64_t t)
{
    const int m = r->n_mels, bins = r->bins;
    double *y = ln->scratch, *u = y + m, *s = u + m, *numer = s + bins, *d = numer + bins;
    const double floor_ = r->spec->log_floor;
    for (int i = 0; i < m; i++) {
        double v = exp((double)r->log_mel[(size_t)i * r->stride + t]);
        /* ln(mel + floor): mel = e^v - floor. ln(max(mel, floor)): a value at the clamp (float
         * rounding of the log allowed for) says only that the mel was at most the floor: 0. */
        if (r->spec->log == AV__MEL_LOG_ADD)
            v = v > floor_ ? v - floor_ : 0.0;
        else if (v <= floor_ * (1.0 + 1e-4))
            v = 0.0;
        y[i] = v;
    }
    /* u = (L L^T)^-1 y */
    const double *L = r->chol;
    for (int i = 0; i < m; i++) {
        double acc = y[i];
        for (int k = 0; k < i; k++)
            acc -= L[(size_t)i * m + k] * u[k];
        u[i] = acc / L[(size_t)i * m + i];
    }
    for (int i = m - 1; i >= 0; i--) {
        double acc = u[i];
        for (int k = i + 1; k < m; k++)
            acc -= L[(size_t)k * m + i] * u[k];
        u[i] = acc / L[(size_t)i * m + i];
    }
    /* s = max(fb^T u, 0), numer = fb^T y */
    for (int k = 0; k < bins; k++)
        s[k] = numer[k] = 0.0;
    for (int i = 0; i < m; i++) {
        const float *row = r->fb + (size_t)i * bins;
        for (int k = r->fb_lo[i]; k < r->fb_hi[i]; k++) {
            s[k] += row[k] * u[i];
            numer[k] += row[k] * y[i];
        }
    }
    double top = 0.0;
    for (int k = 0; k < bins; k++) {
        s[k] = s[k] > 0.0 ? s[k] : 0.0;
        top = s[k] > top ? s[k] : top;
    }
    float *out = r->mag + (size_t)t * bins;
    if (top > 0.0) {
        for (int k = 0; k < bins; k++)
            s[k] = r->covered[k] ? s[k] + 1e-6 * top : 0.0;
        for (int it = 0; it < r->cfg->nnls_iterations; it++) {
            /* u <- fb s, then s <- s * numer / (fb^T u) */
            for (int i = 0; i < m; i++) {
                const float *row = r->fb + (size_t)i * bins;
                double acc = 0.0;
                for (int k = r->fb_lo[i]; k < r->fb_hi[i]; k++)
                    acc += row[k] * s[k];
                u[i] = acc;
            }
            for (int k = 0; k < bins; k++)
                d[k] = 0.0;
            for (int i = 0; i < m; i++) {
                const float *row = r->fb + (size_t)i * bins;
                for (int k = r->fb_lo[i]; k < r->fb_hi[i]; k++)
                    d[k] += row[k] * u[i];
            }
            for (int k = 0; k < bins; k++)
                s[k] = d[k] > 0.0 ? s[k] * (numer[k] / d[k]) : 0.0;
        }
    } else {
        for (int k = 0; k < bins; k++)
            s[k] = 0.0;
    }
    for (int k = 0; k < bins; k++)
        out[k] = (float)(r->spec->power == 2 ? sqrt(s[k]) : s[k]);
}

static void invert_lanes(void *arg, int64_t begin, int64_t end)
{
    gl_run *r = arg;
    for (int64_t l = begin; l < end; l++) {
        int64_t t0 = r->frames * l / r->n_lanes, t1 = r->frames * (l + 1) / r->n_lanes;
        for (int64_t t = t0; t < t1; t++)
            invert_frame(r, &r->lanes[l], t);
    }
}

/* ---- STFT / ISTFT ------------------------------------------------------------------------------ */

/* Overlap-adds the windowed inverse FFTs of the chunks of parity r->parity that lane l owns. */
static void ola_lanes(void *arg, int64_t begin, int64_t end)
{
    gl_run *r = arg;
    const int64_t n_chunks = (r->stft_frames + r->chunk - 1) / r->chunk;
    const float scale = 1.0f / (float)r->n_fft;
    for (int64_t l = begin; l < end; l++) {
        av__fft *fft = &r->lanes[l].fft;
        for (int64_t ch = 2 * l + r->parity; ch < n_chunks; ch += 2 * r->n_lanes) {
            int64_t t1 = (ch + 1) * r->chunk < r->stft_frames ? (ch + 1) * r->chunk : r->stft_frames;
            for (int64_t t = ch * r->chunk; t < t1; t++) {
                memcpy(fft->freq, r->c + (size_t)t * 2 * r->bins, (size_t)r->bins * 2 * sizeof(float));
                av__fft_inverse(fft);
                float *dst = r->num + t * r->hop;
                for (int j = r->w_lo; j < r->w_hi; j++)
                    dst[j] += r->w[j] * (fft->time[j] * scale);
            }
        }
    }
}

/* r->x <- least-squares inverse STFT of r->c; r->xpad <- its reflect padding. */
static void istft(gl_run *r, av__threadpool *pool)
{
    memset(r->num, 0, (size_t)r->span * sizeof(float));
    for (r->parity = 0; r->parity < 2; r->parity++)
        av__parallel_for(pool, r->n_lanes, 1, ola_lanes, r);
    memset(r->x, 0, (size_t)r->n * sizeof(float));
    for (int64_t j = 0; j < r->span; j++) {
        int64_t i = j - r->pad;
        r->x[i >= 0 && i < r->n ? i : av__reflect_index(i, r->n)] += r->num[j];
    }
    for (int64_t i = 0; i < r->n; i++)
        r->x[i] *= r->invden[i];
    for (int64_t j = 0; j < r->span; j++) {
        int64_t i = j - r->pad;
        r->xpad[j] = r->x[i >= 0 && i < r->n ? i : av__reflect_index(i, r->n)];
    }
}

/* STFT of r->xpad frame by frame, then the momentum step and the magnitude projection. */
static void project_lanes(void *arg, int64_t begin, int64_t end)
{
    gl_run *r = arg;
    const int bins = r->bins;
    for (int64_t l = begin; l < end; l++) {
        av__fft *fft = &r->lanes[l].fft;
        int64_t t0 = r->stft_frames * l / r->n_lanes, t1 = r->stft_frames * (l + 1) / r->n_lanes;
        for (int64_t t = t0; t < t1; t++) {
            const float *src = r->xpad + t * r->hop;
            for (int j = 0; j < r->n_fft; j++)
                fft->time[j] = r->w[j] * src[j];
            av__fft_forward(fft);
            float *c = r->c + (size_t)t * 2 * bins;
            if (t >= r->frames) { /* no column for this frame: keep it consistent */
                memcpy(c, fft->freq, (size_t)bins * 2 * sizeof(float));
                continue;
            }
            float *prev = r->prev + (size_t)t * 2 * bins;
            const float *mag = r->mag + (size_t)t * bins;
            for (int k = 0; k < bins; k++) {
                float re = fft->freq[2 * k], im = fft->freq[2 * k + 1];
                float ar = re - r->beta * prev[2 * k], ai = im - r->beta * prev[2 * k + 1];
                prev[2 * k] = re;
                prev[2 * k + 1] = im;
                /* in double: |a|^2 of large magnitudes (log-mel up to MAX_LOG_MEL) overflows float */
                double norm = sqrt((double)ar * ar + (double)ai * ai);
                if (norm > 0.0) {
                    c[2 * k] = (float)(mag[k] * (ar / norm));
                    c[2 * k + 1] = (float)(mag[k] * (ai / norm));
                } else {
                    c[2 * k] = mag[k];
                    c[2 * k + 1] = 0.0f;
                }
            }
        }
    }
}

/* ---- setup -------------------------------------------------------------------------------------- */

static av_status check_args(const av__mel_spec *spec, const float *log_mel, int64_t frames,
                            const av__griffin_lim_config *cfg, const float *out, char *err,
                            size_t err_size)
{
    if (!spec || !log_mel || !cfg || !out)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "griffin-lim: %s is NULL",
                        !spec ? "spec" : !log_mel ? "log_mel" : !cfg ? "cfg" : "out");
    char msg[256];
    if (av__mel_spec_check(spec, msg, sizeof msg) != AV_STATUS_OK)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "griffin-lim: mel spec: %s", msg);
    const int bins = spec->n_fft / 2 + 1;
    if (frames < 1 || (uint64_t)frames > SIZE_MAX / 64 / (size_t)bins ||
        frames > (INT64_MAX / 4) / spec->n_fft)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "griffin-lim: frames %lld is out of range", (long long)frames);
    if (cfg->iterations < 0 || cfg->iterations > 100000 || cfg->nnls_iterations < 0 ||
        cfg->nnls_iterations > 10000)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "griffin-lim: iterations %d / nnls_iterations %d out of range",
                        cfg->iterations, cfg->nnls_iterations);
    if (!(cfg->momentum >= 0.0f && cfg->momentum <= 1.0f))
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "griffin-lim: momentum %g is outside [0, 1]", (double)cfg->momentum);
    const size_t count = (size_t)spec->n_mels * (size_t)frames;
    for (size_t i = 0; i < count; i++)
        if (!(log_mel[i] <= MAX_LOG_MEL)) /* also NaN */
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "griffin-lim: log-mel value %g at mel %zu, frame %zu is NaN or above %g",
                            (double)log_mel[i], i / (size_t)frames, i % (size_t)frames,
                            (double)MAX_LOG_MEL);
    return AV_STATUS_OK;
}

static void free_run(gl_run *r)
{
    for (int l = 0; r->lanes && l < r->n_lanes; l++) {
        av__fft_free(&r->lanes[l].fft);
        av__free(r->lanes[l].scratch);
    }
    av__free(r->lanes);
    void *bufs[] = {r->fb, r->fb_lo, r->fb_hi, r->chol, r->covered, r->w, r->mag, r->c,
                    r->prev, r->num, r->xpad, r->x, r->invden};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        av__free(bufs[i]);
}

/* Window support, the folded squared-window sum, the filterbank's rows and Gram factor. */
static av_status prepare(gl_run *r, char *err, size_t err_size)
{
    double *den = av__calloc((size_t)r->n, sizeof(double));
    if (!den)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "griffin-lim: out of memory");
    av__stft_window(r->n_fft, r->spec->win_length, r->w);
    r->w_lo = 0;
    r->w_hi = r->n_fft;
    while (r->w_lo < r->w_hi && r->w[r->w_lo] == 0.0f)
        r->w_lo++;
    while (r->w_hi > r->w_lo && r->w[r->w_hi - 1] == 0.0f)
        r->w_hi--;

    /* invden: the diagonal of A^T A for A = frames o reflect-pad, A^T A being diagonal because
     * each padded position copies exactly one sample. */
    for (int64_t t = 0; t < r->stft_frames; t++)
        for (int j = r->w_lo; j < r->w_hi; j++) {
            int64_t i = t * r->hop + j - r->pad;
            den[i >= 0 && i < r->n ? i : av__reflect_index(i, r->n)] += (double)r->w[j] * r->w[j];
        }
    for (int64_t i = 0; i < r->n; i++)
        r->invden[i] = den[i] > 1e-10 ? (float)(1.0 / den[i]) : 0.0f;
    av__free(den);

    av__mel_filterbank(r->spec, r->fb);
    memset(r->covered, 0, (size_t)r->bins);
    for (int i = 0; i < r->n_mels; i++) {
        const float *row = r->fb + (size_t)i * r->bins;
        int lo = 0, hi = r->bins;
        while (lo < hi && row[lo] == 0.0f)
            lo++;
        while (hi > lo && row[hi - 1] == 0.0f)
            hi--;
        r->fb_lo[i] = lo;
        r->fb_hi[i] = hi;
        for (int k = lo; k < hi; k++)
            r->covered[k] |= row[k] != 0.0f;
    }
    gram_cholesky(r);
    return AV_STATUS_OK;
}

av_status av__griffin_lim(const av__mel_spec *spec, const float *log_mel, int64_t frames,
                          const av__griffin_lim_config *cfg, float *out, char *err, size_t err_size)
{
    av_status st = check_args(spec, log_mel, frames, cfg, out, err, err_size);
    if (st != AV_STATUS_OK)
        return st;
    gl_run r = {.spec = spec, .cfg = cfg, .log_mel = log_mel, .frames = frames, .stride = frames};
    av__threadpool *pool = NULL;
    r.n_fft = spec->n_fft;
    r.bins = spec->n_fft / 2 + 1;
    r.hop = spec->hop_length;
    r.n_mels = spec->n_mels;
    r.pad = av__mel_pad(spec);
    r.n = frames * spec->hop_length;
    r.stft_frames = av__mel_frames(spec, r.n);
    if (r.stft_frames < 1) { /* only when n_fft - hop is odd and frames is 1 */
        st = av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                      "griffin-lim: %lld frames give no complete STFT frame", (long long)frames);
        goto done;
    }
    /* When n_fft - hop is odd (HiFi-GAN style) the signal has one frame fewer than the columns:
     * the last column cannot be represented and is left out. */
    if (r.stft_frames < r.frames)
        r.frames = r.stft_frames;
    r.span = (r.stft_frames - 1) * r.hop + r.n_fft;
    r.chunk = (spec->win_length + r.hop - 1) / r.hop;
    r.chunk = r.chunk < 8 ? 8 : r.chunk;
    r.beta = cfg->momentum / (1.0f + cfg->momentum);

    if (cfg->threads != 1 && (st = av__threadpool_create(cfg->threads, &pool)) != AV_STATUS_OK) {
        st = av__fail(err, err_size, st, "griffin-lim: cannot start %d threads", cfg->threads);
        goto done;
    }
    r.n_lanes = av__threadpool_size(pool);

    const size_t bins = (size_t)r.bins, m = (size_t)r.n_mels;
    r.fb = av__mallocarray(m * bins, sizeof(float));
    r.fb_lo = av__mallocarray(m, sizeof(int));
    r.fb_hi = av__mallocarray(m, sizeof(int));
    r.chol = av__mallocarray(m * m, sizeof(double));
    r.covered = av__malloc(bins);
    r.w = av__mallocarray((size_t)r.n_fft, sizeof(float));
    r.mag = av__mallocarray((size_t)r.frames * bins, sizeof(float));
    r.c = av__mallocarray((size_t)r.stft_frames * 2 * bins, sizeof(float));
    r.prev = av__calloc((size_t)r.frames * 2 * bins, sizeof(float));
    r.num = av__mallocarray((size_t)r.span, sizeof(float));
    r.xpad = av__mallocarray((size_t)r.span, sizeof(float));
    r.x = av__mallocarray((size_t)r.n, sizeof(float));
    r.invden = av__mallocarray((size_t)r.n, sizeof(float));
    r.lanes = av__calloc((size_t)r.n_lanes, sizeof *r.lanes);
    if (!r.fb || !r.fb_lo || !r.fb_hi || !r.chol || !r.covered || !r.w || !r.mag || !r.c ||
        !r.prev || !r.num || !r.xpad || !r.x || !r.invden || !r.lanes) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY,
                      "griffin-lim: out of memory for %lld frames", (long long)frames);
        goto done;
    }
    for (int l = 0; l < r.n_lanes; l++) {
        if ((st = av__fft_init(&r.lanes[l].fft, r.n_fft, err, err_size)) != AV_STATUS_OK)
            goto done;
        r.lanes[l].scratch = av__mallocarray(2 * m + 3 * bins, sizeof(double));
        if (!r.lanes[l].scratch) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "griffin-lim: out of memory");
            goto done;
        }
    }

    if ((st = prepare(&r, err, err_size)) != AV_STATUS_OK)
        goto done;
    av__parallel_for(pool, r.n_lanes, 1, invert_lanes, &r);

    /* initial coefficients: target magnitude, phase from the counter generator */
    for (int64_t t = 0; t < r.stft_frames; t++) {
        float *c = r.c + (size_t)t * 2 * bins;
        for (size_t k = 0; k < bins; k++) {
            if (t >= r.frames) {
                c[2 * k] = c[2 * k + 1] = 0.0f;
                continue;
            }
            double phi = TWO_PI * av__rng_uniform(cfg->seed, (uint64_t)t * bins + k);
            float a = r.mag[(size_t)t * bins + k];
            c[2 * k] = a * (float)cos(phi);
            c[2 * k + 1] = a * (float)sin(phi);
        }
    }
    for (int it = 0; it < cfg->iterations; it++) {
        istft(&r, pool);
        av__parallel_for(pool, r.n_lanes, 1, project_lanes, &r);
    }
    istft(&r, pool);
    memcpy(out, r.x, (size_t)r.n * sizeof(float));
    st = AV_STATUS_OK;
done:
    free_run(&r);
    av__threadpool_free(pool);
    return st;
}
