/* Internals of the F0 trackers (src/dsp/f0_*.c): the shared front end (decimation, framing,
 * difference function) and the two per-method passes. Not installed. */
#ifndef AV_DSP_F0_INTERNAL_H
#define AV_DSP_F0_INTERNAL_H

#include <stdint.h>

#include "autovoice/f0.h"

/* Where the frames lie in the analysed (decimated) signal. All lags in analysis samples. */
typedef struct av__f0_geom {
    int decim;          /* decimation factor D >= 1 */
    double rate;        /* analysis rate = sample_rate / D, Hz */
    int tau_min;        /* smallest lag searched: floor(rate / f0_max), >= 2 */
    int tau_max;        /* largest lag searched: ceil(rate / f0_min) */
    int window;         /* integration window W of the difference function = tau_max */
    int frame_len;      /* samples one frame reads: W + tau_max + 1 (about 2 periods of f0_min) */
    double hop;         /* frame step in analysis samples (fractional) */
    int64_t n;          /* analysed samples */
    int64_t n_frames;
} av__f0_geom;

/* Fills `g` for the given input; returns AV_STATUS_INVALID_ARGUMENT (with the message in err)
 * when the input is shorter than one frame. The config must already be validated. */
av_status av__f0_geom_init(av__f0_geom *g, int64_t n, int sample_rate, const av_f0_config *cfg,
                           char *err, size_t err_size);

/* Decimates x[0..n) by g->decim into y[0..g->n), scaled by `gain`: windowed-sinc low-pass
 * (Blackman, cut-off 0.45 of the output rate, 24 output samples long), zero outside the input.
 * D = 1 only scales. */
void av__f0_decimate(const float *x, int64_t n, const av__f0_geom *g, float gain, float *y);

/* Centre of frame t in analysis samples. */
int64_t av__f0_frame_centre(const av__f0_geom *g, int64_t t);

/* Difference function with the integration window centred on the frame for every lag:
 *   d(tau) = sum_{j<w} (f[o + j] - f[o + j + tau])^2,  o = floor(len/2) - floor((w + tau)/2),
 * for tau = 0..tau_top, reading f[0 .. len), len = w + tau_top. Centring each lag's window
 * (classic YIN integrates over the first w samples whatever the lag) keeps what a lag sees
 * centred on the frame's time, so short periods are not analysed up to w/2 samples early.
 * The direct O(w * tau_top) loop: measured faster than an FFT cross-correlation at the sizes
 * the decimated analysis rate gives (docs/F0.md), and the centred form has no FFT shortcut. */
void av__f0_diff(const float *f, int w, int tau_top, float *d);

/* Cumulative mean normalised difference: c[0] = 1, c[tau] = d(tau) tau / sum_{j=1..tau} d(j),
 * and 1 where that sum is 0 (silence). */
void av__f0_cmnd(const float *d, int tau_top, float *c);

/* Lag of the vertex of the parabola through v[tau-1], v[tau], v[tau+1]; within tau +- 1. The
 * trackers refine on d (YIN's step 5), which measured 2-10x closer than refining on the CMND
 * for periods of 8-20 samples. */
double av__f0_parabolic(const float *v, int tau);

/* Per-frame difference-function engine: frames in, CMND out. One per call, single-threaded. */
typedef struct av__f0_frames av__f0_frames;
av__f0_frames *av__f0_frames_create(const av__f0_geom *g);
void av__f0_frames_free(av__f0_frames *fr);
/* The CMND of frame t of the analysed signal y: c[0 .. tau_max + 1]; *d (if d is not NULL)
 * receives the difference function over the same lags. Both are owned by `fr` and valid until
 * the next call. */
const float *av__f0_frames_cmnd(av__f0_frames *fr, const float *y, int64_t t, const float **d);

/* The per-method passes. Both fill frames[0..g->n_frames) with time, a pitch estimate in f0
 * (Hz; set even for unvoiced frames where the method has one, 0 where it has none), voiced and
 * confidence. */
av_status av__f0_yin_run(const float *y, const av__f0_geom *g, const av_f0_config *cfg,
                         av_f0_frame *frames, char *err, size_t err_size);
av_status av__f0_pyin_run(const float *y, const av__f0_geom *g, const av_f0_config *cfg,
                          av_f0_frame *frames, char *err, size_t err_size);

/* The original system's post-filters, in place over frames[0..n) (docs/F0.md):
 *   1. confidence <- median of 3 (confidence[t-1], confidence[t], confidence[t+1]);
 *   2. voiced <- median of 3 (majority) of the voiced flags; a frame without a pitch estimate
 *      (f0 == 0) stays unvoiced;
 *   3. f0 of each voiced frame <- mean, in Hz, of the pre-filter f0 of the voiced frames among
 *      t-1, t, t+1 whose f0 is within 100 cents of frame t's (so a leap is not smeared).
 * In 1-2 the first/last frame stands in for its missing neighbour; in 3 a missing neighbour is
 * left out of the mean. Unvoiced f0 is left as is (av_f0_track zeroes it). */
void av__f0_post_filter(av_f0_frame *frames, int64_t n);

#endif /* AV_DSP_F0_INTERNAL_H */
