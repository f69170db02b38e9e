/* NumPy .npz archives (np.savez / np.savez_compressed): a zip file whose members are .npy files.
 * Internal to the builder (calibration and report inputs, docs/BUILDER.md).
 *
 * Read: the central directory (zip64 sizes and offsets included: numpy writes every member
 * with zip64 extra fields), members stored (method 0) or deflated (method 8, through zlib),
 * each member's CRC-32 checked and parsed by av__npy_parse. Refused with AV_STATUS_FORMAT and
 * "PATH: ..." messages: not a zip, encrypted or otherwise compressed members, names not ending
 * in ".npy", duplicate names, sizes or offsets outside the file, a bad CRC, a bad .npy. The whole
 * file is read into memory first (calibration sets are small); files over 4 GiB are refused. */
#ifndef AV_BUILDER_NPZ_H
#define AV_BUILDER_NPZ_H

#include <stddef.h>

#include "autovoice/common.h"
#include "util/npy.h"

typedef struct av__npz_entry {
    char *name;          /* the member's name without ".npy" ("vocoder/mel_input") */
    av__npy_array array;
} av__npz_entry;

/* Reads every member of `path`. *entries (count of them) is released with av__npz_free.
 * Messages start "PATH: ". */
av_status av__npz_load(const char *path, av__npz_entry **entries, size_t *count, char *err,
                       size_t err_size);
/* The same from the file's bytes in memory (not referenced after the call); `name` stands for
 * the file in messages. */
av_status av__npz_parse(const void *data, size_t size, const char *name, av__npz_entry **entries,
                        size_t *count, char *err, size_t err_size);
void av__npz_free(av__npz_entry *entries, size_t count);

#endif /* AV_BUILDER_NPZ_H */
