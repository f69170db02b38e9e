/* autovoice: F0 (pitch) tracking for singing.
 *
 * Two trackers over the same front end (docs/F0.md has the method, the parameters and measured
 * accuracy):
 *   AV_F0_METHOD_YIN   YIN (de Cheveigne & Kawahara 2002): one absolute threshold per frame.
 *                      Fast, no look-ahead, more octave and voicing errors.
 *   AV_F0_METHOD_PYIN  pYIN-style (Mauch & Dixon 2014): a beta prior over thresholds turns each
 *                      frame into F0 candidates with probabilities; an HMM over 20-cent pitch bins
 *                      with voiced and unvoiced states, decoded by Viterbi over the whole signal,
 *                      picks the voicing and the pitch path. The default.
 * Both then apply the original system's post-filters (optional, see av_f0_config.post_filter).
 *
 * Frames: frame t is centred on sample round(t * hop_seconds * rate') of the analysed signal,
 * where rate' = sample_rate / D is the analysis rate (D: the largest integer that keeps rate' at
 * or above max(16 kHz, 8 f0_max); 1 at 8-31.9 kHz with the default range; docs/F0.md). Frames
 * exist for every centre inside the input, so
 * n_frames = floor((n - 1) / (hop_seconds * sample_rate)) + 1, and each analyses about two
 * periods of f0_min around its centre; samples outside the input count as zero. */
#ifndef AUTOVOICE_F0_H
#define AUTOVOICE_F0_H

#include <stdint.h>

#include "autovoice/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum av_f0_method {
    AV_F0_METHOD_YIN = 0,
    AV_F0_METHOD_PYIN = 1
} av_f0_method;

typedef struct av_f0_config {
    av_f0_method method;   /* default AV_F0_METHOD_PYIN */
    float f0_min;          /* lowest F0 searched, Hz; default 80; 20 <= f0_min < f0_max */
    float f0_max;          /* highest F0 searched, Hz; default 1000; f0_max <= sample_rate / 4 */
    double hop_seconds;    /* frame step, s; default 0.010; at least one sample, at most 1 s */
    float threshold;       /* YIN: absolute threshold on the cumulative mean normalised
                              difference (default 0.1). pYIN: the mean of the beta prior over
                              thresholds, Beta(2, 2/threshold - 2) (default 0.1 -> Beta(2, 18)).
                              In (0, 0.5]. */
    float yin_fallback;    /* YIN only: when no dip falls below `threshold`, the global minimum
                              of the normalised difference is taken, and the frame is voiced
                              only if that minimum is <= yin_fallback (default 0.35); in
                              [threshold, 1]. */
    int post_filter;       /* 1 (default): median filter of width 3 over voicing and confidence,
                              then a mean filter of width 3 over the F0 of voiced frames (exact
                              rule in docs/F0.md). 0: the tracker's raw output. */
} av_f0_config;

/* The defaults above. */
av_f0_config av_f0_config_default(void);

/* One analysis frame. */
typedef struct av_f0_frame {
    double time;        /* s, the frame's centre (within half an analysis sample of
                           t * hop_seconds) */
    float f0;           /* Hz; 0 when unvoiced, else within [f0_min, f0_max] */
    int voiced;         /* 1 voiced, 0 unvoiced */
    float confidence;   /* [0, 1]: YIN: 1 - (the normalised difference at the chosen lag);
                           pYIN: the frame's voiced probability (the prior mass of thresholds
                           that find a dip). Higher = more periodic. */
} av_f0_frame;

/* Tracks the F0 of `n` mono samples at `sample_rate` Hz (in [8000, 192000]) with `cfg` (NULL =
 * av_f0_config_default()). On success *frames receives a new array of *n_frames frames (free it
 * with av_f0_free). On error *frames = NULL, *n_frames = 0, and `err` (err_size bytes, may be
 * NULL) receives one line naming the problem: AV_STATUS_INVALID_ARGUMENT for a NULL pointer,
 * a non-finite sample, a rate or configuration value out of range, or fewer samples than one
 * analysis frame (2 periods of f0_min); AV_STATUS_OUT_OF_MEMORY.
 * Memory: a few bytes per input sample plus, for pYIN, 2 bytes per pitch state and frame
 * (about 0.9 KB per frame for 80-1000 Hz). Thread-safe; deterministic. */
av_status av_f0_track(const float *samples, int64_t n, int sample_rate, const av_f0_config *cfg,
                      av_f0_frame **frames, int64_t *n_frames, char *err, size_t err_size);

/* Frees an array from av_f0_track. NULL is fine. */
void av_f0_free(av_f0_frame *frames);

/* "yin", "pyin"; NULL for an unknown value. */
const char *av_f0_method_name(av_f0_method method);

#ifdef __cplusplus
}
#endif

#endif /* AUTOVOICE_F0_H */
