#!/usr/bin/env bash
# `autovoice bench` with tiny settings on the fixture model package: exit codes, messages, the
# JSON schema (docs/BENCH_SCHEMA.md) and fp32-against-fp32 accuracy (identical outputs: SNR inf,
# correlation 1). No timing is asserted: speed is shown by benchmarks, not tests.
# usage: test_bench.sh AUTOVOICE_BINARY REPO_ROOT MODEL_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 model=$3 tmp=$4
py=/usr/bin/python3
rm -rf "$tmp"
mkdir -p "$tmp"
fails=0
ex=$root/examples/example-sung.wav
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

"$bin" bench --help >"$tmp/o" 2>"$tmp/e"
check "--help prints usage, options and examples" "[ $? -eq 0 ] && grep -q '^usage: autovoice bench' $tmp/o && grep -q '^examples:' $tmp/o && grep -q '^exit status:' $tmp/o && [ ! -s $tmp/e ]"

# every component and the pipeline, fp32 plus a precision this build cannot run yet
"$bin" bench --model "$model" --input "$ex" --seconds 0.5 --repeat 2 --warmup 1 --threads 1 \
  --precision fp32,bf16 --json "$tmp/b.json" --markdown "$tmp/b.md" --save-tensors "$tmp/t" \
  >"$tmp/o" 2>"$tmp/e"
rc=$?
check "a tiny run succeeds" "[ $rc -eq 0 ]"
[ $rc -eq 0 ] || cat "$tmp/e"
check "bf16 is said to be unavailable and skipped, not faked" "grep -q 'bf16 on cpu: not available in this build yet.*(skipped)' $tmp/e && ! grep -q ' bf16 ' $tmp/o"
check "one console line per component and the pipeline" "[ \$(grep -c ' fp32 .* 0.50 s: p50 ' $tmp/o) -eq 6 ] && grep -q 'stages (median s):' $tmp/o"
check "markdown tables" "grep -q '^| vocoder | fp32 | 0.50 |' $tmp/b.md && grep -q '^| pipeline | fp32 | 0.50 |' $tmp/b.md && grep -q 'Skipped: bf16 on cpu' $tmp/b.md"
$py - "$tmp/b.json" "$tmp/t" <<'PY'
import json, math, os, sys
doc = json.load(open(sys.argv[1]))
fails = []
def need(cond, what):
    if not cond:
        fails.append(what)
need(doc["schema"] == "autovoice-bench" and doc["schema_version"] == 1, "schema name and version")
for k in ("date", "command", "machine", "versions", "settings", "skipped", "records"):
    need(k in doc, f"top-level key {k}")
need(doc["command"].startswith("autovoice bench --model ") and "--precision fp32,bf16" in doc["command"], "command line as given")
m = doc["machine"]
need(isinstance(m["cpu"], str) and m["cpus_online"] >= 1 and m["memory_bytes"] > 0 and m["os"], "machine")
need(doc["versions"]["autovoice"] and "backends" in doc["versions"]["build"], "versions")
s = doc["settings"]
need(s["threads"] == 1 and s["repeat"] == 2 and s["warmup"] == 1 and s["seconds"] == [0.5], "settings")
need(s["precisions"] == ["fp32", "bf16"] and s["device"] == "cpu", "settings precisions")
need(s["components"] == ["content_encoder", "pitch_encoder", "flow_decoder", "mel_projection", "vocoder", "pipeline"], "components")
need([(k["precision"], k["device"]) for k in doc["skipped"]] == [("bf16", "cpu")] and
     "not available in this build yet" in doc["skipped"][0]["reason"], "skipped")
