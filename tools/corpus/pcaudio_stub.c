/* A do-nothing libpcaudio.so.0 for running espeak-ng where no audio stack is installed.
 *
 * espeak-ng links libpcaudio (which pulls in ALSA and PulseAudio) for live playback only; the
 * corpus generator always writes WAV files (-w), so no audio device is ever opened. This stub
 * provides the eight entry points libespeak-ng imports and reports "no device" from each, which
 * lets the Debian espeak-ng binary run from a private prefix on a machine without ALSA/PulseAudio
 * (tools/corpus/prefix.sh builds it as libpcaudio.so.0 there). */
#include <stddef.h>
#include <stdint.h>

struct audio_object;

struct audio_object *create_audio_device_object(const char *device, const char *application_name,
                                                const char *description)
{
    (void)device, (void)application_name, (void)description;
    return NULL;
}

int audio_object_open(struct audio_object *object, int format, uint32_t rate, uint8_t channels)
{
    (void)object, (void)format, (void)rate, (void)channels;
    return -1;
}

void audio_object_close(struct audio_object *object) { (void)object; }
void audio_object_destroy(struct audio_object *object) { (void)object; }

int audio_object_write(struct audio_object *object, const void *data, size_t bytes)
{
    (void)object, (void)data, (void)bytes;
    return -1;
}

int audio_object_drain(struct audio_object *object) { (void)object; return 0; }
int audio_object_flush(struct audio_object *object) { (void)object; return 0; }

const char *audio_object_strerror(struct audio_object *object, int error)
{
    (void)object, (void)error;
    return "no audio output in this build (pcaudio stub)";
}
