/* Helpers shared by the rewriting passes (src/graph/pass_*.c). Internal to src/graph.
 *
 * Conventions of the passes: a node is removed by setting op_type[0] = '\0' (then
 * av__graph_remove_dead drops it); new constants are new values, never edits of existing ones
 * (another node may read the old one); a rewritten node's output keeps the name of the value it
 * replaces, so graph outputs and messages keep their names. */
#ifndef AV_GRAPH_PASS_INTERNAL_H
#define AV_GRAPH_PASS_INTERNAL_H

#include <stdint.h>

#include "graph/ir.h"

/* Per value: how many node inputs read it, plus 1 when it is a graph output. Array of
 * g->n_values ints owned by the caller (av__free), NULL when out of memory. */
int *av__pass_use_counts(const av__graph *g);

/* 1 when the node has this default-domain op type and is live. */
int av__pass_is_op(const av__node *n, const char *op_type);

/* The constant tensor held by value v when v is a constant with data of dtype `dtype`
 * (AV__DT_UNDEFINED: any dtype), else NULL. */
const av__tensor *av__pass_const(const av__graph *g, int v, av__dtype dtype);

/* Adds a constant value named "<base><suffix>" (or "<base><suffix>#k" when taken) holding a
 * zeroed tensor of this dtype and shape; returns its index, -1 when out of memory. The pointer
 * g->values may move: reload it after the call. */
int av__pass_add_const(av__graph *g, const char *base, const char *suffix, av__dtype dtype,
                       int ndim, const int64_t *shape);

/* Sets input `slot` of node n to `value`, growing the input list with omitted (-1) inputs. 0 on
 * success, -1 when out of memory. */
int av__pass_set_input(av__node *n, int slot, int value);

/* Sets attribute `name` of node n to the INTS / FLOATS / STRINGS given (replacing any attribute
 * of that name). 0 on success, -1 when out of memory (the node is then unchanged). */
int av__pass_set_ints(av__node *n, const char *name, const int64_t *v, int count);
int av__pass_set_floats(av__node *n, const char *name, const float *v, int count);
int av__pass_set_strings(av__node *n, const char *name, const char *const *v, int count);

#endif /* AV_GRAPH_PASS_INTERNAL_H */
