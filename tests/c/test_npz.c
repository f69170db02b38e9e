/* The .npz reader (src/builder/npz.c): files numpy wrote (stored and deflated members, zip64
 * extra fields), their contents, the messages of refused files, and the fuzz corpus
 * tests/fuzz/corpus/npz (ok_* must parse, bad_* must be refused with the file named). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "corpus.h"
#include "builder/npz.h"

#define CORPUS_DIR AV_FIXTURES_DIR "/../fuzz/corpus/npz"

static av_status parse_npz(const char *path, const char *name, uint8_t *data, size_t size,
                           char *err, size_t err_size)
{
    (void)path;
    av__npz_entry *e = NULL;
    size_t n = 0;
    av_status st = av__npz_parse(data, size, name, &e, &n, err, err_size);
    av__npz_free(e, n);
    return st;
}

static void test_contents(void)
{
    char err[512];
    av__npz_entry *e = NULL;
    size_t n = 0;
    /* np.savez: stored members, every one with a zip64 extra field */
    CHECK_INT(av__npz_load(CORPUS_DIR "/ok_stored.npz", &e, &n, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_STR(e[0].name, "vocoder/mel_input");
        CHECK_INT(e[0].array.dtype, AV__NPY_F32);
        CHECK_INT(e[0].array.ndim, 3);
        CHECK_INT(e[0].array.shape[1], 3);
        CHECK_INT(e[0].array.shape[2], 4);
        for (int i = 0; i < 12; i++)
            CHECK_NEAR(((const float *)e[0].array.data)[i], i, 0);
    }
    av__npz_free(e, n);
    /* np.savez_compressed: deflated members, a bool one */
    CHECK_INT(av__npz_load(CORPUS_DIR "/ok_deflated.npz", &e, &n, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(e[0].name, "a");
        CHECK_STR(e[1].name, "mask");
        CHECK_INT(e[1].array.dtype, AV__NPY_BOOL);
        CHECK_INT(((const uint8_t *)e[1].array.data)[0], 1);
        CHECK_INT(((const uint8_t *)e[1].array.data)[1], 0);
    }
    av__npz_free(e, n);
    CHECK_INT(av__npz_load(CORPUS_DIR "/ok_empty.npz", &e, &n, err, sizeof err), AV_STATUS_OK);
    CHECK_INT(n, 0);
    av__npz_free(e, n);
    /* refusals name the file and say what is wrong */
    static const struct {
        const char *file, *want;
    } bad[] = {
        {"bad_not_zip.npz", "not an .npz file"},
        {"bad_member_name.npz", "member 'readme.txt' is not a .npy file"},
        {"bad_member_npy.npz", "member 'x': "},
        {"bad_crc.npz", "member 'vocoder/mel_input.npy': CRC mismatch"},
        {"bad_truncated.npz", "not an .npz file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", CORPUS_DIR, bad[i].file);
        err[0] = '\0';
        CHECK_INT(av__npz_load(path, &e, &n, err, sizeof err), AV_STATUS_FORMAT);
        CHECK(e == NULL && n == 0);
        if (!strstr(err, bad[i].want) || strncmp(err, path, strlen(path)) != 0) {
            fprintf(stderr, "%s: \"%s\", want \"%s\" after the path\n", bad[i].file, err,
                    bad[i].want);
            check_failures++;
        }
    }
    CHECK_INT(av__npz_load(CORPUS_DIR "/missing.npz", &e, &n, err, sizeof err), AV_STATUS_IO);
    CHECK(strstr(err, "missing.npz") != NULL);
}

int main(void)
{
    test_contents();
    corpus_counts c = replay_corpus(CORPUS_DIR, parse_npz, (corpus_rules){AV_STATUS_FORMAT, 1});
    CHECK(c.files >= 8);
    return check_report("test_npz");
}
