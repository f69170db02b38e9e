/* pYIN-style tracking (after Mauch & Dixon, "pYIN: a fundamental frequency estimator using
 * probabilistic threshold distributions", ICASSP 2014), in two passes:
 *
 * 1. Candidates. Instead of one threshold, the threshold s is drawn from Beta(2, b) with mean
 *    cfg->threshold. For each s, YIN's rule picks the first dip of the CMND below s; so a dip
 *    at lag tau with CMND v gets the prior mass of the thresholds for which it is the first dip
 *    below: I(min(1, m)) - I(v), where m is the smallest CMND of the dips before it and I the
 *    Beta CDF. (pYIN sums this over 100 discrete thresholds; this is its limit.) Thresholds
 *    below every dip take the global minimum with weight 0.01 (pYIN's p_a). The masses sum to
 *    the frame's voiced probability P_v <= 1.
 * 2. HMM + Viterbi over the whole signal. States: K pitch bins of 20 cents from f0_min, each in
 *    a voiced and an unvoiced copy (the unvoiced copy remembers the pitch across a gap).
 *    Observation: voiced bin k -> 0.5 * (mass of the candidates in bin k), unvoiced bin k ->
 *    (1 - 0.5 P_v) / K (0.5 = pYIN's trust in YIN). Transition: voiced <-> unvoiced with
 *    probability 0.01; pitch from bin i to j with (1 - e) tri(|i - j|) + e / K, where tri is a
 *    triangle of half-width H bins (H = 35.92 octaves/s, librosa's maximum rate, times the hop)
 *    and e = 0.001 allows leaps wider than the triangle (octave jumps) at a fixed cost.
 *    The decoded state gives the voicing; the pitch is the refined frequency of the most
 *    probable candidate within one bin of the decoded bin, else the bin's centre. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/internal.h"
#include "dsp/f0_internal.h"

enum {
    PYIN_BINS_PER_OCTAVE = 60, /* 20 cents */
    PYIN_MAX_CAND = 8,         /* candidates kept per frame (the most probable) */
    PYIN_MAX_DIPS = 32         /* dips considered per frame */
};
static const double pyin_no_dip_weight = 0.01; /* pYIN's p_a */
static const double pyin_trust = 0.5;          /* pYIN's yinTrust */
static const double pyin_switch_prob = 0.01;   /* voiced <-> unvoiced per frame */
static const double pyin_jump_prob = 0.001;    /* leap beyond the triangle per frame */
static const double pyin_max_rate = 35.92;     /* octaves per second inside the triangle */
static const float pyin_log_floor = -200.0f;   /* log of "no candidate in this bin" */

/* Beta(2, b) CDF: I_x(2, b) = 1 - (1 - x)^b (1 + b x), x clamped to [0, 1]. */
static double beta2_cdf(double x, double b)
{
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    return 1.0 - pow(1.0 - x, b) * (1.0 + b * x);
}

typedef struct pyin_cand {
    float freq;  /* Hz, refined */
    float prob;
    int bin;
} pyin_cand;

typedef struct pyin_obs {
    pyin_cand *cand;      /* [n_frames * PYIN_MAX_CAND] */
    unsigned char *count; /* [n_frames] */
    float *voiced_prob;   /* [n_frames] P_v */
} pyin_obs;

typedef struct pyin_ctx {
    const av__f0_geom *g;
    const av_f0_config *cfg;
    int k;               /* pitch bins */
    double beta_b;
} pyin_ctx;

static int freq_to_bin(const pyin_ctx *p, double f)
{
    double b = PYIN_BINS_PER_OCTAVE * log2(f / p->cfg->f0_min);
    long r = lround(b);
    return r < 0 ? 0 : r >= p->k ? p->k - 1 : (int)r;
}

static void add_dip(pyin_cand *dips, int *n, double freq, double prob)
{
    if (*n < PYIN_MAX_DIPS) {
        dips[*n].freq = (float)freq;
        dips[*n].prob = (float)prob;
        (*n)++;
        return;
    }
    int low = 0;
    for (int i = 1; i < *n; i++)
        if (dips[i].prob < dips[low].prob)
            low = i;
    if (prob > dips[low].prob) {
        dips[low].freq = (float)freq;
        dips[low].prob = (float)prob;
    }
}

