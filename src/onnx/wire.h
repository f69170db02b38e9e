/* Protobuf wire format: a bounds-checked reader over a buffer in memory. No schema, no
 * allocation, no copies: a field's payload is a pointer into the buffer it was read from.
 *
 * A message is a sequence of fields, each a varint tag (number << 3 | wire type) and a value:
 *   0 VARINT  base-128 varint, at most 10 bytes, at most 64 bits
 *   1 I64     8 bytes little-endian (fixed64, double)
 *   2 LEN     varint length, then that many bytes (strings, bytes, sub-messages, packed runs)
 *   5 I32     4 bytes little-endian (fixed32, float)
 * Wire types 3 and 4 (groups, deprecated) and 6, 7 are refused as malformed; so is field number 0
 * and any number above 2^29 - 1.
 *
 * A repeated scalar field may come one element per field (its element's own wire type) or as
 * packed runs (LEN fields holding elements back to back), and writers may mix both within one
 * message; the *_count / *_read helpers below take either form.
 *
 * Thread-safety: none needed; a reader is a cursor owned by its caller. */
#ifndef AV_ONNX_WIRE_H
#define AV_ONNX_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum {
    AV__WIRE_VARINT = 0,
    AV__WIRE_I64 = 1,
    AV__WIRE_LEN = 2,
    AV__WIRE_I32 = 5
};

/* A cursor over one message: [p, end). */
typedef struct av__wire {
    const uint8_t *p;
    const uint8_t *end;
} av__wire;

typedef struct av__wire_field {
    uint32_t number;      /* 1 .. 2^29 - 1 */
    int type;             /* AV__WIRE_* */
    uint64_t value;       /* VARINT: the value; I32 / I64: the bits (I32 zero-extended) */
    const uint8_t *data;  /* LEN: the payload (inside the reader's buffer); else NULL */
    size_t len;           /* LEN: payload bytes; else 0 */
} av__wire_field;

/* A reader over size bytes at data (data may be NULL when size is 0). */
av__wire av__wire_reader(const void *data, size_t size);

/* Reads the next field into *f and moves past it (unknown fields are skipped by just ignoring
 * them). Returns 1 when a field was read, 0 at the end of the buffer, -1 when the buffer is
 * malformed there (bad or overlong varint, length beyond the buffer, group or reserved wire type,
 * field number 0): the reader is then left where it was. */
int av__wire_next(av__wire *r, av__wire_field *f);

/* Decodes one varint at *p (not reading at or past end) into *v and advances *p. Returns 0, or
 * -1 for a varint that runs past end, is longer than 10 bytes or overflows 64 bits. */
int av__wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* Repeated varint fields (int32, int64, uint64, bool, enum): the number of elements f holds
 * (1 for a VARINT field, the run's count for a LEN field), or -1 when f has another wire type or
 * its packed run is malformed (so a successful count validates the whole run). */
int64_t av__wire_varints_count(const av__wire_field *f);

/* Iteration over the elements of one such field, after av__wire_varints_count(f) >= 0:
 *   av__wire_varints it = av__wire_varints_begin(&f);
 *   while (av__wire_varints_next(&it, &v)) ...
 * The field (and its buffer) must outlive the iterator. */
typedef struct av__wire_varints {
    const uint8_t *p, *end; /* the packed run left to read */
    uint64_t single;        /* a VARINT field's value */
    int has_single;
} av__wire_varints;
av__wire_varints av__wire_varints_begin(const av__wire_field *f);
/* 1 with the next element in *v, 0 at the end (or at a malformed byte: count first). */
int av__wire_varints_next(av__wire_varints *it, uint64_t *v);

/* Repeated fixed-width fields, width 4 (I32: float, fixed32) or 8 (I64: double, fixed64): the
 * number of elements f holds, or -1 when f has another wire type or a LEN payload that is not a
 * multiple of width. */
int64_t av__wire_fixed_count(const av__wire_field *f, int width);
/* Copies f's elements, as little-endian bytes of `width` each, to out (room for
 * av__wire_fixed_count(f, width) * width bytes; the caller checked the count was not -1); returns
 * the number of elements. */
size_t av__wire_fixed_read(const av__wire_field *f, int width, void *out);

#endif /* AV_ONNX_WIRE_H */
