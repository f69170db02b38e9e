/* One mono float signal -> an audio file, atomically (av_audio_format_from_path, av_audio_write).
 *
 * The file is written to a temporary file next to PATH (same directory, hence same file system),
 * flushed to disk, and renamed over PATH only when everything succeeded. Any failure removes the
 * temporary file, so PATH is either the old file, untouched, or the complete new one. */
#define _POSIX_C_SOURCE 200809L /* fsync, O_CLOEXEC, O_DIRECTORY */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "autovoice/audio.h"
#include "core/internal.h"

/* Frames handed to libsndfile per call. */
#define WRITE_BLOCK_FRAMES 65536

/* Temporary names tried, in order: PATH.tmp, then PATH.tmp.1 ... PATH.tmp.<N-1> when an earlier
 * one exists (another writer, or leftovers of a killed run: never overwritten). */
#define WRITE_TMP_TRIES 16

/* A RIFF WAV file stores its sizes in 32 bits; stay clear of the limit with room for the header. */
#define WAV_MAX_DATA_BYTES ((int64_t)UINT32_MAX - 4096)

av_status av_audio_format_from_path(const char *path, av_audio_format *format, char *err,
                                    size_t err_size)
{
    if (!path || !format)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av_audio_format_from_path: %s is NULL", path ? "format" : "path");
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: no file extension to choose the output format by (use .wav or .flac)",
                        path);
    if (strcasecmp(dot, ".wav") == 0) {
        *format = AV_AUDIO_FORMAT_WAV_PCM16;
        return AV_STATUS_OK;
    }
    if (strcasecmp(dot, ".flac") == 0) {
        *format = AV_AUDIO_FORMAT_FLAC_24;
        return AV_STATUS_OK;
    }
    return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                    "%s: cannot write '%s' files (use .wav or .flac)", path, dot);
}

/* libsndfile format (0 for an unknown value), bits of an integer sample (0 = float), and bytes per
 * stored sample in a WAV file (0 = not WAV). */
static int sf_format_of(av_audio_format format, int *bits, int *wav_bytes)
{
    *bits = 0;
    *wav_bytes = 0;
    switch (format) {
    case AV_AUDIO_FORMAT_WAV_PCM16:
        *bits = 16;
        *wav_bytes = 2;
        return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    case AV_AUDIO_FORMAT_WAV_PCM24:
        *bits = 24;
        *wav_bytes = 3;
        return SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    case AV_AUDIO_FORMAT_WAV_FLOAT:
        *wav_bytes = 4;
        return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    case AV_AUDIO_FORMAT_FLAC_16:
        *bits = 16;
        return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    case AV_AUDIO_FORMAT_FLAC_24:
        *bits = 24;
        return SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
    }
    return 0;
}

/* Quantises x[0..n) to `bits`-bit codes, left-aligned in int32 as sf_writef_int expects (the
 * writer keeps the top `bits` bits, exactly). The code is round-to-nearest(x * 2^(bits-1)) clipped
 * to [-2^(bits-1), 2^(bits-1) - 1], so it reads back (code / 2^(bits-1)) within half a step, and
 * +1.0 becomes the largest code. libsndfile's own float-to-int conversion is not used: in 1.2.0
 * it scales by 2^(bits-1) - 1 unless clipping is on, and with clipping on it puts some negative
 * values one code too low (-0.9 -> -29492 at 16 bits). */
static void quantise(const float *x, int64_t n, int bits, int32_t *out)
{
    const double scale = (double)((int32_t)1 << (bits - 1));
    const double hi = scale - 1.0, lo = -scale;
    const int32_t align = (int32_t)1 << (32 - bits);
    for (int64_t i = 0; i < n; i++) {
        double v = nearbyint((double)x[i] * scale);
        v = v > hi ? hi : v < lo ? lo : v;
        out[i] = (int32_t)v * align; /* within [-2^31, 2^31 - align]: no overflow */
    }
}

/* Creates a new temporary file for `path` (O_EXCL: an existing file is never reused). On success
 * returns the descriptor and leaves the name in tmp; on failure returns -1 with errno set and
 * tmp holding the last name tried. */
