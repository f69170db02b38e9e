/* NumPy .npz reader; contract in npz.h. Zip layout: APPNOTE.TXT (PKWARE), sections 4.3.7 (local
 * header), 4.3.12 (central directory header), 4.3.16 (end of central directory), 4.5.3 (zip64
 * extended information). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "builder/npz.h"
#include "core/internal.h"

#define MAX_FILE ((uint64_t)4 << 30)

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* The file's bytes in a new buffer. */
static av_status read_all(const char *path, uint8_t **out, size_t *size, char *err,
                          size_t err_size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return av__fail(err, err_size, AV_STATUS_IO, "%s: %s", path, strerror(errno));
    av_status st = AV_STATUS_OK;
    uint8_t *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: cannot seek", path);
    } else if ((uint64_t)n > MAX_FILE) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: larger than 4 GiB", path);
    } else if (!(buf = av__malloc((size_t)n + 1))) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
    } else if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        st = av__fail(err, err_size, AV_STATUS_IO, "%s: read error", path);
    }
    fclose(f);
    if (st != AV_STATUS_OK) {
        av__free(buf);
        return st;
    }
    *out = buf;
    *size = (size_t)n;
    return AV_STATUS_OK;
}

/* Replaces 0xffffffff fields by the zip64 extra field's values (in the order of 4.5.3). */
static int zip64_fields(const uint8_t *extra, size_t len, uint64_t *usize, uint64_t *csize,
                        uint64_t *offset)
{
    while (len >= 4) {
        uint16_t id = le16(extra), n = le16(extra + 2);
        if ((size_t)n + 4 > len)
            return 0;
        if (id == 0x0001) {
            const uint8_t *p = extra + 4, *end = p + n;
            uint64_t *fields[3] = {usize, csize, offset};
            for (int i = 0; i < 3; i++) {
                if (!fields[i] || *fields[i] != 0xffffffffu)
                    continue;
                if (end - p < 8)
                    return 0;
                *fields[i] = le64(p);
                p += 8;
            }
            return 1;
        }
        extra += 4 + n;
        len -= 4 + (size_t)n;
    }
    return 1;
}

static av_status inflate_raw(const uint8_t *src, size_t n, uint8_t *dst, size_t want)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return AV_STATUS_OUT_OF_MEMORY;
    av_status st = AV_STATUS_OK;
    size_t in_done = 0, out_done = 0;
    int r = Z_OK;
    while (r == Z_OK) { /* zlib counts in uInt: feed at most 1 GiB at a time */
        size_t in_chunk = n - in_done < (1u << 30) ? n - in_done : (1u << 30);
        size_t out_chunk = want - out_done < (1u << 30) ? want - out_done : (1u << 30);
        z.next_in = (Bytef *)(uintptr_t)(src + in_done);
        z.avail_in = (uInt)in_chunk;
        z.next_out = dst + out_done;
        z.avail_out = (uInt)out_chunk;
        r = inflate(&z, Z_NO_FLUSH);
        in_done += in_chunk - z.avail_in;
        out_done += out_chunk - z.avail_out;
        if (r == Z_OK && in_chunk == z.avail_in && out_chunk == z.avail_out)
            break; /* no progress */
    }
    if (r != Z_STREAM_END || out_done != want)
        st = AV_STATUS_FORMAT;
    inflateEnd(&z);
    return st;
}

void av__npz_free(av__npz_entry *e, size_t count)
{
    for (size_t i = 0; e && i < count; i++) {
        av__free(e[i].name);
        av__npy_free(&e[i].array);
    }
    av__free(e);
}

av_status av__npz_load(const char *path, av__npz_entry **entries, size_t *count, char *err,
                       size_t err_size)
{
    *entries = NULL;
    *count = 0;
    uint8_t *d = NULL;
    size_t size = 0;
    av_status st = read_all(path, &d, &size, err, err_size);
    if (st == AV_STATUS_OK)
        st = av__npz_parse(d, size, path, entries, count, err, err_size);
    av__free(d);
    return st;
}