/* Candidates of one frame from its CMND; returns P_v. */
static float frame_candidates(const pyin_ctx *p, const float *c, const float *d, pyin_cand *out,
                              int *n_out)
{
    const av__f0_geom *g = p->g;
    const double f_lo = p->cfg->f0_min, f_hi = p->cfg->f0_max;
    pyin_cand dips[PYIN_MAX_DIPS];
    int n = 0;
    double run_min = 1.0, total = 0.0;
    int gmin = g->tau_min;
    for (int tau = g->tau_min; tau <= g->tau_max; tau++) {
        if (c[tau] < c[gmin])
            gmin = tau;
        if (c[tau] < c[tau - 1] && c[tau] <= c[tau + 1] && c[tau] < run_min) {
            double mass = beta2_cdf(run_min, p->beta_b) - beta2_cdf(c[tau], p->beta_b);
            run_min = c[tau];
            if (mass <= 0.0)
                continue;
            double f = g->rate / av__f0_parabolic(d, tau);
            add_dip(dips, &n, f < f_lo ? f_lo : f > f_hi ? f_hi : f, mass);
            total += mass;
        }
    }
    if (c[gmin] < 1.0f) {
        /* thresholds below every dip: the global minimum, down-weighted */
        double mass = pyin_no_dip_weight * beta2_cdf(c[gmin], p->beta_b);
        if (mass > 0.0) {
            double f = g->rate / av__f0_parabolic(d, gmin);
            add_dip(dips, &n, f < f_lo ? f_lo : f > f_hi ? f_hi : f, mass);
            total += mass;
        }
    }
    /* most probable first; merge dips that fall into one bin (the first one's frequency) */
    for (int i = 1; i < n; i++) {
        pyin_cand x = dips[i];
        int j = i;
        for (; j > 0 && dips[j - 1].prob < x.prob; j--)
            dips[j] = dips[j - 1];
        dips[j] = x;
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        int bin = freq_to_bin(p, dips[i].freq), j = 0;
        while (j < m && out[j].bin != bin)
            j++;
        if (j < m) {
            out[j].prob += dips[i].prob;
        } else if (m < PYIN_MAX_CAND) {
            out[m] = dips[i];
            out[m].bin = bin;
            m++;
        }
    }
    *n_out = m;
    return total > 1.0 ? 1.0f : (float)total;
}

/* Viterbi over 2K states (voiced bins 0..K-1, unvoiced bins K..2K-1); writes the decoded state
 * of every frame into path[]. */
static av_status viterbi(const pyin_ctx *p, const pyin_obs *obs, int64_t n_frames,
                         uint16_t *path)
{
    const int k = p->k;
    int h = (int)lround(pyin_max_rate * PYIN_BINS_PER_OCTAVE * p->cfg->hop_seconds);
    if (h < 1)
        h = 1;
    if (h > k - 1)
        h = k - 1 > 1 ? k - 1 : 1;
    av_status st = AV_STATUS_OK;
    float *log_tri = av__mallocarray((size_t)h + 1, sizeof *log_tri);
    float *delta = av__mallocarray(2 * (size_t)k, sizeof *delta);
    float *next = av__mallocarray(2 * (size_t)k, sizeof *next);
    float *m = av__mallocarray(2 * (size_t)k, sizeof *m);
    int *arg = av__mallocarray(2 * (size_t)k, sizeof *arg);
    float *ob = av__mallocarray(2 * (size_t)k, sizeof *ob);
    uint16_t *back = av__mallocarray((size_t)n_frames * 2 * (size_t)k, sizeof *back);
    if (!log_tri || !delta || !next || !m || !arg || !ob || !back) {
        st = AV_STATUS_OUT_OF_MEMORY;
        goto done;
    }
    const double z = (double)(h + 1) * (h + 1);
    for (int d = 0; d <= h; d++)
        log_tri[d] = (float)log((1.0 - pyin_jump_prob) * (h + 1 - d) / z + pyin_jump_prob / k);
    const float log_jump = (float)log(pyin_jump_prob / k);
    const float log_stay = (float)log(1.0 - pyin_switch_prob);
    const float log_switch = (float)log(pyin_switch_prob);

    for (int64_t t = 0; t < n_frames; t++) {
        /* observation log-probabilities of frame t */
        float unv = (float)log((1.0 - pyin_trust * obs->voiced_prob[t]) / k);
        for (int i = 0; i < k; i++) {
            ob[i] = pyin_log_floor;
            ob[k + i] = unv;
        }
        const pyin_cand *cd = obs->cand + t * PYIN_MAX_CAND;
        for (int i = 0; i < obs->count[t]; i++)
            if (cd[i].prob > 0.0f)
                ob[cd[i].bin] = (float)log(pyin_trust * cd[i].prob);
        if (t == 0) {
            memcpy(delta, ob, 2 * (size_t)k * sizeof *delta);
            continue;
        }
        /* best predecessor within each voicing copy: the triangle band, or a leap */
        for (int v = 0; v < 2; v++) {
            const float *dv = delta + v * k;
            int gi = 0;
            for (int i = 1; i < k; i++)
                if (dv[i] > dv[gi])
                    gi = i;
            for (int j = 0; j < k; j++) {
                float best = dv[gi] + log_jump;
                int from = gi;
                int lo = j - h < 0 ? 0 : j - h, hi = j + h > k - 1 ? k - 1 : j + h;
                for (int i = lo; i <= hi; i++) {
                    float val = dv[i] + log_tri[i > j ? i - j : j - i];
                    if (val > best) {
                        best = val;
                        from = i;
                    }
                }
                m[v * k + j] = best;
                arg[v * k + j] = v * k + from;
            }
        }
        uint16_t *bt = back + t * 2 * k;
        float top = -INFINITY;
        for (int v = 0; v < 2; v++)
            for (int j = 0; j < k; j++) {
                int s = v * k + j, o = (1 - v) * k + j;
                float stay = m[s] + log_stay, sw = m[o] + log_switch;
                float val = stay >= sw ? stay : sw;
                bt[s] = (uint16_t)(stay >= sw ? arg[s] : arg[o]);
                next[s] = val + ob[s];
                if (next[s] > top)
                    top = next[s];
            }
        /* keep the scores near 0 so float keeps its resolution over long signals */
        for (int s = 0; s < 2 * k; s++)
            delta[s] = next[s] - top;
    }
    int s = 0;
    for (int i = 1; i < 2 * k; i++)
        if (delta[i] > delta[s])
            s = i;
    for (int64_t t = n_frames - 1; t >= 0; t--) {
        path[t] = (uint16_t)s;
        if (t > 0)
            s = back[t * 2 * k + s];
    }
done:
    av__free(log_tri);
    av__free(delta);
    av__free(next);
    av__free(m);
    av__free(arg);
    av__free(ob);
    av__free(back);
    return st;
}

