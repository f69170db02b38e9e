#!/usr/bin/env bash
# `autovoice bench` with tiny settings on the fixture model package: exit codes, messages, the
# JSON schema (docs/BENCH_SCHEMA.md), fp32-against-fp32 accuracy (identical outputs: SNR inf,
# correlation 1), the bf16 and int8 plans the bench builds (or their skip on a CPU without
# AVX512-BF16 / VNNI), and a plan file measured as it is. No timing is asserted: speed is shown by
# benchmarks, not tests.
# usage: test_bench.sh AUTOVOICE_BINARY REPO_ROOT MODEL_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 model=$3 tmp=$4
py=/usr/bin/python3
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp" || exit 1 # no config/model_config.yaml here: the plans' settings do not depend on it
fails=0
ex=$root/examples/example-sung.wav
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }
# bf16 and int8 plans need AVX-512 with BF16 and VNNI (this machine and CI have them)
features=$("$bin" --version | grep '^cpu features:')
reduced=0
case $features in *avx512f*avx512vnni*avx512bf16*) reduced=1 ;; esac

"$bin" bench --help >"$tmp/o" 2>"$tmp/e"
check "--help prints usage, options and examples" "[ $? -eq 0 ] && grep -q '^usage: autovoice bench' $tmp/o && grep -q '^examples:' $tmp/o && grep -q '^exit status:' $tmp/o && [ ! -s $tmp/e ]"
check "--help says how bf16 and int8 are built and calibrated" "grep -q 'int8 is calibrated on one batch' $tmp/o && grep -q 'build_ms' $tmp/o"

# every component and the pipeline in fp32, bf16 and int8
"$bin" bench --model "$model" --input "$ex" --seconds 0.5 --repeat 2 --warmup 1 --threads 1 \
  --precision fp32,bf16,int8 --json "$tmp/b.json" --markdown "$tmp/b.md" --save-tensors "$tmp/t" \
  >"$tmp/o" 2>"$tmp/e"
rc=$?
check "a tiny run succeeds" "[ $rc -eq 0 ]"
[ $rc -eq 0 ] || cat "$tmp/e"
check "one fp32 console line per component and the pipeline" "[ \$(grep -c ' fp32 .* 0.50 s: p50 ' $tmp/o) -eq 6 ] && grep -q 'stages (median s):' $tmp/o"
check "markdown tables" "grep -q '^| vocoder | fp32 | 0.50 |' $tmp/b.md && grep -q '^| pipeline | fp32 | 0.50 |' $tmp/b.md && grep -q '| build ms |' $tmp/b.md"
if [ $reduced = 1 ]; then
  check "bf16 and int8: plans built, then measured (components and pipeline)" \
    "[ \$(grep -c ' \(bf16\|int8\) .* 0.50 s: p50 .*, build [0-9]* ms' $tmp/o) -eq 12 ] && [ \$(grep -c 'plan built in' $tmp/o) -eq 20 ] && ! grep -q skipped $tmp/e"
  check "markdown rows of the plans, with their build time" "grep -q '^| vocoder | int8 | 0.50 |.*| [0-9][0-9]* | [0-9.]* |' $tmp/b.md && ! grep -q 'Skipped' $tmp/b.md"
else
  check "bf16 and int8 are said to need the CPU features, and skipped, not faked" \
    "grep -q 'bf16 on cpu: this CPU lacks AVX512-BF16.*(skipped)' $tmp/e && grep -q 'int8 on cpu: this CPU lacks AVX512-VNNI.*(skipped)' $tmp/e && ! grep -q ' bf16 \| int8 ' $tmp/o"
fi
$py - "$tmp/b.json" "$reduced" "$model" <<'PY'
import json, math, os, sys
doc = json.load(open(sys.argv[1]))
reduced, model = sys.argv[2] == "1", sys.argv[3]
fails = []
def need(cond, what):
    if not cond:
        fails.append(what)
need(doc["schema"] == "autovoice-bench" and doc["schema_version"] == 1, "schema name and version")
for k in ("date", "command", "machine", "versions", "settings", "skipped", "records"):
    need(k in doc, f"top-level key {k}")
need(doc["command"].startswith("autovoice bench --model ") and "--precision fp32,bf16,int8" in doc["command"], "command line as given")
m = doc["machine"]
need(isinstance(m["cpu"], str) and m["cpus_online"] >= 1 and m["memory_bytes"] > 0 and m["os"], "machine")
need(doc["versions"]["autovoice"] and "backends" in doc["versions"]["build"], "versions")
s = doc["settings"]
need(s["threads"] == 1 and s["repeat"] == 2 and s["warmup"] == 1 and s["seconds"] == [0.5], "settings")
need(s["precisions"] == ["fp32", "bf16", "int8"] and s["device"] == "cpu", "settings precisions")
comps = ["content_encoder", "pitch_encoder", "flow_decoder", "mel_projection", "vocoder"]
need(s["components"] == comps + ["pipeline"], "components")
precisions = ["fp32", "bf16", "int8"] if reduced else ["fp32"]
if reduced:
    need(doc["skipped"] == [], f"nothing skipped: {doc['skipped']}")
