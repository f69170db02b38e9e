/* Graph passes: functions that check or rewrite an av__graph in place (graph/ir.h). Each returns
 * AV_STATUS_OK or an error with a message in `err` (err_size bytes, may be NULL / 0); a pass that
 * fails leaves the graph valid to free, but not necessarily as it was. */
#ifndef AV_GRAPH_PASSES_H
#define AV_GRAPH_PASSES_H

#include <stddef.h>

#include "autovoice/common.h"
#include "graph/ir.h"

/* Reorders g->nodes into a topological order: every node comes after the producers of its
 * inputs. Stable: among the nodes ready to run it always takes the one that came first, so a
 * graph already in a valid order keeps it. Sets every value's `producer` from the nodes' outputs
 * (-1 for values no node writes). Errors: AV_STATUS_FORMAT "graph has a cycle through node NAME
 * (OpType)" (the node is on the cycle; "node #i (OpType)" when unnamed, i its index before the
 * call) and a value written by two nodes (the graph is then unchanged apart from producers);
 * AV_STATUS_OUT_OF_MEMORY. O(nodes log nodes + edges). */
av_status av__graph_toposort(av__graph *g, char *err, size_t err_size);

#endif /* AV_GRAPH_PASSES_H */