av_status av__f0_pyin_run(const float *y, const av__f0_geom *g, const av_f0_config *cfg,
                          av_f0_frame *frames, char *err, size_t err_size)
{
    pyin_ctx p;
    p.g = g;
    p.cfg = cfg;
    p.k = (int)floor(PYIN_BINS_PER_OCTAVE * log2((double)cfg->f0_max / cfg->f0_min)) + 1;
    p.beta_b = 2.0 / cfg->threshold - 2.0;
    const int64_t nf = g->n_frames;

    av_status st = AV_STATUS_OK;
    pyin_obs obs = {0};
    uint16_t *path = NULL;
    av__f0_frames *fr = av__f0_frames_create(g);
    obs.cand = av__mallocarray((size_t)nf * PYIN_MAX_CAND, sizeof *obs.cand);
    obs.count = av__calloc((size_t)nf, sizeof *obs.count);
    obs.voiced_prob = av__mallocarray((size_t)nf, sizeof *obs.voiced_prob);
    path = av__mallocarray((size_t)nf, sizeof *path);
    if (!fr || !obs.cand || !obs.count || !obs.voiced_prob || !path) {
        st = AV_STATUS_OUT_OF_MEMORY;
        goto done;
    }
    for (int64_t t = 0; t < nf; t++) {
        const float *d = NULL;
        const float *c = av__f0_frames_cmnd(fr, y, t, &d);
        int n = 0;
        obs.voiced_prob[t] = frame_candidates(&p, c, d, obs.cand + t * PYIN_MAX_CAND, &n);
        obs.count[t] = (unsigned char)n;
    }
    st = viterbi(&p, &obs, nf, path);
    if (st != AV_STATUS_OK)
        goto done;
    for (int64_t t = 0; t < nf; t++) {
        int bin = path[t] % p.k;
        const pyin_cand *cd = obs.cand + t * PYIN_MAX_CAND;
        int best = -1;
        for (int i = 0; i < obs.count[t]; i++) /* most probable first */
            if (cd[i].bin >= bin - 1 && cd[i].bin <= bin + 1) {
                best = i;
                break;
            }
        av_f0_frame *f = &frames[t];
        f->time = (double)av__f0_frame_centre(g, t) / g->rate;
        f->voiced = path[t] < p.k;
        f->confidence = obs.voiced_prob[t];
        f->f0 = best >= 0 ? cd[best].freq
                          : (float)(cfg->f0_min * pow(2.0, (double)bin / PYIN_BINS_PER_OCTAVE));
    }
done:
    if (st == AV_STATUS_OUT_OF_MEMORY)
        av__fail(err, err_size, st, "f0: out of memory (pyin, %lld frames)", (long long)nf);
    av__f0_frames_free(fr);
    av__free(obs.cand);
    av__free(obs.count);
    av__free(obs.voiced_prob);
    av__free(path);
    return st;
}
