/* Topological sort of a graph's nodes: Kahn's algorithm with a min-heap of ready node indices,
 * which makes it stable (contract in passes.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "graph/passes.h"

/* "node NAME (OpType)" or "node #i (OpType)". */
static const char *node_label(const av__node *n, int index, char buf[320])
{
    if (n->name && n->name[0])
        snprintf(buf, 320, "node %.200s (%.80s)", n->name, n->op_type);
    else
        snprintf(buf, 320, "node #%d (%.80s)", index, n->op_type);
    return buf;
}

static void heap_push(int *heap, int *size, int x)
{
    int i = (*size)++;
    while (i > 0 && heap[(i - 1) / 2] > x) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = x;
}

static int heap_pop(int *heap, int *size)
{
    int top = heap[0], x = heap[--*size], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *size)
            break;
        if (c + 1 < *size && heap[c + 1] < heap[c])
            c++;
        if (heap[c] >= x)
            break;
        heap[i] = heap[c];
        i = c;
    }
    if (*size > 0)
        heap[i] = x;
    return top;
}

av_status av__graph_toposort(av__graph *g, char *err, size_t err_size)
{
    const int n = g->n_nodes;
    int *indeg = NULL, *start = NULL, *adj = NULL, *heap = NULL, *order = NULL, *pos = NULL;
    av__node *sorted = NULL;
    av_status st = AV_STATUS_OK;
    char a[320], b[320];

    for (int v = 0; v < g->n_values; v++)
        g->values[v].producer = -1;
    size_t edges = 0;
    for (int i = 0; i < n; i++) {
        const av__node *nd = &g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] < -1 || nd->inputs[k] >= g->n_values)
                return av__fail(err, err_size, AV_STATUS_INTERNAL, "%s: input %d out of range",
                                node_label(nd, i, a), k);
        for (int k = 0; k < nd->n_outputs; k++) {
            int o = nd->outputs[k];
            if (o < -1 || o >= g->n_values)
                return av__fail(err, err_size, AV_STATUS_INTERNAL, "%s: output %d out of range",
                                node_label(nd, i, a), k);
            if (o < 0)
                continue;
            int p = g->values[o].producer;
            if (p >= 0)
                return av__fail(err, err_size, AV_STATUS_FORMAT,
                                "value '%.200s' is produced by both %s and %s", g->values[o].name,
                                node_label(&g->nodes[p], p, a), node_label(nd, i, b));
            g->values[o].producer = i;
        }
        edges += (size_t)nd->n_inputs;
    }

    if (edges > (size_t)INT_MAX)
        return av__fail(err, err_size, AV_STATUS_UNSUPPORTED, "graph too large (%zu edges)", edges);
    indeg = av__calloc((size_t)n + 1, sizeof *indeg);
    start = av__calloc((size_t)n + 1, sizeof *start);
    adj = av__mallocarray(edges + 1, sizeof *adj);
    heap = av__mallocarray((size_t)n + 1, sizeof *heap);
    order = av__mallocarray((size_t)n + 1, sizeof *order);
    pos = av__mallocarray((size_t)n + 1, sizeof *pos);
    sorted = av__mallocarray((size_t)n + 1, sizeof *sorted);
    if (!indeg || !start || !adj || !heap || !order || !pos || !sorted) {
        st = av__fail(err, err_size, AV_STATUS_OUT_OF_MEMORY, "out of memory sorting %d nodes", n);
        goto done;
    }
    /* Edges producer -> consumer in CSR form: start[p] .. start[p + 1] index adj. A node that
     * reads one value twice gets two edges and two decrements, which balance. */
    for (int j = 0; j < n; j++) {
        const av__node *nd = &g->nodes[j];
        for (int k = 0; k < nd->n_inputs; k++) {
            int v = nd->inputs[k], p = v >= 0 ? g->values[v].producer : -1;
            if (p >= 0) {
                start[p + 1]++;
                indeg[j]++;
            }
        }
    }
    for (int i = 0; i < n; i++)
        start[i + 1] += start[i];
    for (int i = 0; i < n; i++)
        pos[i] = start[i]; /* fill cursor */
    for (int j = 0; j < n; j++) {
        const av__node *nd = &g->nodes[j];
        for (int k = 0; k < nd->n_inputs; k++) {
            int v = nd->inputs[k], p = v >= 0 ? g->values[v].producer : -1;
            if (p >= 0)
                adj[pos[p]++] = j;
        }
    }

    int heap_size = 0, done_count = 0;
    for (int i = 0; i < n; i++)
        if (indeg[i] == 0)
            heap_push(heap, &heap_size, i);
    while (heap_size > 0) {
        int i = heap_pop(heap, &heap_size);
        order[done_count++] = i;
        for (int e = start[i]; e < start[i + 1]; e++)
            if (--indeg[adj[e]] == 0)
                heap_push(heap, &heap_size, adj[e]);
    }

    if (done_count < n) {
        /* Every node left has an input produced by another node left (else it would have
         * become ready), so walking from one to such a producer n times ends on a cycle. */
        int x = 0;
        while (indeg[x] == 0)
            x++;
        for (int step = 0; step < n; step++) {
            const av__node *nd = &g->nodes[x];
            for (int k = 0; k < nd->n_inputs; k++) {
                int v = nd->inputs[k], p = v >= 0 ? g->values[v].producer : -1;
                if (p >= 0 && indeg[p] > 0) {
                    x = p;
                    break;
                }
            }
        }
        st = av__fail(err, err_size, AV_STATUS_FORMAT, "graph has a cycle through %s",
                      node_label(&g->nodes[x], x, a));
        goto done;
    }

    for (int k = 0; k < n; k++) {
        sorted[k] = g->nodes[order[k]];
        pos[order[k]] = k;
    }
    if (n)
        memcpy(g->nodes, sorted, (size_t)n * sizeof *sorted);
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].producer >= 0)
            g->values[v].producer = pos[g->values[v].producer];
done:
    av__free(indeg);
    av__free(start);
    av__free(adj);
    av__free(heap);
    av__free(order);
    av__free(pos);
    av__free(sorted);
    return st;
}