else:
    need([(k["precision"], k["device"]) for k in doc["skipped"]] == [("bf16", "cpu"), ("int8", "cpu")] and
         all("this CPU lacks" in k["reason"] for k in doc["skipped"]), "bf16 and int8 skipped")
recs = doc["records"]
need(sorted((r["component"], r["precision"]) for r in recs) == sorted((c, p) for c in comps + ["pipeline"] for p in precisions),
     f"one record per component and precision, got {[(r['component'], r['precision']) for r in recs]}")
frames = {"content_encoder": 8000, "pitch_encoder": 50, "flow_decoder": 43, "mel_projection": 43, "vocoder": 43}
for r in recs:
    c, p = r["component"], r["precision"]
    need(r["fallbacks"] == [], f"{c} {p}: no fallback to an ONNX file: {r['fallbacks']}")
    need(r["reference_model"] == (model if c == "pipeline" else os.path.join(model, c + ".onnx")), f"{c} {p}: reference model {r['reference_model']}")
    if p != "fp32":  # a plan the bench built: its build time, what it holds, accuracy against fp32
        need(isinstance(r["build_ms"], (int, float)) and r["build_ms"] > 0, f"{c} {p}: build_ms {r['build_ms']}")
        plans = r["plans"]
        need([q["component"] for q in plans] == (comps if c == "pipeline" else [c]), f"{c} {p}: plans {plans}")
        for q in plans:
            need(q["precision"] == p and q["file"] is None and sum(q["nodes"].values()) > 0, f"{c} {p}: plan {q}")
            need((q["calibration"] is not None and "0.5 s" in q["calibration"]) == (p == "int8"), f"{c} {p}: calibration {q['calibration']}")
            if q["component"] in ("vocoder", "flow_decoder"):  # convolutions: in the precision asked
                need(q["nodes"][p] > 0, f"{c} {p}: {q['component']} has {p} nodes: {q['nodes']}")
        for o in r["outputs"]:
            a = o["accuracy"]
            need(a is not None and a["reference"] == "autovoice fp32" and a["n"] == math.prod(o["shape"]) and a["nonfinite"] == 0, f"{c} {p}/{o['name']}: accuracy {a}")
            if a:  # not the fp32 outputs, but not garbage either
                snr = math.inf if a["snr_db"] == "inf" else a["snr_db"]
                need(snr > 5 and a["pearson"] > 0.8, f"{c} {p}/{o['name']}: SNR {snr}, correlation {a['pearson']}")
        need(os.path.isdir(os.path.join(r["saved"], "autovoice-" + p)), f"{c} {p}: saved outputs")
        continue
    need(r["build_ms"] is None and r["plans"] == [], f"{c}: fp32 runs the ONNX graph, nothing built")
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

# a plan file, measured as built under its own precision, against the ONNX file it was built from
plan_precision=fp32
[ $reduced = 1 ] && plan_precision=int8
cp "$model/vocoder.onnx" "$tmp/vocoder.onnx"
"$bin" build "$tmp/vocoder.onnx" -o "$tmp/voc-$plan_precision.plan" --precision $plan_precision \
  --shape mel_input:1x80x1/1x80x9/1x80x20 --threads 1 >"$tmp/o" 2>"$tmp/e"
check "the vocoder built as a plan ($plan_precision) to measure" "[ $? -eq 0 ]"
"$bin" bench --model "$tmp/voc-$plan_precision.plan" --seconds 0.1,0.2 --repeat 1 --warmup 0 --threads 1 \
  --json "$tmp/p.json" >"$tmp/o" 2>"$tmp/e"
check "a plan not named after its component: the component it records" "[ $? -eq 0 ] && [ \$(grep -c '^  vocoder  *$plan_precision  *0.[12]0 s: p50 ' $tmp/o) -eq 2 ] && ! grep -q 'plan built' $tmp/o"
$py - "$tmp/p.json" "$plan_precision" "$tmp" <<'PY'
import json, math, sys
doc = json.load(open(sys.argv[1]))
p, tmp = sys.argv[2], sys.argv[3]
fails = []
recs = doc["records"]
if len(recs) != 2:
    fails.append(f"2 records, got {len(recs)}")
