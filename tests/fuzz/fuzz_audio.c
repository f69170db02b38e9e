/* libFuzzer target for audio/read: feeds each input to av_audio_read_memory (libsndfile's virtual
 * I/O over the bytes: every container and codec libsndfile knows) and checks what a successful
 * read promises (audio.h): at least one frame, a sample rate within [AV_AUDIO_MIN_SAMPLE_RATE,
 * AV_AUDIO_MAX_SAMPLE_RATE], every sample finite. A failure must leave *out empty and say why,
 * naming the input. Build and run: tests/fuzz/README.md. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autovoice/audio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    av_audio a;
    memset(err, 'x', sizeof err);
    if (av_audio_read_memory(data, size, "fuzz.bin", &a, err, sizeof err) != AV_STATUS_OK) {
        if (a.samples || a.frames || a.sample_rate || !memchr(err, '\0', sizeof err) ||
            strncmp(err, "fuzz.bin: ", 10) != 0 || !err[10])
            abort(); /* a failure leaves *out empty and says why */
        return 0;
    }
    if (!a.samples || a.frames < 1 || a.sample_rate < AV_AUDIO_MIN_SAMPLE_RATE ||
        a.sample_rate > AV_AUDIO_MAX_SAMPLE_RATE)
        abort();
    for (int64_t i = 0; i < a.frames; i++) /* also touches every sample for ASan */
        if (!isfinite(a.samples[i]))
            abort();
    av_audio_free(&a);
    if (a.samples || a.frames)
        abort();
    return 0;
}
