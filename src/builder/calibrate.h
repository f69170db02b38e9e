/* INT8 activation calibration for the engine builder: per-tensor collectors (entropy as
 * TensorRT's EntropyCalibration2, minmax, percentile) and the calibration cache in TensorRT's
 * text format. Internal to the builder; docs/BUILDER.md describes the algorithm for users.
 *
 * Scales are symmetric and per tensor: a tensor x is quantised as round(x / scale) clipped to
 * [-127, 127] (the builder's business), with scale = threshold / 127 and threshold the |x| the
 * method chose.
 *
 * Threading: a collector is used by one thread at a time; distinct collectors are independent.
 * The cache functions are reentrant. */
#ifndef AV_BUILDER_CALIBRATE_H
#define AV_BUILDER_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/common.h"

/* The histogram behind the entropy method: AV__CALIB_BINS bins of |x| over [0, max|x|];
 * candidate thresholds keep i = AV__CALIB_START_BIN .. nbins bins; the candidate distribution
 * has AV__CALIB_LEVELS levels (int8 is symmetric, so 128 magnitudes + the sign bit). */
#define AV__CALIB_BINS 2048
#define AV__CALIB_LEVELS 128
#define AV__CALIB_START_BIN 128

/* The percentile method's default, in percent. */
#define AV__CALIB_DEFAULT_PERCENTILE 99.99

typedef enum av__calib_method {
    AV__CALIB_METHOD_ENTROPY = 0,    /* KL search over the |x| histogram (TRT EntropyCalibration2) */
    AV__CALIB_METHOD_MINMAX = 1,     /* threshold = max|x| */
    AV__CALIB_METHOD_PERCENTILE = 2  /* threshold = the p-th percentile of |x|, exact */
} av__calib_method;

/* "entropy", "minmax", "percentile" (the names of the build config and the CLI), or NULL. */
const char *av__calib_method_name(av__calib_method method);
/* The method called `name` (one of the three above); -1 when there is none. */
int av__calib_method_from_name(const char *name);

typedef struct av__calib_options {
    av__calib_method method;
    double percentile; /* PERCENTILE only: in (0, 100]; default AV__CALIB_DEFAULT_PERCENTILE */
} av__calib_options;

/* method ENTROPY, percentile AV__CALIB_DEFAULT_PERCENTILE. */
av__calib_options av__calib_options_default(void);

/* ---- collectors ---------------------------------------------------------------------------------
 *
 * Two passes over the same calibration batches, in the same order or not (TensorRT's scheme:
 * the range of the histogram comes from a first pass over all the data, so no later batch can
 * fall outside it and nothing is ever re-binned):
 *
 *   pass 1: av__calib_collector_observe_range(c, batch) for every batch -> count and max|x|;
 *   pass 2: av__calib_collector_observe_histogram(c, batch) for every batch again -> the
 *           2048-bin histogram of |x| over [0, max|x|] and, for PERCENTILE, the exact tail of
 *           the largest values (the rank it needs is known once pass 1 has the count);
 *   av__calib_collector_finish(c, &result).
 *
 * MINMAX needs pass 1 only (av__calib_collector_passes() says 1); a pass 2 is allowed (it
 * fills the histogram) and does not change the result. Pass 2 must see exactly the values of pass 1: a value above pass 1's max|x|,
 * or more values than pass 1 counted, is refused at once; fewer is refused by finish.
 *
 * Non-finite values (NaN, +-Inf) are errors, not skipped: an activation that overflows during
 * calibration means the model or the data is broken, and a scale computed around it would be
 * wrong silently. A refused batch leaves the collector as it was (every batch is checked before
 * any of it is counted). n = 0 is a valid empty batch (x may then be NULL). */
typedef struct av__calib_collector av__calib_collector;