static int create_tmp(const char *path, char *tmp, size_t tmp_size)
{
    for (int i = 0; i < WRITE_TMP_TRIES; i++) {
        int n = i == 0 ? snprintf(tmp, tmp_size, "%s.tmp", path)
                       : snprintf(tmp, tmp_size, "%s.tmp.%d", path, i);
        if (n < 0 || (size_t)n >= tmp_size) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Best effort: makes the rename itself durable. A failure here cannot be undone (the new file is
 * already in place), so it is not reported. */
static void sync_parent_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, sizeof dir, ".");
    } else {
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        if (len >= sizeof dir)
            return;
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

av_status av_audio_write(const char *path, const av_audio *audio, av_audio_format format,
                         int64_t *clipped, char *err, size_t err_size)
{
    if (clipped)
        *clipped = 0;
    if (!path || !audio)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "av_audio_write: %s is NULL", path ? "audio" : "path");
    int bits = 0, wav_bytes = 0;
    const int sf_format = sf_format_of(format, &bits, &wav_bytes);
    if (!sf_format)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: unknown output format %d", path, (int)format);
    if (audio->frames <= 0 || !audio->samples)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: nothing to write (%lld frames)", path, (long long)audio->frames);
    if (audio->sample_rate < AV_AUDIO_MIN_SAMPLE_RATE ||
        audio->sample_rate > AV_AUDIO_MAX_SAMPLE_RATE)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: sample rate %d Hz is outside the supported %d-%d Hz", path,
                        audio->sample_rate, AV_AUDIO_MIN_SAMPLE_RATE, AV_AUDIO_MAX_SAMPLE_RATE);
    if (wav_bytes && audio->frames > WAV_MAX_DATA_BYTES / wav_bytes)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                        "%s: %lld frames do not fit in a WAV file (4 GiB); write FLAC instead",
                        path, (long long)audio->frames);

    /* Everything about the samples is settled before a file exists: non-finite samples are
     * refused (a NaN has no integer value, and a float file with one would be refused on reading),
     * and the clip count is the number of samples outside [-1, 1]. */
    int64_t n_clipped = 0;
    for (int64_t i = 0; i < audio->frames; i++) {
        float x = audio->samples[i];
        if (!isfinite(x))
            return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT,
                            "%s: sample %lld is NaN or infinite; nothing written", path,
                            (long long)i);
        n_clipped += x > 1.0f || x < -1.0f;
    }
    if (!bits)
        n_clipped = 0;

    /* A special file (a device, a FIFO, a directory) must not be replaced by a rename. stat()
     * follows symbolic links: a link to a regular file is replaced by the new file itself. */
    struct stat st_path;
    if (stat(path, &st_path) == 0 && !S_ISREG(st_path.st_mode))
        return av__fail(err, err_size, AV_STATUS_IO, "%s: exists and is not a regular file", path);

    int32_t *codes = NULL;
    if (bits && !(codes = av__mallocarray(WRITE_BLOCK_FRAMES, sizeof *codes)))
        return av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);

    char tmp[4096 + 16];
    av_status st = AV_STATUS_OK;
    SNDFILE *f = NULL;
    int fd = create_tmp(path, tmp, sizeof tmp);
    if (fd < 0) {
        av__free(codes);
        return av__fail(err, err_size, AV_STATUS_IO, "%s: cannot create temporary file %s: %s",
                        path, tmp, strerror(errno));
    }

    SF_INFO sfi = {.samplerate = audio->sample_rate, .channels = 1, .format = sf_format};
    if (!sf_format_check(&sfi)) {
        st = av__fail(err, err_size, AV_STATUS_UNSUPPORTED,
                      "%s: this libsndfile cannot write format %d", path, (int)format);
        goto fail;
    }
    /* close_desc = SF_FALSE: sf_close finalises the header but leaves fd open for the fsync. */
    f = sf_open_fd(fd, SFM_WRITE, &sfi, SF_FALSE);
    if (!f) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: cannot write %s (%s)", path, tmp,
                      sf_strerror(NULL));
        goto fail;
    }
    for (int64_t done = 0; done < audio->frames;) {
        int64_t n = audio->frames - done;
        if (n > WRITE_BLOCK_FRAMES)
            n = WRITE_BLOCK_FRAMES;
        errno = 0;
        sf_count_t put;
        if (bits) {
            quantise(audio->samples + done, n, bits, codes);
            put = sf_writef_int(f, codes, (sf_count_t)n);
        } else {
            put = sf_writef_float(f, audio->samples + done, (sf_count_t)n);
        }
        if (put != (sf_count_t)n) {
            /* libsndfile's text includes the system error when there is one (disk full, file
             * size limit); errno is the fallback for an encoder that reports nothing. */
            const char *why = sf_error(f) != SF_ERR_NO_ERROR ? sf_strerror(f)
                              : errno                        ? strerror(errno)
                                                             : "short write";
            st = av__fail(err, err_size, AV_STATUS_IO, "%s: write failed after %lld frames (%s)",
                          path, (long long)(done + (put > 0 ? put : 0)), why);
            goto fail;
        }
        done += n;
    }
    int sf_rc = sf_close(f);
    f = NULL;
    if (sf_rc != SF_ERR_NO_ERROR) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: finishing %s failed (%s)", path, tmp,
                      sf_error_number(sf_rc));
        goto fail;
    }
    if (fsync(fd) != 0) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: fsync of %s failed: %s", path, tmp,
                      strerror(errno));
        goto fail;
    }
    int close_rc = close(fd);
    fd = -1;
    if (close_rc != 0) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: closing %s failed: %s", path, tmp,
                      strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: cannot rename %s into place: %s", path,
                      tmp, strerror(errno));
        goto fail;
    }
    sync_parent_dir(path);
    if (clipped)
        *clipped = n_clipped;
    av__free(codes);
    return AV_STATUS_OK;

fail:
    if (f)
        sf_close(f);
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    av__free(codes);
    return st;
}
