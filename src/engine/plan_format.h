/* Serialised plans ("MODEL.plan"): the one place their binary layout is written down, and the
 * internal entry points of src/engine/plan.c (loading, checking) and plan_write.c (saving).
 *
 * A plan is a model after the load passes (constant folding, dead-node and common-subexpression
 * elimination; the shape-value analysis is recomputed on load, it is a pure function of the
 * graph), plus what the builder decided: the target it was built for, a precision per node and
 * optimisation profiles. Loading maps the file read-only and uses the weights in place.
 *
 * ---- Layout, format version 1 ------------------------------------------------------------------
 * Integers are little-endian and unsigned unless marked i (two's complement); f32 is IEEE-754
 * binary32. Offsets count from the start of the file. The sections follow each other in this
 * order with no gap, except the zero padding that brings the weights to a multiple of 64:
 *
 *   [header: 256 bytes][meta][graph][zeros to a 64-byte boundary][weights]   (end of file)
 *
 * Header (AV__PLAN_HEADER_SIZE bytes). Bytes 0..47 are the stable preamble: every format version,
 * past and future, starts this way, so any version of the loader can say who built a plan.
 *   off  size  field
 *     0     8  magic: "AVPLAN" 0x1a 0x0a                         (AV__PLAN_MAGIC)
 *     8     4  format version: 1                                  (AV__PLAN_FORMAT_VERSION)
 *    12     4  header size: 256
 *    16    32  library version that built it (av_version_string()), NUL-padded, NUL-terminated
 *   -- format 1 from here --
 *    48     8  file size in bytes (detects truncation before anything else is read)
 *    56     8  checksum: XXH64, seed 0, of the whole file with these 8 bytes read as zeros
 *    64     4  target kind (av__plan_target: 1 = CPU x86-64; GPU kinds reserved)
 *    68     4  target architecture: 0 for CPUs; for GPUs the compute capability (e.g. 90)
 *    72     8  CPU features the plan needs (AV__PLAN_CPU_* bits; the loader refuses a plan whose
 *              needs the CPU lacks, and any bit it does not know): 0 for fp32 plans; AVX-512
 *              F/BW/DQ/VL plus AVX512_BF16 with a bf16 node, plus AVX512_VNNI with an int8 node
 *    80     8  CPU features of the machine that built it (information only)
 *    88     8  meta offset (always 256)     96  8  meta size
 *   104     8  graph offset (meta end)     112  8  graph size
 *   120     8  weights offset (the graph's end rounded up to 64)
 *   128     8  weights size: a multiple of 64, ending in at least AV__PLAN_WEIGHT_PAD zero bytes
 *              (kernels may read a little past a tensor's end, as they may with heap tensors)
 *   136   120  reserved, zero
 *
 * Records of the meta and graph sections are sequences of these items, never aligned:
 *   u32, u64, i32, i64, f32        4 or 8 bytes
 *   str                            u32 length, then that many bytes (no terminating NUL);
 *                                  length 0xffffffff stands for "no string" (NULL) where allowed
 *
 * Meta section:
 *   str  source path: the ONNX file as given to the builder ("" when unknown)
 *   u64  source size in bytes      i64 source mtime, ns since 1970
 *   u64  source hash: XXH64 (seed 0) of the source file's bytes
 *   str  component ("content_encoder", ..., "" for a standalone model)
 *   u32  precision the build was asked for (av_precision)
 *   u32  profile count P, then P times:
 *        str input name; u32 rank R (1..8); i64 min[R]; i64 opt[R]; i64 max[R]
 *        (each name a graph input, at most once; min <= opt <= max per dimension; min >= 1)
 *
 * Graph section (graph/ir.h's av__graph, in its order; value and node indices as in the IR):
 *   str name; str producer name; i64 IR version; i64 default-domain opset
 *   u32 value count V, then V values:
 *     str name (unique); u32 flags (AV__VALUE_INPUT | _OUTPUT | _CONST; INPUT and CONST exclusive)
 *     u32 dtype (av__dtype); i32 rank (-1 unknown, else 0..8)
 *     rank times: i64 size (-1: symbolic or unknown); str symbolic name or none (only with -1)
 *     if CONST: u32 dtype (a sized one); u32 rank (0..8); i64 shape[rank] (>= 0);
 *               u64 offset into the weights section (a multiple of 64); u64 bytes (= the
 *               shape's byte size; bool bytes must be 0 or 1)
 *   u32 input count, then u32 value indices (the values flagged INPUT, each once, model order)
 *   u32 output count, then u32 value indices (the values flagged OUTPUT, each once)
 *   u32 node count N, then N nodes, in a topological order:
 *     str name; str op type (non-empty); str domain
 *     u32 precision (av_precision the node computes in: a FusedConv's `precision` attribute,
         FP32 for every other node; the loader refuses a record that disagrees)
 *     u32 input count, i32 value indices (-1: an omitted optional input; every other one is a
 *         graph input, a constant or an output of an earlier node)
 *     u32 output count, i32 value indices (-1: omitted; each value produced once, never
 *         an input or a constant)
 *     u32 attribute count, then per attribute: str name; u32 type (av__attr_type), then
 *       FLOAT f32 | INT i64 | STRING str (may hold NULs) | FLOATS u32 n, f32[n] |
 *       INTS u32 n, i64[n] | STRINGS u32 n, str[n] | TENSOR u32 dtype, u32 rank, i64 shape[rank],
 *       u64 bytes, the bytes | GRAPH, UNDEFINED: nothing (the name and type are kept so the
 *       operator reports what it lacks)
 *   Nothing may follow the last node.
 *
 * Versioning: a plan is tied to the exact library version that built it (kernels and passes
 * change between versions) as well as to the format version; either mismatch, a target the
 * machine lacks, a bad checksum or any inconsistency is refused with a message that says to
 * rebuild the plan. A new field means a new format version. */
