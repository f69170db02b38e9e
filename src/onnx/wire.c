/* Protobuf wire reader; contract in wire.h. Every read is checked against `end` before it
 * happens; lengths are compared with the bytes left, never added to pointers first. */
#include "onnx/wire.h"

#include <string.h>

av__wire av__wire_reader(const void *data, size_t size)
{
    const uint8_t *p = data;
    av__wire r = {p, p ? p + size : p};
    return r;
}

int av__wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    const uint8_t *q = *p;
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (q == end)
            return -1;
        uint8_t b = *q++;
        /* The 10th byte holds bit 63 only: anything more overflows 64 bits. */
        if (i == 9 && b > 1)
            return -1;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            *p = q;
            return 0;
        }
    }
    return -1;
}

static uint64_t load_le(const uint8_t *p, int width)
{
    uint64_t x = 0;
    for (int i = 0; i < width; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

int av__wire_next(av__wire *r, av__wire_field *f)
{
    const uint8_t *p = r->p;
    uint64_t tag, len;
    if (p == r->end)
        return 0;
    if (av__wire_varint(&p, r->end, &tag) != 0 || tag >> 3 == 0 || tag >> 3 > 0x1fffffff)
        return -1;
    f->number = (uint32_t)(tag >> 3);
    f->type = (int)(tag & 7);
    f->value = 0;
    f->data = NULL;
    f->len = 0;
    switch (f->type) {
    case AV__WIRE_VARINT:
        if (av__wire_varint(&p, r->end, &f->value) != 0)
            return -1;
        break;
    case AV__WIRE_I64:
    case AV__WIRE_I32: {
        int width = f->type == AV__WIRE_I64 ? 8 : 4;
        if ((size_t)(r->end - p) < (size_t)width)
            return -1;
        f->value = load_le(p, width);
        p += width;
        break;
    }
    case AV__WIRE_LEN:
        if (av__wire_varint(&p, r->end, &len) != 0 || len > (uint64_t)(r->end - p))
            return -1;
        f->data = p;
        f->len = (size_t)len;
        p += len;
        break;
    default: /* 3, 4: groups; 6, 7: reserved */
        return -1;
    }
    r->p = p;
    return 1;
}

int64_t av__wire_varints_count(const av__wire_field *f)
{
    if (f->type == AV__WIRE_VARINT)
        return 1;
    if (f->type != AV__WIRE_LEN)
        return -1;
    const uint8_t *p = f->data, *end = f->data + f->len;
    int64_t n = 0;
    uint64_t v;
    while (p != end) {
        if (av__wire_varint(&p, end, &v) != 0)
            return -1;
        n++;
    }
    return n;
}

av__wire_varints av__wire_varints_begin(const av__wire_field *f)
{
    av__wire_varints it = {NULL, NULL, 0, 0};
    if (f->type == AV__WIRE_VARINT) {
        it.single = f->value;
        it.has_single = 1;
    } else if (f->type == AV__WIRE_LEN) {
        it.p = f->data;
        it.end = f->data + f->len;
    }
    return it;
}

int av__wire_varints_next(av__wire_varints *it, uint64_t *v)
{
    if (it->has_single) {
        it->has_single = 0;
        *v = it->single;
        return 1;
    }
    return it->p != it->end && av__wire_varint(&it->p, it->end, v) == 0;
}

int64_t av__wire_fixed_count(const av__wire_field *f, int width)
{
    if (f->type == (width == 4 ? AV__WIRE_I32 : AV__WIRE_I64))
        return 1;
    if (f->type != AV__WIRE_LEN || f->len % (size_t)width != 0)
        return -1;
    return (int64_t)(f->len / (size_t)width);
}

size_t av__wire_fixed_read(const av__wire_field *f, int width, void *out)
{
    uint8_t *o = out;
    if (f->type != AV__WIRE_LEN) {
        for (int i = 0; i < width; i++)
            o[i] = (uint8_t)(f->value >> (8 * i));
        return 1;
    }
    if (f->len)
        memcpy(o, f->data, f->len);
    return f->len / (size_t)width;
}
