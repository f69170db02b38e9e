/* YIN (de Cheveigne & Kawahara 2002, steps 1-5): per frame, the first dip of the cumulative
 * mean normalised difference (CMND) below the absolute threshold, walked down to its local
 * minimum, refined by parabolic interpolation of the difference function. No dip below the
 * threshold: the global minimum over the lag range, voiced only if its CMND is <=
 * yin_fallback. */
#include "core/internal.h"
#include "dsp/f0_internal.h"

/* The lag YIN picks in one frame's CMND c[0 .. tau_max + 1]; *below = 1 when it came from the
 * absolute threshold, 0 when it is the global-minimum fallback. */
static int yin_pick(const float *c, int tau_min, int tau_max, float threshold, int *below)
{
    for (int tau = tau_min; tau <= tau_max; tau++) {
        if (c[tau] < threshold) {
            while (tau + 1 <= tau_max && c[tau + 1] < c[tau])
                tau++;
            *below = 1;
            return tau;
        }
    }
    int best = tau_min;
    for (int tau = tau_min + 1; tau <= tau_max; tau++)
        if (c[tau] < c[best])
            best = tau;
    *below = 0;
    return best;
}

av_status av__f0_yin_run(const float *y, const av__f0_geom *g, const av_f0_config *cfg,
                         av_f0_frame *frames, char *err, size_t err_size)
{
    av__f0_frames *fr = av__f0_frames_create(g);
    if (!fr)
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "f0: out of memory (yin)");
    for (int64_t t = 0; t < g->n_frames; t++) {
        const float *d = NULL;
        const float *c = av__f0_frames_cmnd(fr, y, t, &d);
        int below = 0;
        int tau = yin_pick(c, g->tau_min, g->tau_max, cfg->threshold, &below);
        av_f0_frame *f = &frames[t];
        f->time = (double)av__f0_frame_centre(g, t) / g->rate;
        float v = c[tau];
        f->voiced = (below || v <= cfg->yin_fallback) && v < 1.0f;
        f->confidence = v >= 1.0f ? 0.0f : v <= 0.0f ? 1.0f : 1.0f - v;
        /* a flat CMND (silence, or no periodicity at all) gives no pitch estimate */
        f->f0 = v >= 1.0f ? 0.0f : (float)(g->rate / av__f0_parabolic(d, tau));
    }
    av__f0_frames_free(fr);
    return AV_STATUS_OK;
}