typedef struct av__calib_result {
    float threshold;   /* chosen |x| bound (> 0); see the fallback below */
    float scale;       /* threshold / 127.0f, computed in float (the value a cache stores) */
    float max_abs;     /* max|x| seen in pass 1 */
    uint64_t count;    /* values seen in pass 1 */
    int bin;           /* ENTROPY: the chosen i (bins kept), else -1 */
    double divergence; /* ENTROPY: KL(P||Q) at that i, else 0 */
    int fallback;      /* 1 when the method's threshold was 0 (see finish) */
} av__calib_result;

/* A collector for the activation tensor `name` (copied; used in messages). *out is NULL on
 * failure. Errors: INVALID_ARGUMENT (NULL, unknown method, percentile outside (0, 100]),
 * OUT_OF_MEMORY. */
av_status av__calib_collector_create(const char *name, const av__calib_options *options,
                                     av__calib_collector **out, char *err, size_t err_size);
void av__calib_collector_free(av__calib_collector *c);

/* Forget every observation (back to the state after create). */
void av__calib_collector_reset(av__calib_collector *c);

/* 1 for MINMAX, 2 for ENTROPY and PERCENTILE. */
int av__calib_collector_passes(const av__calib_collector *c);

/* Pass 1: n float32 values of the tensor (any layout, any batch split). Refused once pass 2 has
 * started. Errors: INVALID_ARGUMENT (non-finite value: message names the tensor, the index in
 * this batch and the value; pass order). */
av_status av__calib_collector_observe_range(av__calib_collector *c, const float *x, size_t n,
                                            char *err, size_t err_size);

/* Pass 2, see above. Bin of a value: b = floor(|x| * 2048 / max) evaluated in double
 * ((double)|x| * 2048.0 / (double)max), clamped to 2047, so bin b holds [b, b+1) * max/2048 and
 * the last bin also holds max itself. With max = 0 every value is in bin 0. Errors:
 * INVALID_ARGUMENT (non-finite value, |x| > max of pass 1, more values than pass 1 counted, no
 * pass 1 yet), OUT_OF_MEMORY (the percentile tail, allocated on the first call). */
av_status av__calib_collector_observe_histogram(av__calib_collector *c, const float *x, size_t n,
                                                char *err, size_t err_size);

/* The scale. Does not change the collector (it may be called again, or after more batches).
 *
 *   MINMAX:     threshold = max|x|.
 *   ENTROPY:    i = av__calib_entropy_search(histogram), threshold = min((i + 0.5) * max / 2048,
 *               max) in double, then rounded to float. The cap only acts for i = 2048 (nothing
 *               clipped): a threshold half a bin above every observed value would waste range.
 *   PERCENTILE: nearest rank: the k-th smallest |x| with k = ceil(p / 100 * count), where the
 *               product is taken with a relative tolerance of 1e-12 so that 99.99 % of 10000
 *               values is rank 9999, not 10000; exact (no histogram approximation): pass 2
 *               keeps the count - k + 1 largest |x| in a heap (4 bytes each: 0.01 % of the
 *               values at 99.99, half of them at 50).
 *
 * Fallback: a threshold of 0 (an all-zero tensor; or a percentile that lands on zeros) would make
 * scale 0 and x / scale a division by zero. The threshold then becomes max|x| if that is > 0,
 * else 1.0 (any scale represents an all-zero tensor exactly), and result.fallback is set.
 *
 * Errors: INVALID_ARGUMENT (no values at all; pass 2 missing or incomplete for a two-pass
 * method: the message gives both counts). */
av_status av__calib_collector_finish(const av__calib_collector *c, av__calib_result *out,
                                     char *err, size_t err_size);

/* The pass-2 histogram (AV__CALIB_BINS counts) and max|x| of pass 1; NULL before pass 2. Owned
 * by the collector, valid until the next observe/reset/free. For tests and reports. */
const uint64_t *av__calib_collector_histogram(const av__calib_collector *c, float *max_abs);

