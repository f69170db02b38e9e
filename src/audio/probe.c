#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sndfile.h>

#include "autovoice/audio.h"
#include "core/internal.h"

static void describe_format(int format, char *out, size_t size)
{
    SF_FORMAT_INFO major = {.format = format & SF_FORMAT_TYPEMASK};
    SF_FORMAT_INFO minor = {.format = format & SF_FORMAT_SUBMASK};
    const char *major_name = "unknown container", *minor_name = "unknown encoding";
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0 && major.name)
        major_name = major.name;
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &minor, sizeof minor) == 0 && minor.name)
        minor_name = minor.name;
    snprintf(out, size, "%s, %s", major_name, minor_name);
}

av_status av_audio_probe(const char *path, av_audio_info *info, char *err, size_t err_size)
{
    if (!info)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_audio_probe: info is NULL");
    memset(info, 0, sizeof *info);
    if (!path)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "av_audio_probe: path is NULL");

    struct stat st;
    if (stat(path, &st) != 0)
        return av__fail(err, err_size, AV_STATUS_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return av__fail(err, err_size, AV_STATUS_IO, "%s: is a directory, not an audio file", path);

    SF_INFO sfi = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &sfi);
    if (!f)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: not a readable audio file (%s)", path,
                        sf_strerror(NULL));
    sf_close(f);

    if (sfi.frames <= 0)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: contains no audio (0 samples)", path);
    if (sfi.channels <= 0)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: invalid channel count %d", path,
                        sfi.channels);
    if (sfi.samplerate < AV_AUDIO_MIN_SAMPLE_RATE || sfi.samplerate > AV_AUDIO_MAX_SAMPLE_RATE)
        return av__fail(err, err_size, AV_STATUS_FORMAT,
                        "%s: sample rate %d Hz is outside the supported %d-%d Hz", path,
                        sfi.samplerate, AV_AUDIO_MIN_SAMPLE_RATE, AV_AUDIO_MAX_SAMPLE_RATE);

    info->sample_rate = sfi.samplerate;
    info->channels = sfi.channels;
    info->frames = (int64_t)sfi.frames;
    info->seconds = (double)sfi.frames / sfi.samplerate;
    describe_format(sfi.format, info->format, sizeof info->format);
    return AV_STATUS_OK;
}