for r in recs:
    q = r["plans"][0] if len(r["plans"]) == 1 else {}
    if not (r["component"] == "vocoder" and r["precision"] == p and r["build_ms"] is None):
        fails.append(f"record {r['component']} {r['precision']} build_ms {r['build_ms']}")
    if not (q.get("file") == f"{tmp}/voc-{p}.plan" and q.get("precision") == p and q.get("calibration") is None and q.get("nodes", {}).get(p, 0) > 0):
        fails.append(f"plan {q}")
    a = r["outputs"][0]["accuracy"]
    if r["reference_model"] != f"{tmp}/vocoder.onnx" or not a or a["n"] != math.prod(r["outputs"][0]["shape"]):
        fails.append(f"reference {r['reference_model']}, accuracy {a}")
    elif p == "int8" and not (a["snr_db"] != "inf" and 10 < a["snr_db"] < 80 and a["pearson"] > 0.9):
        fails.append(f"int8 against fp32: {a}")
    elif p == "fp32" and a["snr_db"] != "inf":
        fails.append(f"an fp32 plan against its ONNX file: {a}")
for f in fails:
    print("  plan json:", f)
sys.exit(1 if fails else 0)
PY
check "the plan's record: its precision and layers, no build time, accuracy against its ONNX file" "[ $? -eq 0 ]"
cp "$tmp/voc-$plan_precision.plan" "$tmp/vocoder.plan"
"$bin" bench --model "$tmp/vocoder.plan" --seconds 0.1 --repeat 1 --warmup 0 --threads 1 --precision fp32,bf16 >"$tmp/o" 2>"$tmp/e"
check "a plan named after its component; --precision does not apply to it" "[ $? -eq 0 ] && [ \$(grep -c ' s: p50 ' $tmp/o) -eq 1 ] && grep -q '^  vocoder  *$plan_precision ' $tmp/o && grep -q 'plans run as built' $tmp/e"
touch -d '2001-01-01' "$tmp/vocoder.onnx"
"$bin" bench --model "$tmp/vocoder.plan" --seconds 0.1 --repeat 1 --warmup 0 --threads 1 --json "$tmp/q.json" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $plan_precision = fp32 ]; then
  check "an fp32 plan whose ONNX file changed: against itself" "[ $rc -eq 0 ] && $py -c 'import json,sys; r=json.load(open(sys.argv[1]))[\"records\"][0]; sys.exit(not (r[\"reference_model\"].endswith(\"vocoder.plan\") and r[\"outputs\"][0][\"accuracy\"][\"snr_db\"] == \"inf\"))' $tmp/q.json"
else
  check "a plan whose ONNX file changed: measured, said to have no reference, no accuracy" "[ $rc -eq 0 ] && grep -q 'not there unchanged: no accuracy figures' $tmp/e && $py -c 'import json,sys; r=json.load(open(sys.argv[1]))[\"records\"][0]; sys.exit(not (r[\"reference_model\"] is None and r[\"outputs\"][0][\"accuracy\"] is None))' $tmp/q.json"
fi

if [ $reduced = 1 ]; then
  # the pipeline's plans follow the package's profiles: a vocoder profile shorter than the chunk
  # makes the converter run vocoder.onnx instead, and the record says so
  mkdir -p "$tmp/narrow"
  for f in "$model"/*; do ln -s "$f" "$tmp/narrow/"; done
  rm "$tmp/narrow/model.yaml"
  { cat "$model/model.yaml"; printf 'tensorrt:\n  voice_conversion:\n    dynamic_shapes:\n      vocoder:\n        mel_input: {min: [1, 80, 1], opt: [1, 80, 8], max: [1, 80, 16]}\n'; } >"$tmp/narrow/model.yaml"
  "$bin" bench --model "$tmp/narrow" --component pipeline --input "$ex" --seconds 0.5 --repeat 1 --warmup 0 \
    --threads 1 --precision bf16 --json "$tmp/n.json" >"$tmp/o" 2>"$tmp/e"
  check "a pipeline component that ran its ONNX file instead of its plan is in the record" \
    "[ $? -eq 0 ] && grep -q \"vocoder: input shapes outside the plan's profiles; running $tmp/narrow/vocoder.onnx instead\" $tmp/e && $py -c 'import json,sys; r=json.load(open(sys.argv[1]))[\"records\"][0]; sys.exit(not (len(r[\"fallbacks\"]) == 1 and \"vocoder.onnx instead\" in r[\"fallbacks\"][0] and len(r[\"plans\"]) == 5))' $tmp/n.json"
fi

# nothing runnable, bad options, missing files
"$bin" bench --model "$model" --precision fp16 --seconds 0.1 >"$tmp/o" 2>"$tmp/e"
check "only unavailable precisions: nothing to measure, exit 1" "[ $? -eq 1 ] && grep -q 'fp16 on cpu: no fp16 kernels on the CPU' $tmp/e && grep -q 'nothing to measure' $tmp/e"
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
