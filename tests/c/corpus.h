/* Replaying a fuzz corpus (tests/fuzz/corpus/<parser>/) in a unit test, the convention of
 * tests/fuzz/README.md: every file goes through the parser; names starting "ok_" must be
 * accepted, names starting "bad_" refused with a message, and any other name (an input that once
 * crashed the fuzzer) only must not crash. Include after check.h. */
#ifndef AV_TESTS_CORPUS_H
#define AV_TESTS_CORPUS_H

#include <dirent.h>
#include <stdint.h>

#include "autovoice/common.h"

/* Parses one corpus file: `data` holds its `size` bytes (a private copy the parser may modify;
 * NUL-terminated one byte past the end), `name` is the file name, `path` its full path.
 * Returns the parser's status and leaves its message in err; frees whatever it parsed. */
typedef av_status (*corpus_parse_fn)(const char *path, const char *name, uint8_t *data, size_t size,
                                     char *err, size_t err_size);

typedef struct corpus_rules {
    av_status bad_status;  /* the status bad_ files must give; AV_STATUS_OK: any failure */
    int message_names_file; /* bad_ messages must start with the file name */
} corpus_rules;

typedef struct corpus_counts {
    int files, ok, bad;
} corpus_counts;

/* Files of `dir` (at most 1 MiB each) through `parse`, checked as above; failures are counted in
 * check_failures with the file named on stderr. */
static corpus_counts replay_corpus(const char *dir, corpus_parse_fn parse, corpus_rules rules)
{
    corpus_counts n = {0, 0, 0};
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return n;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096], err[1024] = "";
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        uint8_t *data = malloc((1 << 20) + 1);
        size_t size = f && data ? fread(data, 1, 1 << 20, f) : 0;
        if (f)
            fclose(f);
        CHECK(f != NULL && data != NULL);
        if (!f || !data) {
            free(data);
            continue;
        }
        data[size] = 0;
        av_status st = parse(path, e->d_name, data, size, err, sizeof err);
        free(data);
        n.files++;
        if (strncmp(e->d_name, "ok_", 3) == 0) {
            n.ok++;
            if (st != AV_STATUS_OK) {
                fprintf(stderr, "corpus %s: expected to parse, got: %s\n", e->d_name, err);
                check_failures++;
            }
        } else if (strncmp(e->d_name, "bad_", 4) == 0) {
            n.bad++;
            int right_status = rules.bad_status == AV_STATUS_OK ? st != AV_STATUS_OK : st == rules.bad_status;
            int named = !rules.message_names_file || strncmp(err, e->d_name, strlen(e->d_name)) == 0;
            if (!right_status || !err[0] || !named) {
                fprintf(stderr, "corpus %s: status %d, message \"%s\"\n", e->d_name, (int)st, err);
                check_failures++;
            }
        }
    }
    closedir(d);
    printf("corpus %s: %d files (%d ok_, %d bad_)\n", dir, n.files, n.ok, n.bad);
    return n;
}

#endif /* AV_TESTS_CORPUS_H */
