/* ONNX import: a serialized ModelProto (or one TensorProto) into the graph IR, decoded straight
 * from the protobuf wire format (onnx/wire.h) with no protobuf library.
 *
 * What is read (field numbers of onnx/onnx.proto): ModelProto ir_version, producer_name, graph,
 * opset_import; GraphProto node, name, initializer, input, output, value_info; NodeProto input,
 * output, name, op_type, domain, attribute; AttributeProto name, type, f, i, s, t, g, floats,
 * ints, strings, tensors; TensorProto dims, data_type, name, raw_data, the typed *_data fields,
 * external_data, data_location; ValueInfoProto / TypeProto / TensorShapeProto. Everything else
 * (doc strings, metadata, functions, training info) is skipped.
 *
 * The resulting graph (graph/ir.h):
 * - every name is a value; initializers are AV__VALUE_CONST values with `constant` filled (data
 *   64-byte aligned, owned by the graph); graph inputs that are also initializers (IR < 4 lists
 *   them among the inputs) are constants only and not in g->inputs;
 * - graph inputs / outputs carry their declared element type and shape (symbolic dimensions keep
 *   their name in `param`, unknown ones are -1; no shape at all leaves ndim -1);
 * - value_info fills the type and shape of intermediate values (a non-tensor or unsupported type
 *   there is ignored: it is only a hint);
 * - node inputs / outputs are value indices, -1 for an omitted optional one ("");
 * - attributes FLOAT, INT, STRING, TENSOR, FLOATS, INTS, STRINGS are copied; a GRAPH attribute
 *   (If/Loop/Scan bodies) keeps its name and type but no content; the kinds the IR cannot hold
 *   (TENSORS, GRAPHS, SPARSE_TENSOR(S), TYPE_PROTO(S)) keep their name with type
 *   AV__ATTR_UNDEFINED, so an op that needs one reports it at planning. Tensors of Constant nodes
 *   stay attributes;
 * - g->opset is the version imported for the default domain ("" or "ai.onnx"; 1 when the model
 *   names none); other domains are logged at AV_LOG_LEVEL_INFO: nodes of domains no op supports
 *   fail at planning, not here;
 * - nodes are in topological order (av__graph_toposort, stable) and each value's producer is set.
 *
 * Element types: those of av__dtype with a size (float32/16/64, bfloat16, int8..64, uint8..64,
 * bool). String tensors with data are refused (AV_STATUS_UNSUPPORTED), but a value may be
 * declared as string (dtype AV__DT_STRING, no data) so such models load and fail at planning.
 * complex, float8, int4 / uint4 and float4 are refused (AV_STATUS_UNSUPPORTED) wherever they
 * appear on a tensor, an input or an output.
 *
 * Refused with AV_STATUS_FORMAT (messages name the node: its name, or "node #i (OpType)"): a
 * malformed wire format, a value produced twice (or a graph input / initializer also produced by
 * a node), a node input or graph output that nothing defines, a graph input or initializer listed
 * twice, more than AV__MAX_DIMS dimensions, negative dimensions, shapes whose element count or
 * byte size overflows, data whose size does not match the shape, an unknown data_type, a cycle.
 * Refused with AV_STATUS_UNSUPPORTED: sparse initializers, segmented tensors, sequence / map /
 * optional / sparse types on graph inputs and outputs, the element types above.
 *
 * External data (data_location EXTERNAL): `location` is a path relative to base_dir; absolute
 * paths and any ".." component are refused; `offset` and `length` (decimal, both optional: default
 * the whole file from 0) must lie inside the file and `length` must be the tensor's byte size.
 *
 * Every function is thread-safe (no global state besides the log callback). Error messages go to
 * `err` (err_size bytes, may be NULL / 0), never to stdout / stderr. On failure *out is NULL (or
 * zeroed) and nothing is leaked. */
#ifndef AV_ONNX_IMPORT_H
#define AV_ONNX_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/common.h"
#include "graph/ir.h"

/* Imports the serialized ModelProto of `size` bytes at `bytes` into a new graph *out (release it
 * with av__graph_free). base_dir: directory that external data locations are relative to (NULL:
 * external data is refused). The bytes are only read during the call. Peak memory: the graph,
 * with one copy of each initializer. */
av_status av__onnx_load_memory(const void *bytes, size_t size, const char *base_dir,
                               av__graph **out, char *err, size_t err_size);

/* Reads the .onnx file at `path` and imports it as av__onnx_load_memory does, with external data
 * relative to the file's directory. Messages are prefixed "PATH: "; AV_STATUS_IO when the file
 * cannot be read. */
av_status av__onnx_load_file(const char *path, av__graph **out, char *err, size_t err_size);

/* A serialized TensorProto file (the official node tests' input_N.pb / output_N.pb) into *out:
 * dtype, shape and data (from av__aligned_alloc, owner: the caller, release with
 * av__aligned_free). Its name goes to `name` (name_size bytes, truncated, may be "" when the
 * tensor has none; name may be NULL when name_size is 0). External data is read relative to the
 * file's directory. Messages are prefixed "PATH: ". On failure *out is zeroed. */
av_status av__onnx_load_tensor_file(const char *path, av__tensor *out, char *name,
                                    size_t name_size, char *err, size_t err_size);

/* ---- shared between import.c and import_tensor.c ---------------------------------------- */

/* Decodes the TensorProto in bytes[0..size) into *out (data from av__aligned_alloc, owned by
 * the caller; *out zeroed on failure). *name / *name_len get the tensor's name, pointing into
 * `bytes` (not NUL-terminated; NULL / 0 when absent). `what` names the tensor's place for messages
 * ("initializer", "attribute 'value' of node n (Constant)"); the tensor's own name follows it. */
av_status av__onnx_parse_tensor(const uint8_t *bytes, size_t size, const char *base_dir,
                                const char *what, av__tensor *out, const uint8_t **name,
                                size_t *name_len, char *err, size_t err_size);

/* The ONNX name of element type `t` for messages, including the types av__dtype has no size for
 * ("complex64", "float8e4m3fn", ...); "unknown" otherwise. */
const char *av__onnx_type_name(int64_t t);

/* Whether tensors of ONNX element type `t` can be held (av__dtype_size(t) > 0). */
int av__onnx_type_supported(int64_t t);

/* Reads the whole file at `path` into *data (av__malloc'd, owner: the caller) of *size bytes.
 * Messages are not prefixed. */
av_status av__onnx_read_file(const char *path, uint8_t **data, size_t *size, char *err,
                             size_t err_size);

#endif /* AV_ONNX_IMPORT_H */