/* ---- the entropy search ---------------------------------------------------------------------
 *
 * The exact variant (GTC 2017 pseudocode of EntropyCalibration2, no smoothing): for a candidate
 * i in [AV__CALIB_START_BIN, nbins]:
 *
 *   P[j] = hist[j] for j < i, plus sum(hist[i..nbins)) added to P[i-1] (the clipped outliers);
 *   Q: bin j < i belongs to level floor(j * 128 / i) (integer arithmetic; levels get floor(i/128)
 *      or ceil(i/128) consecutive bins); a level's mass is the sum of hist[j] over its bins (the
 *      outliers are NOT in it), spread evenly over those of its bins with hist[j] > 0; bins with
 *      hist[j] = 0 stay 0;
 *   P and Q are each divided by their own sum; KL(P||Q) = sum over P[j] > 0 of
 *      P[j] * ln(P[j] / Q[j]) in double; terms with P[j] = 0 contribute 0.
 *
 * Zero handling, pinned: there is no epsilon smoothing (unlike ncnn/MXNet). Q[j] = 0 with
 * P[j] > 0 happens only for j = i-1 when hist[i-1] = 0 but outliers exist, or when all of
 * hist[0..i) is 0; the divergence is then +INFINITY and that candidate cannot win (scipy's
 * entropy() gives the same, which is what NVIDIA's pytorch-quantization relies on). i = nbins
 * clips nothing and always has a finite divergence, so a search always finds a candidate.
 * The winner is the smallest i of minimal divergence (first argmin, strict <). No bins[0]
 * adjustment (pytorch-quantization copies bins[1] into bins[0]; the GTC description does not). */

/* KL(P||Q) of candidate i as above; +INFINITY as described; NAN when the arguments are invalid
 * (hist NULL, i < 1 or i > nbins, nbins < AV__CALIB_LEVELS). */
double av__calib_entropy_divergence(const uint64_t *hist, size_t nbins, size_t i);

/* The winning i over [AV__CALIB_START_BIN, nbins] and its divergence. Errors: INVALID_ARGUMENT
 * (hist NULL, nbins < AV__CALIB_START_BIN, an all-zero histogram). */
av_status av__calib_entropy_search(const uint64_t *hist, size_t nbins, size_t *best_i,
                                   double *best_divergence, char *err, size_t err_size);

/* ---- calibration cache ------------------------------------------------------------------------
 *
 * TensorRT's text format, byte for byte:
 *
 *   TRT-<version>-<algorithm>\n           algorithm: EntropyCalibration2 | MinMaxCalibration |
 *                                                    LegacyCalibration (our percentile)
 *   <tensor name>: <8 hex digits>\n       per tensor, in the order given to the writer
 *
 * The hex digits are the IEEE-754 binary32 bits of the scale as one 32-bit number, most
 * significant digit first (lower case when written, either case read): 1/127 -> 3c010204.
 * PERCENTILE is written as LegacyCalibration: TensorRT's legacy calibrator is its quantile
 * (percentile) calibrator, so a TensorRT reader accepts the cache, but the percentile itself is
 * not recorded there (it is in the fingerprint the builder computes).
 *
 * Model fingerprint: TensorRT's format has no comment or metadata line. TensorRT's parser is
 * closed source, so whether it tolerates a line outside `name: 8 hex digits` is unknown; ONNX
 * Runtime's reader (tensorrt_execution_provider_utils.h, ReadDynamicRange) splits every line at
 * its first ':' and strtoul()s the rest, so a free-form line would become a junk entry. The
 * fingerprint therefore rides in one extra entry of the normal grammar, the first after the
 * header:
 *
 *   __autovoice_fingerprint_<16 hex digits>: 3f800000
 *
 * i.e. a "tensor" whose name carries the 64-bit fingerprint and whose scale is 1.0 (a finite,
 * harmless value). Trade-off: foreign readers see one scale for a tensor that does not exist
 * (ONNX Runtime stores it in its name->range map and never looks it up; TensorRT is expected to
 * ignore a name its network lacks, but that is unverified). Names starting with __autovoice_ are
 * reserved: the writer refuses such tensor names. Our reader requires the entry when the caller
 * expects a fingerprint and refuses a cache with another one.
 *
 * Reader grammar, pinned: lines end with "\n" (a "\r" before it is dropped); the last line may
 * lack it; no empty lines (other than the file ending in "\n"), no comments. The name is
 * everything before the LAST ": " of the line (TensorRT names contain spaces and colons, e.g.
 * "(Unnamed Layer* 4) [Fully Connected]_output"), must be non-empty and is not trimmed; the
 * value is exactly 8 hex digits. Scales must be finite and > 0. Version: 1 to 9 decimal
 * digits. Files over 64 MiB are refused. */