#ifndef AV_ENGINE_PLAN_FORMAT_H
#define AV_ENGINE_PLAN_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "autovoice/engine.h"
#include "graph/ir.h"

#define AV__PLAN_MAGIC "AVPLAN\x1a\n"
#define AV__PLAN_MAGIC_SIZE 8
#define AV__PLAN_FORMAT_VERSION 1u
#define AV__PLAN_HEADER_SIZE 256u
#define AV__PLAN_PREAMBLE_SIZE 48u
#define AV__PLAN_WEIGHT_ALIGN 64u
#define AV__PLAN_WEIGHT_PAD 64u
#define AV__PLAN_MAX_RANK 8

/* Byte offsets of the header fields. */
enum {
    AV__PLAN_OFF_MAGIC = 0,
    AV__PLAN_OFF_FORMAT = 8,
    AV__PLAN_OFF_HEADER_SIZE = 12,
    AV__PLAN_OFF_LIBRARY = 16,
    AV__PLAN_LIBRARY_SIZE = 32,
    AV__PLAN_OFF_FILE_SIZE = 48,
    AV__PLAN_OFF_CHECKSUM = 56,
    AV__PLAN_OFF_TARGET_KIND = 64,
    AV__PLAN_OFF_TARGET_ARCH = 68,
    AV__PLAN_OFF_CPU_NEEDED = 72,
    AV__PLAN_OFF_CPU_BUILT_ON = 80,
    AV__PLAN_OFF_META = 88,      /* offset, then size */
    AV__PLAN_OFF_GRAPH = 104,
    AV__PLAN_OFF_WEIGHTS = 120
};

typedef enum av__plan_target {
    AV__PLAN_TARGET_CPU_X86_64 = 1,
    AV__PLAN_TARGET_CUDA = 16     /* reserved: arch = compute capability * 10 */
} av__plan_target;