av_status av__npz_parse(const void *data, size_t size, const char *path,
                        av__npz_entry **entries, size_t *count, char *err, size_t err_size)
{
    *entries = NULL;
    *count = 0;
    const uint8_t *d = data;
    uint8_t *unpacked = NULL;
    av_status st = AV_STATUS_OK;
    if (!d && size)
        return av__fail(err, err_size, AV_STATUS_INVALID_ARGUMENT, "%s: no data", path);
    if ((uint64_t)size > MAX_FILE)
        return av__fail(err, err_size, AV_STATUS_FORMAT, "%s: larger than 4 GiB", path);
    av__npz_entry *list = NULL;
    size_t n_list = 0;
    char msg[512];
    /* end of central directory: the last signature within the final 64 KiB + 22 bytes */
    size_t eocd = SIZE_MAX;
    for (size_t i = size >= 22 ? size - 22 + 1 : 0; i-- > 0 && size - i <= 65557;)
        if (le32(d + i) == 0x06054b50u) {
            eocd = i;
            break;
        }
    if (eocd == SIZE_MAX) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT,
                      "%s: not an .npz file (no zip end-of-central-directory record)", path);
        goto done;
    }
    uint64_t entries_total = le16(d + eocd + 10), cd_size = le32(d + eocd + 12),
             cd_off = le32(d + eocd + 16);
    if (entries_total == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu) {
        /* zip64: the locator sits just before, pointing at the zip64 end record */
        if (eocd < 20 || le32(d + eocd - 20) != 0x07064b50u) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: broken zip64 records", path);
            goto done;
        }
        uint64_t z64 = le64(d + eocd - 20 + 8);
        if (size < 56 || z64 > size - 56 || le32(d + z64) != 0x06064b50u) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: broken zip64 records", path);
            goto done;
        }
        entries_total = le64(d + z64 + 32);
        cd_size = le64(d + z64 + 40);
        cd_off = le64(d + z64 + 48);
    }
    if (cd_off > size || cd_size > size - cd_off || entries_total > cd_size / 46) {
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: central directory outside the file",
                      path);
        goto done;
    }
    if (!(list = av__calloc((size_t)entries_total + 1, sizeof *list))) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
        goto done;
    }
    const uint8_t *p = d + cd_off, *cd_end = d + cd_off + cd_size;
    for (uint64_t k = 0; k < entries_total; k++) {
        if (cd_end - p < 46 || le32(p) != 0x02014b50u) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: bad central directory entry %llu",
                          path, (unsigned long long)k);
            goto done;
        }
        uint16_t flags = le16(p + 8), method = le16(p + 10);
        uint32_t crc = le32(p + 16);
        uint64_t csize = le32(p + 20), usize = le32(p + 24), loc = le32(p + 42);
        size_t name_len = le16(p + 28), extra_len = le16(p + 30), comment_len = le16(p + 32);
        if ((size_t)(cd_end - p) < 46 + name_len + extra_len + comment_len ||
            !zip64_fields(p + 46 + name_len, extra_len, &usize, &csize, &loc)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: bad central directory entry %llu",
                          path, (unsigned long long)k);
            goto done;
        }
        const char *name = (const char *)p + 46;
        p += 46 + name_len + extra_len + comment_len;
        if (name_len < 5 || memcmp(name + name_len - 4, ".npy", 4) != 0 ||
            memchr(name, '\0', name_len)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: member '%.*s' is not a .npy file",
                          path, (int)name_len, name);
            goto done;
        }
        if ((flags & 1) || (method != 0 && method != 8)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s: member '%.*s' is %s (stored and deflated members are read)", path,
                          (int)name_len, name, (flags & 1) ? "encrypted" : "compressed otherwise");
            goto done;
        }
        if (loc > size || size - loc < 30 || le32(d + loc) != 0x04034b50u ||
            size - loc - 30 < (uint64_t)le16(d + loc + 26) + le16(d + loc + 28)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: member '%.*s': bad local header",
                          path, (int)name_len, name);
            goto done;
        }
        uint64_t data_off = loc + 30 + le16(d + loc + 26) + le16(d + loc + 28);
        /* deflate expands at most 1032:1, so a larger claim is a lie (and not allocated) */
        if (csize > size - data_off || (method == 0 && csize != usize) || usize > MAX_FILE ||
            (method == 8 && usize > csize * 1032 + 64)) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT,
                          "%s: member '%.*s': sizes outside the file", path, (int)name_len, name);
            goto done;
        }
        const uint8_t *bytes = d + data_off;
        if (method == 8) {
            if (!(unpacked = av__malloc((size_t)usize + 1))) {
                st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
                goto done;
            }
            if (inflate_raw(bytes, (size_t)csize, unpacked, (size_t)usize) != AV_STATUS_OK) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT,
                              "%s: member '%.*s': corrupt deflate data", path, (int)name_len,
                              name);
                goto done;
            }
            bytes = unpacked;
        }
        uLong sum = crc32(0L, Z_NULL, 0);
        for (uint64_t at = 0; at < usize;) { /* crc32 takes uInt lengths */
            uInt chunk = usize - at < (1u << 30) ? (uInt)(usize - at) : (1u << 30);
            sum = crc32(sum, bytes + at, chunk);
            at += chunk;
        }
        if ((uint32_t)sum != crc) {
            st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: member '%.*s': CRC mismatch",
                          path, (int)name_len, name);
            goto done;
        }
        av__npz_entry *e = &list[n_list];
        if (!(e->name = av__malloc(name_len - 3))) {
            st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
            goto done;
        }
        memcpy(e->name, name, name_len - 4);
        e->name[name_len - 4] = '\0';
        n_list++;
        for (size_t j = 0; j + 1 < n_list; j++)
            if (!strcmp(list[j].name, e->name)) {
                st = av__fail(err, err_size, AV_STATUS_FORMAT, "%s: member '%s' appears twice",
                              path, e->name);
                goto done;
            }
        if ((st = av__npy_parse(bytes, (size_t)usize, &e->array, msg, sizeof msg)) !=
            AV_STATUS_OK) {
            av__fail(err, err_size, st, "%s: member '%s': %s", path, e->name, msg);
            goto done;
        }
        av__free(unpacked);
        unpacked = NULL;
    }
    *entries = list;
    *count = n_list;
    list = NULL;
done:
    av__npz_free(list, n_list);
    av__free(unpacked);
    return st;
}
