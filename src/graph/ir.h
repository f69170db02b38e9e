/* The graph IR: what an ONNX model becomes after import, and what passes, the planner and the
 * executor work on. Internal (not installed).
 *
 * Ownership: an av__graph owns every string, array, attribute and constant tensor reachable from
 * it; av__graph_free releases all of it. Values and nodes are referred to by index (int), never
 * by pointer, so the arrays may grow while a pass edits the graph.
 *
 * Thread-safety: a graph is built and edited by one thread; once a model is loaded its graph is
 * read-only and may be shared. */
#ifndef AV_GRAPH_IR_H
#define AV_GRAPH_IR_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/common.h"

/* Element types, numbered as ONNX's TensorProto.DataType so imports need no table. */
typedef enum av__dtype {
    AV__DT_UNDEFINED = 0,
    AV__DT_F32 = 1,
    AV__DT_U8 = 2,
    AV__DT_I8 = 3,
    AV__DT_U16 = 4,
    AV__DT_I16 = 5,
    AV__DT_I32 = 6,
    AV__DT_I64 = 7,
    AV__DT_STRING = 8,
    AV__DT_BOOL = 9,
    AV__DT_F16 = 10,
    AV__DT_F64 = 11,
    AV__DT_U32 = 12,
    AV__DT_U64 = 13,
    AV__DT_BF16 = 16
} av__dtype;

/* Bytes per element (bool: 1), 0 for types the engine does not hold in tensors (string, the
 * complex types, anything unknown). */
size_t av__dtype_size(av__dtype t);
/* "float32", "int64", ... ; "unknown" for anything else. */
const char *av__dtype_name(av__dtype t);

#define AV__MAX_DIMS 8

/* A dense tensor: C order, contiguous. `data` is not owned by the struct itself: the graph owns
 * constants, the session's arena owns intermediates, the caller owns inputs. A rank-0 tensor
 * (scalar) has ndim 0 and one element. */
typedef struct av__tensor {
    av__dtype dtype;
    int ndim;
    int64_t shape[AV__MAX_DIMS];
    void *data;
} av__tensor;

/* Elements (product of the shape; 1 for a scalar). Shapes are validated on import so the product
 * fits in int64; callers still use av__tensor_bytes' overflow check for allocation. */
int64_t av__tensor_count(const av__tensor *t);
/* count * element size, or SIZE_MAX on overflow. */
size_t av__tensor_bytes(const av__tensor *t);

typedef enum av__attr_type {
    AV__ATTR_UNDEFINED = 0,
    AV__ATTR_FLOAT = 1,
    AV__ATTR_INT = 2,
    AV__ATTR_STRING = 3,
    AV__ATTR_TENSOR = 4,
    AV__ATTR_GRAPH = 5,
    AV__ATTR_FLOATS = 6,
    AV__ATTR_INTS = 7,
    AV__ATTR_STRINGS = 8
} av__attr_type; /* ONNX's AttributeProto.AttributeType numbering */

typedef struct av__attr {
    char *name;
    av__attr_type type;
    float f;
    int64_t i;
    char *s;             /* STRING: NUL-terminated copy (the bytes may hold NULs: s_len counts) */
    size_t s_len;
    int64_t *ints;       /* INTS */
    float *floats;       /* FLOATS */
    int count;           /* elements of ints / floats / strings */
    char **strings;      /* STRINGS */
    av__tensor *t;       /* TENSOR: owned, data owned */
} av__attr;

typedef struct av__node {
    char *name;          /* may be "" (ONNX allows unnamed nodes); messages then use the index */
    char *op_type;
    char *domain;        /* "" or "ai.onnx" for the default domain */
    int n_inputs;
    int *inputs;         /* value indices; -1 for an omitted optional input ("" in ONNX) */
    int n_outputs;
    int *outputs;        /* value indices; -1 for an omitted optional output */
    int n_attrs;
    av__attr *attrs;
} av__node;

/* A dimension: a known size (>= 0), or symbolic (value -1 and a name such as "batch"). */
typedef struct av__dim {
    int64_t value;
    char *param;         /* owned; NULL when the size is known or entirely unknown */
} av__dim;

enum {
    AV__VALUE_INPUT = 1u << 0,    /* a graph input the caller feeds */
    AV__VALUE_OUTPUT = 1u << 1,   /* a graph output */
    AV__VALUE_CONST = 1u << 2     /* an initializer or a folded constant: `constant` holds it */
};

/* A named tensor of the graph (an edge). */
typedef struct av__value {
    char *name;
    unsigned flags;
    av__dtype dtype;      /* AV__DT_UNDEFINED until known */
    int ndim;             /* -1 while the rank is unknown */
    av__dim dims[AV__MAX_DIMS];
    int producer;         /* node index, or -1 for inputs and constants */
    av__tensor constant;  /* AV__VALUE_CONST: data owned by the graph (64-byte aligned) */
} av__value;

typedef struct av__graph {
    char *name;
    int64_t ir_version;
    int64_t opset;                /* version of the default ("" / "ai.onnx") domain */
    int n_values, cap_values;
    av__value *values;
    int n_nodes, cap_nodes;
    av__node *nodes;              /* in a valid topological order after av__graph_toposort */
    int n_inputs;
    int *inputs;                  /* value indices, in the model's order (initializers excluded) */
    int n_outputs;
    int *outputs;
    char *producer_name;          /* the exporter ("pytorch", ...), for `inspect` */
    int *name_index;              /* open-addressing hash of value names -> index (-1 empty) */
    int name_index_cap;           /* a power of two, >= 2 n_values; 0 before the first value */
} av__graph;

av__graph *av__graph_create(void);
void av__graph_free(av__graph *g);

/* Adds a value named `name` (copied) and returns its index, or the existing index if a value of
 * that name exists. -1 on allocation failure. */
int av__graph_value(av__graph *g, const char *name);
/* Index of the value called `name`, or -1. */
int av__graph_find_value(const av__graph *g, const char *name);
/* Appends a node (op_type, domain and name copied; inputs/outputs/attrs left empty) and returns
 * its index, or -1 on allocation failure. */
int av__graph_add_node(av__graph *g, const char *op_type, const char *domain, const char *name);

/* Attribute lookup on a node. The getters return `def` when the attribute is absent; a present
 * attribute of the wrong type is also treated as absent (the op's checks report it). */
const av__attr *av__node_attr(const av__node *n, const char *name);
int64_t av__attr_int(const av__node *n, const char *name, int64_t def);
float av__attr_float(const av__node *n, const char *name, float def);
/* NUL-terminated string value or `def`. */
const char *av__attr_string(const av__node *n, const char *name, const char *def);
/* INTS: pointer to the values and their count in *count; NULL (and *count = 0) when absent. */
const int64_t *av__attr_ints(const av__node *n, const char *name, int *count);
const float *av__attr_floats(const av__node *n, const char *name, int *count);
const av__tensor *av__attr_tensor(const av__node *n, const char *name);

/* Frees the contents of an attribute / a node (not the struct itself). */
void av__attr_clear(av__attr *a);
void av__node_clear(av__node *n);

/* 64-byte aligned allocation for tensor data; free with av__aligned_free. NULL on failure or
 * size overflow. size 0 returns a valid unique pointer. */
void *av__aligned_alloc(size_t size);
void av__aligned_free(void *p);

#endif /* AV_GRAPH_IR_H */