/* CPU features a plan may need, as cpuid reports them (GCC's __builtin_cpu_supports names). */
enum {
    AV__PLAN_CPU_SSE42 = 1u << 0,
    AV__PLAN_CPU_AVX2 = 1u << 1,
    AV__PLAN_CPU_FMA = 1u << 2,
    AV__PLAN_CPU_F16C = 1u << 3,
    AV__PLAN_CPU_AVX512F = 1u << 4,
    AV__PLAN_CPU_AVX512BW = 1u << 5,
    AV__PLAN_CPU_AVX512DQ = 1u << 6,
    AV__PLAN_CPU_AVX512VL = 1u << 7,
    AV__PLAN_CPU_AVX512_VNNI = 1u << 8,
    AV__PLAN_CPU_AVX512_BF16 = 1u << 9,
    AV__PLAN_CPU_KNOWN = (1u << 10) - 1
};

/* The features of this CPU (0 on other architectures), and their names separated by spaces
 * ("avx2 fma avx512f"; "none" for 0) into out. Thread-safe. */
uint64_t av__plan_cpu_features(void);
void av__plan_cpu_feature_names(uint64_t features, char *out, size_t size);

/* XXH64 (Yann Collet's xxHash, 64-bit variant; our implementation, checked against the
 * reference's test vectors in tests/c/test_plan.c). Streaming: init, update any number of
 * times, digest (the state stays usable). */
typedef struct av__xxh64 {
    uint64_t v[4];
    uint64_t total;
    unsigned char buf[32];
    unsigned buffered;
    uint64_t seed;
} av__xxh64;
void av__xxh64_init(av__xxh64 *h, uint64_t seed);
void av__xxh64_update(av__xxh64 *h, const void *data, size_t size);
uint64_t av__xxh64_digest(const av__xxh64 *h);
uint64_t av__xxh64_once(const void *data, size_t size, uint64_t seed);

/* The checksum a plan of `size` bytes should carry: XXH64 over data with the checksum field
 * read as zeros. size must be >= AV__PLAN_HEADER_SIZE. */
uint64_t av__plan_checksum(const uint8_t *data, size_t size);

/* The source record of an ONNX file: size, mtime and XXH64 of its bytes. */
typedef struct av__plan_source {
    uint64_t size;
    int64_t mtime_ns;
    uint64_t hash;
} av__plan_source;
av_status av__plan_source_stat(const char *path, av__plan_source *src, char *err,
                               size_t err_size);

/* What a loaded plan carries besides the graph; owned by the av_model (model->plan). */
typedef struct av__plan av__plan;

/* Loads the plan file at `path` (mapped read-only; weights used in place) into a new model.
 * Messages are prefixed "PATH: " and say how to rebuild a plan that cannot be used. */
av_status av__plan_load_file(const char *path, av_model **out, char *err, size_t err_size);
/* The same from memory (copied: the bytes are not referenced after the call). `name` stands for
 * the file in messages. */
av_status av__plan_load_memory(const void *data, size_t size, const char *name, av_model **out,
                               char *err, size_t err_size);

/* Releases a model's plan: detaches the constants of g that live in the mapping (so that
 * av__graph_free does not free them), then unmaps. g may be NULL. */
void av__plan_free(av__plan *plan, av__graph *g);

/* Profile check for graph input `input` (index into g->inputs) bound with this shape: OK when
 * the plan has no profile for it or the shape lies within [min, max]; otherwise
 * AV_STATUS_INVALID_ARGUMENT and a message naming the input, the shape and the range. */
av_status av__plan_check_input(const av__plan *plan, int input, const char *name, int ndim,
                               const int64_t *shape, char *err, size_t err_size);

/* 1 when `plan_path` is a plan this library can load (magic, format and library version,
 * target) built from the very file at `onnx_path` (same size and XXH64 of the bytes; the mtime
 * is recorded but not compared, so a copied package keeps its plans), else 0. Reads the plan's
 * header and meta section and the whole ONNX file; never fails loudly. */
int av__plan_is_fresh(const char *plan_path, const char *onnx_path);

/* 1 when the first bytes of a file (`size` of them) are a plan's magic. */
int av__plan_sniff(const void *data, size_t size);

#endif /* AV_ENGINE_PLAN_FORMAT_H */