typedef uint64_t av__calib_fingerprint;

/* FNV-1a 64 over n bytes, continuing from h (start with AV__CALIB_FINGERPRINT_INIT). Not
 * cryptographic: it detects a cache made for another model or other settings, not an attack. */
#define AV__CALIB_FINGERPRINT_INIT 0xcbf29ce484222325ull
av__calib_fingerprint av__calib_fingerprint_update(av__calib_fingerprint h, const void *data,
                                                   size_t n);

/* The TensorRT version the builder writes into headers (8.6.1 -> "8601"); informational. */
#define AV__CALIB_CACHE_TRT_VERSION 8601

/* Writes `path` through `path`.tmp + fsync + rename, so a reader never sees half a cache and a
 * failed write leaves any previous file untouched. names[k] / scales[k] for k < n; fingerprint
 * may be NULL (then no fingerprint line: a plain TensorRT cache). Errors: INVALID_ARGUMENT (a
 * name empty, with '\n', '\r' or the reserved prefix, or duplicated; a scale not finite or <= 0;
 * version negative; method unknown), IO, OUT_OF_MEMORY. */
av_status av__calib_cache_write(const char *path, int version, av__calib_method method,
                                const char *const *names, const float *scales, size_t n,
                                const av__calib_fingerprint *fingerprint, char *err,
                                size_t err_size);

/* What av__calib_cache_read found besides the scales. */
typedef struct av__calib_cache_info {
    int version;                       /* the <version> of the header */
    av__calib_method method;           /* from the header's algorithm */
    int has_fingerprint;
    av__calib_fingerprint fingerprint; /* valid when has_fingerprint */
} av__calib_cache_info;

/* Reads `path` for the model whose calibrated tensors are names[0..n): scales[k] gets the scale
 * of names[k]. The cache's tensor set must equal the model's: a missing tensor, a tensor the
 * model does not have, or a duplicate is refused. With expected_fingerprint non-NULL the
 * fingerprint line must be present and equal (a cache for another model is refused); NULL
 * accepts caches without one (importing a TensorRT cache). info may be NULL. Nothing is written
 * to scales unless the whole file is valid. Errors: FORMAT with "path:line: ..." (malformed line,
 * unknown algorithm, bad scale, tensor set mismatch, fingerprint mismatch), IO, OUT_OF_MEMORY,
 * INVALID_ARGUMENT. */
av_status av__calib_cache_read(const char *path, const char *const *names, size_t n,
                               const av__calib_fingerprint *expected_fingerprint, float *scales,
                               av__calib_cache_info *info, char *err, size_t err_size);

/* The same from memory: buf[0..len) (any bytes; not NUL-terminated, not referenced after the
 * call), `path` standing for the file in messages. The fuzz target tests/fuzz/fuzz_calib_cache.c
 * feeds it. */
av_status av__calib_cache_parse(const char *buf, size_t len, const char *path,
                                const char *const *names, size_t n,
                                const av__calib_fingerprint *expected_fingerprint, float *scales,
                                av__calib_cache_info *info, char *err, size_t err_size);

#endif /* AV_BUILDER_CALIBRATE_H */