recs = doc["records"]
need(len(recs) == 6 and all(r["precision"] == "fp32" for r in recs), f"6 fp32 records, got {len(recs)}")
frames = {"content_encoder": 8000, "pitch_encoder": 50, "flow_decoder": 43, "mel_projection": 43, "vocoder": 43}
for r in recs:
    c = r["component"]
    need(r["engine"] == "autovoice" and r["device"] == "cpu" and r["threads"] == 1 and r["seconds"] == 0.5, f"{c}: identity")
    lat = r["latency_ms"]
    need(r["runs"] == 2 and r["warmup"] == 1, f"{c}: runs")
    need(0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"], f"{c}: percentiles ordered {lat}")
    need(abs(r["rtf"] * r["throughput"] - 1) < 1e-6, f"{c}: rtf = 1 / throughput")
    need(abs(r["rtf"] - lat["p50"] / 1e3 / r["audio_seconds"]) < 1e-6 * r["rtf"], f"{c}: rtf = p50 / audio")
    need(r["memory"]["rss_peak_bytes"] > 0 and r["load_ms"] >= 0, f"{c}: memory, load")
    for o in r["outputs"]:
        a = o["accuracy"]
        need(a is not None and a["reference"] == "autovoice fp32", f"{c}/{o['name']}: accuracy present")
        if a:
            need(a["snr_db"] == "inf" and a["pearson"] == 1 and a["max_abs"] == 0 and a["rmse"] == 0
                 and a["mean_abs"] == 0 and a["nonfinite"] == 0 and a["n"] == math.prod(o["shape"]),
                 f"{c}/{o['name']}: fp32 against fp32 reads SNR inf, correlation 1: {a}")
    if c == "pipeline":
        need(r["plan_ms"] is None and r["memory"]["arena_bytes"] is None and r["gflop"] is None, "pipeline: no plan facts")
        st = r["stages"]
        need(st["chunks"] == 1 and r["output_rate"] == 44100, "pipeline: chunks, rate")
        need(st["vocoder"] > 0 and st["total"] >= st["vocoder"] + st["flow"], f"pipeline: stages {st}")
        need(r["inputs"][0]["shape"] == [11025] and abs(r["outputs"][0]["shape"][0] - 22050) <= 1, "pipeline: 0.5 s in and out")
    else:
        need(r["memory"]["arena_bytes"] > 0 and r["plan_ms"] >= 0 and r["gflop"] >= 0 and "stages" not in r, f"{c}: plan facts")
        need(r["inputs"][0]["shape"][-1] == frames[c] and r["inputs"][0]["shape"][0] == 1, f"{c}: input length {r['inputs'][0]}")
    d = r["saved"]
    need(d and os.path.isdir(os.path.join(d, "inputs")) and os.path.isdir(os.path.join(d, "autovoice-fp32")), f"{c}: saved tensors in {d}")
for f in fails:
    print("  json:", f)
sys.exit(1 if fails else 0)
PY
check "JSON schema, fp32-vs-fp32 accuracy reads SNR inf and correlation 1" "[ $? -eq 0 ]"

# one component's file: the component comes from the file name
"$bin" bench --model "$model/vocoder.onnx" --seconds 0.1 --repeat 1 --warmup 0 --threads 1 >"$tmp/o" 2>"$tmp/e"
check "a single .onnx is benchmarked as the component it is named after" "[ $? -eq 0 ] && grep -q '^  vocoder ' $tmp/o && [ \$(grep -c ' s: p50 ' $tmp/o) -eq 1 ]"
cp "$model/vocoder.onnx" "$tmp/voc.onnx"
"$bin" bench --model "$tmp/voc.onnx" --seconds 0.1 --repeat 1 >"$tmp/o" 2>"$tmp/e"
check "an unnamed .onnx needs --component" "[ $? -eq 2 ] && grep -q 'say which component' $tmp/e"

# nothing runnable, bad options, missing files
"$bin" bench --model "$model" --precision int8 --seconds 0.1 >"$tmp/o" 2>"$tmp/e"
check "only unavailable precisions: nothing to measure, exit 1" "[ $? -eq 1 ] && grep -q 'int8 on cpu: not available' $tmp/e && grep -q 'nothing to measure' $tmp/e"
"$bin" bench --model "$model" --device cuda --seconds 0.1 >"$tmp/o" 2>"$tmp/e"
rc=$?
if "$bin" --version 2>/dev/null | grep -q "backends: cpu cuda"; then
  # a CUDA build: without a GPU the session's error names the device; with one, it measures
  check "--device cuda on a CUDA build: measured, or the GPU's absence named, exit 1" \
    "[ $rc -eq 0 ] || { [ $rc -eq 1 ] && grep -q 'cuda:0: no usable GPU' $tmp/e; }"
else
  check "--device cuda without the backend: skipped with the reason, exit 1" \
    "[ $rc -eq 1 ] && grep -q 'this build has no CUDA backend' $tmp/e"
fi
"$bin" bench --model "$model" --device gpu --seconds 0.1 >"$tmp/o" 2>"$tmp/e"
check "--device gpu: unknown device, exit 2" "[ $? -eq 2 ] && grep -q \"unknown device 'gpu'\" $tmp/e"
"$bin" bench --model "$model" --precision fp33 >"$tmp/o" 2>"$tmp/e"
check "unknown precision is a usage error" "[ $? -eq 2 ] && grep -q \"unknown precision 'fp33'\" $tmp/e"
"$bin" bench --model "$model" --seconds 0 >"$tmp/o" 2>"$tmp/e"
check "bad --seconds is a usage error" "[ $? -eq 2 ] && grep -q \"bad --seconds item '0'\" $tmp/e"
"$bin" bench --model "$model" --component decoder >"$tmp/o" 2>"$tmp/e"
check "unknown component is a usage error" "[ $? -eq 2 ] && grep -q \"unknown component 'decoder'\" $tmp/e"
"$bin" bench --model "$model" --repeat 0 >"$tmp/o" 2>"$tmp/e"
check "--repeat 0 is a usage error" "[ $? -eq 2 ] && grep -q \"option '--repeat'\" $tmp/e"
"$bin" bench --model "$tmp/nowhere" >"$tmp/o" 2>"$tmp/e"
check "missing model: exit 1 naming it" "[ $? -eq 1 ] && grep -q 'nowhere' $tmp/e"
"$bin" bench --model "$model" --component pipeline --seconds 0.1 --input "$tmp/none.wav" >"$tmp/o" 2>"$tmp/e"
check "missing pipeline input: exit 1 naming it" "[ $? -eq 1 ] && grep -q 'none.wav' $tmp/e"
"$bin" bench --model "$model" --component mel_projection --seconds 0.1 --repeat 1 --json "$tmp/no/such/dir/b.json" >"$tmp/o" 2>"$tmp/e"
check "unwritable --json: exit 1 naming it" "[ $? -eq 1 ] && grep -q 'b.json: cannot write' $tmp/e"

echo "test_bench: $fails failure(s)"
[ $fails -eq 0 ]
