#!/usr/bin/python3
"""autovoice's CUDA backend against PyTorch on the same GPU, weights and inputs: the Python half of
bench/gpu.sh.

measure  reads the JSON of `autovoice bench --device cuda --precision fp32,tf32,fp16
         --save-tensors DIR --json OURS.json` and, for every component and length in it, runs the
         reference model of tools/autovoice_ref (the package's weights, rebuilt as bench/peers.py
         does) on the inputs saved there, on the GPU, in three ways:
           eager fp32        strict IEEE fp32 (TF32 off in cuBLAS and cuDNN): the accuracy reference
           autocast fp16     torch.autocast(float16)
           cuda_graph fp16   the same captured once in a CUDA graph and replayed
         each timed by CUDA events around the call (inputs already on the GPU, synchronised after
         each call, median of --repeat runs after --warmup), with cudnn.benchmark on. Every output
         (PyTorch's variants and each autovoice precision's, read from the saved tensors) gets
         `accuracy_vs_pytorch` against PyTorch fp32 eager: SNR dB and relative L2. --ort adds
         Python onnxruntime (CPU execution provider) on the vocoder at 1 s, for scale. Writes
         OUT.json: autovoice's document (docs/BENCH_SCHEMA.md) with the PyTorch and ONNX Runtime
         records added and a `gpu_compare` key (the machine, the versions, the table's rows), and
         prints the preset's table.
report   the markdown section of one or more measured files, printed; --write FILE replaces it
         between <!-- bench-gpu:begin --> and <!-- bench-gpu:end --> (appending a "GPU" section
         with the markers when they are missing).

--device cpu is a dry run on a machine without a GPU: OURS.json from `autovoice bench --device cpu`,
PyTorch fp32 eager on the CPU timed by perf_counter (the fp16 variants need CUDA and are skipped),
and the "GPU ms" columns hold wall-clock ms.

usage: bench/gpu_compare.py measure --ours OURS.json --out OUT.json [--device cuda|cpu]
                                    [--repeat N] [--warmup N] [--ort] [--bin PATH] [--command CMD]
       bench/gpu_compare.py report OUT.json [OUT.json ...] [--write docs/BENCHMARKS.md]
"""
import argparse
import ctypes
import math
import os
import platform
import re
import subprocess
import sys
import time

import numpy as np

import benchlib as bl

AV_PRECISIONS = ("fp32", "tf32", "fp16")
TORCH_VARIANTS = (("eager", "fp32"), ("autocast", "fp16"), ("cuda_graph", "fp16"))
VARIANT_LABEL = {"eager": "fp32 eager", "autocast": "fp16 autocast", "cuda_graph": "fp16 CUDA graph"}
MARKER = "bench-gpu"
TITLE = "## `autovoice bench`, GPU: the CUDA backend against PyTorch"


def fail(msg):
    print(f"gpu_compare: {msg}", file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def accuracy(ref, x):
    """benchlib's figures against PyTorch fp32, plus the relative L2 distance |x - ref| / |ref|
    (= 10^(-SNR/20))."""
    acc = bl.accuracy(ref, x, "pytorch fp32")
    if acc is None:
        return None
    snr = bl.snr_value(acc)
    acc["rel_l2"] = None if snr is None else 0.0 if snr == math.inf else (
        None if snr == -math.inf else 10 ** (-snr / 20))
    return acc


# ---- the machine ----------------------------------------------------------------------------------

def cuda_driver_version():
    """The CUDA version the driver supports ("13.0"), from libcuda; None without one."""
    try:
        lib = ctypes.CDLL("libcuda.so.1")
        v = ctypes.c_int()
        if lib.cuDriverGetVersion(ctypes.byref(v)) == 0:
            return f"{v.value // 1000}.{v.value % 1000 // 10}"
    except OSError:
        pass
    return None


def driver_version():
    try:
        p = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=30)
        if p.returncode == 0 and p.stdout.strip():
            return p.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        import pynvml
        pynvml.nvmlInit()
        v = pynvml.nvmlSystemGetDriverVersion()
        return v.decode() if isinstance(v, bytes) else v
    except Exception:  # noqa: BLE001 - any failure only means "unknown"
        return None


def cudnn_version(torch):
    v = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    if not v:
        return None
    major, rest = (v // 10000, v % 10000) if v >= 10000 else (v // 1000, v % 1000)
    return f"{major}.{rest // 100}.{rest % 100}"


def linked_libraries(binary):
    """{soname: resolved path} of the CUDA libraries `binary` loads (ldd), as the caller's
    LD_LIBRARY_PATH resolves them."""
    out = {}
    if not binary:
        return out
    try:
        p = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return out
    for line in p.stdout.splitlines():
        m = re.match(r"\s*(lib(?:cudnn|cublas|cublasLt|cudart)[^ ]*)\s*=>\s*(\S+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def environment(torch, device, binary):
    env = {"device": device, "cpu": bl.cpu_name(), "cpus_online": os.cpu_count(),
           "os": f"{platform.system()} {platform.release()} {platform.machine()}",
           "python": platform.python_version(), "pytorch": torch.__version__,
           "numpy": np.__version__, "autovoice_libraries": linked_libraries(binary)}
    if device == "cuda":
        prop = torch.cuda.get_device_properties(0)
        env.update(gpu=torch.cuda.get_device_name(0), gpu_capability=f"sm_{prop.major}{prop.minor}",
                   gpu_memory_mib=prop.total_memory >> 20, driver=driver_version(),
                   driver_cuda=cuda_driver_version(), pytorch_cuda=torch.version.cuda,
                   cudnn=cudnn_version(torch))
    return env


# ---- PyTorch --------------------------------------------------------------------------------------

def strict_fp32(torch):
    """fp32 means IEEE fp32: PyTorch lets cuDNN use TF32 for fp32 convolutions by default."""
    matmul, conv = torch.backends.cuda.matmul, getattr(torch.backends.cudnn, "conv", None)
    if hasattr(matmul, "fp32_precision"):  # PyTorch 2.9+, where the allow_tf32 flags are deprecated
        matmul.fp32_precision = "ieee"
    else:
        matmul.allow_tf32 = False
    if conv is not None and hasattr(conv, "fp32_precision"):
        conv.fp32_precision = "ieee"
    else:
        torch.backends.cudnn.allow_tf32 = False


def make_call(torch, g, xs, variant):
    """A no-argument callable running one variant of graph `g` on xs (on the GPU for the fp16
    variants); cuda_graph captures here, after three warm-up runs on a side stream."""
    if variant == "eager":
        return lambda: g(*xs)
    if variant == "autocast":
        def autocast():
            with torch.autocast("cuda", dtype=torch.float16):
                return g(*xs)
        return autocast

    def body():
        with torch.autocast("cuda", dtype=torch.float16, cache_enabled=False):
            return g(*xs)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            body()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = body()

    def replay():
        graph.replay()
        return static_out
    return replay


def time_call(torch, fn, device, warmup, repeat):
    """(wall ms per run, GPU ms per run by CUDA events or None on the CPU, last output)."""
    y = None
    for _ in range(warmup):
        y = fn()
    walls, gpus = [], []
    if device == "cuda":
        torch.cuda.synchronize()
        for _ in range(repeat):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            t = time.perf_counter()
            start.record()
            y = fn()
            end.record()
            end.synchronize()
            walls.append((time.perf_counter() - t) * 1e3)
            gpus.append(start.elapsed_time(end))
        return walls, gpus, y
    for _ in range(repeat):
        t = time.perf_counter()
        y = fn()
        walls.append((time.perf_counter() - t) * 1e3)
    return walls, None, y


def run_variant(torch, model, comp, xs, device, variant, warmup, repeat):
    """(wall ms, GPU ms or None, [outputs as float32 numpy], GPU peak bytes or None)."""
    from autovoice_ref.export import GRAPHS
    g = GRAPHS[comp](model).eval()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    with torch.no_grad():
        fn = make_call(torch, g, xs, variant)
        walls, gpus, y = time_call(torch, fn, device, warmup, repeat)
        ys = y if isinstance(y, (tuple, list)) else [y]
        ys = [t.float().cpu().numpy() for t in ys]
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else None
    del fn, y
    return walls, gpus, ys, peak


# ---- ONNX Runtime ---------------------------------------------------------------------------------

def run_ort_cpu(onnx_path, feeds, warmup, repeat, threads):
    """(wall ms, load ms, outputs) of Python onnxruntime's CPU execution provider."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t = time.perf_counter()
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    load_ms = (time.perf_counter() - t) * 1e3
    y = None
    for _ in range(warmup):
        y = sess.run(None, feeds)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        y = sess.run(None, feeds)
        times.append((time.perf_counter() - t) * 1e3)
    return times, load_ms, y


# ---- measure --------------------------------------------------------------------------------------

def save_outputs(d, names, arrays):
    os.makedirs(d, exist_ok=True)
    for n, a in zip(names, arrays):
        np.save(os.path.join(d, n + ".npy"), np.asarray(a, dtype=np.float32))


def torch_records(torch, model, doc, base, comp, xs, out_names, variants, device, warmup, repeat, new):
    """Runs each PyTorch variant of `comp` on xs, appends its record to `new` (a variant that fails
    goes to doc["skipped"]), saves its outputs beside autovoice's; returns ({output name: PyTorch
    fp32 eager output} or None, ["variant ms", ...])."""
    saved, secs = base["saved"], base["seconds"]
    ref, shown = None, []
    for variant, precision in variants:
        try:
            walls, gpus, ys, peak = run_variant(torch, model, comp, xs, device, variant, warmup, repeat)
        except RuntimeError as e:  # a variant this GPU or PyTorch cannot do: say so, go on
            if device == "cuda":
                torch.cuda.synchronize()
            doc["skipped"].append({"engine": "pytorch", "variant": variant, "component": comp,
                                   "precision": precision, "device": device, "reason": str(e)[:300]})
            log(f"  pytorch {variant} {comp} {secs:g} s: skipped ({str(e)[:120]})")
            continue
        if variant == "eager":
            ref = dict(zip(out_names, ys))
        tag = f"pytorch-{variant}-{precision}-{device}"
        save_outputs(os.path.join(saved, tag), out_names, ys)
        outs = []
        for n, y in zip(out_names, ys):
            ours = os.path.join(saved, "autovoice-fp32", n + ".npy")  # as bench/peers.py records it
            outs.append({"name": n, "dtype": "float32", "shape": list(y.shape),
                         "accuracy": bl.accuracy(np.load(ours), y, "autovoice fp32") if os.path.exists(ours) else None,
                         "accuracy_vs_pytorch": accuracy(ref[n], y) if ref and n in ref else None})
        rec = bl.peer_record(base, "pytorch", torch.__version__, device, precision, walls, None, outs,
                             os.path.join(saved, tag), torch.get_num_threads(), variant=variant,
                             gpu_peak=peak, warmup=warmup)
        if gpus is not None:
            rec["device_ms_p50"] = float(np.median(gpus))
            rec["device_ms"] = bl.latency(gpus)
        new.append(rec)
        shown.append(f"{variant} {rec.get('device_ms_p50', rec['latency_ms']['p50']):.3f}")
    return ref, shown


def measure(a):
    doc = bl.load_or_exit(a.ours, "gpu_compare")
    st = doc["settings"]
    ours_device = str(st["device"]).split(":")[0]
    if ours_device != a.device:
        fail(f"{a.ours} was measured on '{st['device']}', this run is --device {a.device}")
    pkg = st["model"]
    if not os.path.isdir(pkg):
        fail(f"{pkg}: PyTorch needs the model package directory autovoice bench ran on")
    ours = [r for r in doc["records"] if r["engine"] == "autovoice" and r["component"] in bl.COMPONENTS]
    if not ours:
        fail(f"{a.ours}: no component records (skipped: {doc['skipped']})")
    if not all(r.get("saved") for r in ours):
        fail(f"{a.ours}: run autovoice bench with --save-tensors: PyTorch needs its inputs")
    repeat = a.repeat or st["repeat"]
    warmup = st["warmup"] if a.warmup is None else a.warmup

    import torch
    import peers  # the package's weights in the reference model, as the CPU bench has them
    if a.device == "cuda":
        if not torch.cuda.is_available():
            fail("--device cuda: PyTorch sees no CUDA device")
        strict_fp32(torch)
        torch.backends.cudnn.benchmark = True
    else:
        torch.set_num_threads(os.cpu_count() or 1)
    model = peers.torch_model(pkg, None)
    for p in model.parameters():
        p.requires_grad_(False)
    if a.device == "cuda":
        model = model.cuda()
    from autovoice_ref.export import COMPONENTS

    env = environment(torch, a.device, a.bin)
    versions = doc["versions"]
    versions["pytorch"] = torch.__version__
    if a.device == "cuda":
        versions.update(cuda=torch.version.cuda, gpu=env["gpu"], cudnn=env["cudnn"])
    variants = TORCH_VARIANTS if a.device == "cuda" else TORCH_VARIANTS[:1]
    engines = ["pytorch", "onnxruntime"] if a.ort else ["pytorch"]
    doc.setdefault("peers", {})[a.device] = {"threads": torch.get_num_threads(), "repeat": repeat,
                                             "warmup": warmup, "engines": engines}
    if a.device == "cpu":
        for variant, precision in TORCH_VARIANTS[1:]:
            doc["skipped"].append({"engine": "pytorch", "variant": variant, "component": "all",
                                   "precision": precision, "device": a.device,
                                   "reason": "dry run on the CPU: this variant needs CUDA"})

    by_length = {}
    for r in ours:
        by_length.setdefault((r["component"], r["seconds"]), []).append(r)
    order = {c: i for i, c in enumerate(bl.COMPONENTS)}
    new = []
    t_start = time.perf_counter()
    for (comp, secs), recs in sorted(by_length.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        base = next((r for r in recs if r["precision"] == "fp32"), recs[0])
        saved = base["saved"]
        in_names, out_names, _ = COMPONENTS[comp]
        inputs = bl.read_npy_dir(os.path.join(saved, "inputs"))
        xs = [torch.from_numpy(inputs[n]) for n in in_names]
        if a.device == "cuda":
            xs = [x.cuda() for x in xs]
        ref, shown = torch_records(torch, model, doc, base, comp, xs, out_names, variants, a.device,
                                   warmup, repeat, new)
        for r in recs:  # each autovoice precision against PyTorch fp32
            for o in r["outputs"]:
                p = os.path.join(saved, f"autovoice-{r['precision']}", o["name"] + ".npy")
                if ref and o["name"] in ref and os.path.exists(p):
                    o["accuracy_vs_pytorch"] = accuracy(ref[o["name"]], np.load(p))
        snrs = ", ".join(f"{r['precision']} {fmt_snr(first(r))}" for r in recs)
        log(f"  {comp} {secs:g} s: pytorch ms {', '.join(shown)}; autovoice SNR dB vs pytorch fp32: {snrs}")
        snr32 = snr_float(first(base)) if base["precision"] == "fp32" else None
        if snr32 is not None and snr32 < 60:
            log(f"gpu_compare: warning: {comp} {secs:g} s: autovoice fp32 and PyTorch fp32 differ "
                f"({snr32:.1f} dB); are the weights the same?")
        if a.ort and comp == "vocoder" and secs == ort_seconds(by_length):
            new += measure_ort(doc, base, pkg, in_names, out_names, inputs, ref, warmup, repeat)
        del xs
    log(f"  pytorch: {time.perf_counter() - t_start:.0f} s")

    doc["records"].extend(new)
    doc["gpu_compare"] = {"device": a.device, "command": a.command, "repeat": repeat, "warmup": warmup,
                          "timing": ("CUDA events around each call" if a.device == "cuda"
                                     else "perf_counter around each call (dry run on the CPU)"),
                          "environment": env, "rows": summary_rows(doc)}
    bl.save(a.out, doc)
    print(preset_tables(doc))
    log(f"gpu_compare: wrote {a.out} ({len(new)} peer records)")


def ort_seconds(by_length):
    """The vocoder length ONNX Runtime runs at: 1 s, else the shortest measured."""
    secs = sorted(s for c, s in by_length if c == "vocoder")
    return 1 if 1 in secs else secs[0]


def measure_ort(doc, base, pkg, in_names, out_names, inputs, ref, warmup, repeat):
    threads = os.cpu_count() or 1
    try:
        import onnxruntime
        times, load_ms, ys = run_ort_cpu(os.path.join(pkg, "vocoder.onnx"),
                                         {n: inputs[n] for n in in_names}, warmup, repeat, threads)
    except Exception as e:  # noqa: BLE001 - missing package or a failed session: reported, not fatal
        why = f"{type(e).__name__}: {e}"[:300]
        doc["skipped"].append({"engine": "onnxruntime", "component": "vocoder", "precision": "fp32",
                               "device": "cpu", "reason": why})
        log(f"  onnxruntime vocoder: skipped ({why[:120]})")
        return []
    version = "onnxruntime " + onnxruntime.__version__
    doc["versions"]["onnxruntime"] = version
    tag = "onnxruntime-fp32-cpu"
    save_outputs(os.path.join(base["saved"], tag), out_names, ys)
    outs = [{"name": n, "dtype": "float32", "shape": list(np.shape(y)), "accuracy": None,
             "accuracy_vs_pytorch": accuracy(ref[n], y) if ref and n in ref else None}
            for n, y in zip(out_names, ys)]
    rec = bl.peer_record(base, "onnxruntime", version, "cpu", "fp32", times, load_ms, outs,
                         os.path.join(base["saved"], tag), threads, warmup=warmup)
    rec["provider"] = "CPUExecutionProvider"
    log(f"  onnxruntime (CPU, {threads} threads) vocoder {base['seconds']:g} s: p50 {rec['latency_ms']['p50']:.1f} ms")
    return [rec]


# ---- the table ------------------------------------------------------------------------------------

def first(r, key="accuracy_vs_pytorch"):
    return r["outputs"][0].get(key) if r.get("outputs") else None


def fmt_ms(v):
    return "-" if v is None else f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}" if v >= 1 else f"{v:.3f}"


def snr_float(v):
    """An SNR given as an accuracy dict, a number or "inf"/"-inf", as a float (or None)."""
    if v is None or isinstance(v, dict):
        return bl.snr_value(v)
    return float(v.replace("inf", "Infinity")) if isinstance(v, str) else float(v)


def fmt_snr(v):
    s = snr_float(v)
    return "-" if s is None else "inf" if s == math.inf else f"{s:.1f}"


def fmt_ratio(num, den):
    return "-" if num is None or not den else f"{num / den:.2f}"


def summary_rows(doc):
    """One row per component and length, then a `conversion` row per length (the sums of the five
    components): autovoice GPU and wall ms and SNR vs PyTorch per precision, PyTorch ms and SNR per
    variant, and the speedups."""
    dry = doc["settings"]["device"] == "cpu"
    cells = {}
    for r in doc["records"]:
        if r["component"] not in bl.COMPONENTS:
            continue
        row = cells.setdefault((r["component"], r["seconds"]), {"autovoice": {}, "pytorch": {}})
        acc = first(r)
        snr = bl.snr_value(acc)
        fig = {"snr_db": snr if snr is None or math.isfinite(snr) else ("inf" if snr > 0 else "-inf"),
               "rel_l2": acc.get("rel_l2") if acc else None, "nonfinite": acc.get("nonfinite") if acc else None,
               "wall_ms": r["latency_ms"]["p50"]}
        if r["engine"] == "autovoice":
            fig["gpu_ms"] = r.get("device_ms_p50") if not dry else r["latency_ms"]["p50"]
            row["autovoice"][r["precision"]] = fig
        elif r["engine"] == "pytorch":
            fig["ms"] = r.get("device_ms_p50", r["latency_ms"]["p50"])
            row["pytorch"][r["variant"]] = fig
    order = {c: i for i, c in enumerate(bl.COMPONENTS)}
    rows = []
    for secs in sorted({s for _, s in cells}):
        for comp in sorted((c for c, s in cells if s == secs), key=order.get):
            rows.append(with_speedups({"component": comp, "seconds": secs, **cells[(comp, secs)]}))
        parts = [cells.get((comp, secs)) for comp in bl.COMPONENTS]
        if any(p is None for p in parts):
            continue
        conv = {"component": "conversion", "seconds": secs, "autovoice": {}, "pytorch": {}}
        for engine, keys in (("autovoice", ("gpu_ms", "wall_ms")), ("pytorch", ("ms", "wall_ms"))):
            for name in {n for p in parts for n in p[engine]}:
                figs = [p[engine].get(name) for p in parts]
                total = {k: (sum(f[k] for f in figs) if all(f and f.get(k) is not None for f in figs) else None)
                         for k in keys}
                snrs = [bl.snr_value(f) if f else None for f in figs]
                total["snr_db"] = None if any(s is None for s in snrs) else min(snrs)  # the worst
                if total["snr_db"] == math.inf:
                    total["snr_db"] = "inf"
                total["rel_l2"] = None
                total["nonfinite"] = sum(f.get("nonfinite") or 0 for f in figs if f)
                conv[engine][name] = total
        rows.append(with_speedups(conv))
    return rows


def with_speedups(row):
    """best PyTorch ms / autovoice fp16 GPU ms, and / autovoice's best precision."""
    pt = [f["ms"] for f in row["pytorch"].values() if f.get("ms") is not None]
    av = {p: f["gpu_ms"] for p, f in row["autovoice"].items() if f.get("gpu_ms") is not None}
    best_pt = min(pt) if pt else None
    row["best_pytorch_ms"] = best_pt
    row["best_autovoice"] = min(av, key=av.get) if av else None
    row["speedup_vs_fp16"] = best_pt / av["fp16"] if best_pt and av.get("fp16") else None
    row["speedup_vs_best"] = best_pt / min(av.values()) if best_pt and av else None
    return row


def table(rows):
    cols = ["component", "audio"] + [f"av {p} GPU" for p in AV_PRECISIONS] + \
           [f"av {p} wall" for p in AV_PRECISIONS] + [f"PT {VARIANT_LABEL[v]}" for v, _ in TORCH_VARIANTS] + \
           ["best PT / av fp16", "best PT / av best", "av fp16 SNR dB"]
    lines = ["| " + " | ".join(cols) + " |", "|---|---|" + "---:|" * (len(cols) - 2)]
    for r in rows:
        av, pt = r["autovoice"], r["pytorch"]
        name = f"**{r['component']}**" if r["component"] == "conversion" else r["component"]
        cells = [name, f"{r['seconds']:g} s"]
        cells += [fmt_ms(av.get(p, {}).get("gpu_ms")) for p in AV_PRECISIONS]
        cells += [fmt_ms(av.get(p, {}).get("wall_ms")) for p in AV_PRECISIONS]
        cells += [fmt_ms(pt.get(v, {}).get("ms")) for v, _ in TORCH_VARIANTS]
        best = f" ({r['best_autovoice']})" if r["best_autovoice"] and r["speedup_vs_best"] else ""
        cells += [fmt_ratio(r["best_pytorch_ms"], av.get("fp16", {}).get("gpu_ms")),
                  fmt_ratio(r["speedup_vs_best"], 1) + best,
                  fmt_snr(av.get("fp16", {}).get("snr_db")) + nonfinite_note(av.get("fp16"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def accuracy_table(rows):
    names = [("autovoice", p, f"av {p}") for p in AV_PRECISIONS] + \
            [("pytorch", v, f"PT {VARIANT_LABEL[v]}") for v, _ in TORCH_VARIANTS[1:]]
    lines = ["| component | audio | " + " | ".join(n[2] for n in names) + " |",
             "|---|---|" + "---:|" * len(names)]
    for r in rows:
        if r["component"] == "conversion":
            continue
        cells = [r["component"], f"{r['seconds']:g} s"]
        for engine, key, _ in names:
            f = r[engine].get(key)
            if not f or f.get("snr_db") is None:
                cells.append("-")
            else:
                rel = f.get("rel_l2")
                cells.append(fmt_snr(bl.snr_value(f)) + (f" ({rel:.1e})" if rel is not None else "")
                             + nonfinite_note(f))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def nonfinite_note(fig):
    """What the SNR leaves out: positions where either output is NaN or infinite."""
    n = (fig or {}).get("nonfinite")
    return f" **{n} non-finite**" if n else ""


def ort_line(doc):
    r = next((r for r in doc["records"] if r["engine"] == "onnxruntime"), None)
    if not r:
        return None
    return (f"For scale, on the CPU: {r['engine_version']} (CPU execution provider, {r['threads']} threads) "
            f"runs the vocoder at {r['seconds']:g} s in {fmt_ms(r['latency_ms']['p50'])} ms (p50, wall; "
            f"SNR {fmt_snr(first(r))} dB against PyTorch fp32{nonfinite_note(first(r))}).")


def preset_tables(doc):
    """The tables of one measured file: its title, the latency table, the accuracy table, notes."""
    gc = doc["gpu_compare"]
    st = doc["settings"]
    from report import model_source
    parts = [f"### `{os.path.basename(os.path.normpath(st['model']))}` ({model_source(st['model'])})",
             table(gc["rows"]),
             "Accuracy against PyTorch fp32 eager on the same inputs, SNR dB (relative L2):",
             accuracy_table(gc["rows"])]
    ort = ort_line(doc)
    if ort:
        parts.append(ort)
    skipped = [s for s in doc["skipped"]]
    if skipped:
        parts.append("Skipped: " + "; ".join(
            " ".join(x for x in (s.get("engine", "autovoice"), s.get("variant", ""), s["precision"],
                                 s.get("component", ""), "on", s["device"]) if x) + f": {s['reason']}"
            for s in skipped[:10]) + ".")
    return "\n\n".join(parts)


# ---- report ---------------------------------------------------------------------------------------

def header(docs):
    d = docs[0]
    gc, v = d["gpu_compare"], d["versions"]
    env = gc["environment"]
    dry = gc["device"] == "cpu"
    libs = env.get("autovoice_libraries") or {}
    build = v.get("build", {})
    av = f"autovoice {v['autovoice']}"
    if build.get("cuda"):
        av += f" (CUDA backend {build['cuda']}"
        av += (f"; {', '.join(f'{k} from {os.path.dirname(p)}' for k, p in sorted(libs.items()))})"
               if libs else ")")
    if dry:
        machine = (f"**Dry run on the CPU** ({env['cpu']}, {env['cpus_online']} CPUs): no GPU; the \"GPU\" "
                   f"columns hold wall-clock ms, PyTorch ran fp32 eager only. Versions: {av}, PyTorch "
                   f"{env['pytorch']}.")
    else:
        machine = (f"GPU: {env['gpu']} ({env['gpu_capability']}, {env['gpu_memory_mib']} MiB), driver "
                   f"{env.get('driver') or 'unknown'} (CUDA {env.get('driver_cuda') or 'unknown'}). "
                   f"CPU: {env['cpu']} ({env['cpus_online']} CPUs). Versions: {av}; PyTorch {env['pytorch']} "
                   f"(CUDA {env['pytorch_cuda']}, cuDNN {env.get('cudnn') or 'unknown'}).")
    return (f"{machine} Date: {d['date'][:10]}. Command: `{gc['command']}`. Every time is the median of "
            f"{gc['repeat']} run{'s' if gc['repeat'] != 1 else ''} after {gc['warmup']} warm-up "
            f"run{'s' if gc['warmup'] != 1 else ''}, in ms, on the same weights "
            f"(`tools/export_onnx.py --random-init --seed 20261124`) and the same inputs, saved by "
            f"`autovoice bench --save-tensors`.")


def legend(dry):
    return ("*av* = autovoice on its plans (`autovoice build --package PKG --onednn`: fp32 plans whose convolutions are channels-last `FusedConv` nodes with bias, activations and residual adds fused; then `autovoice bench --plans --device cuda --precision fp32,tf32,fp16`), *PT* = PyTorch "
            "(the reference model of tools/autovoice_ref). *av GPU*: `device_ms_p50`, the GPU time of the "
            "model's nodes by CUDA events, without transfers; *av wall*: `latency_ms` p50, with the input "
            "upload, the output download and the synchronisation. *PT*: CUDA events around each call on "
            "inputs already on the GPU, synchronised after each call; fp32 eager is strict IEEE fp32 "
            "(TF32 off in cuBLAS and cuDNN), cudnn.benchmark on; fp16 autocast captured in a CUDA graph "
            "and replayed is PyTorch's fastest here. *best PT / av*: the fastest PyTorch variant's ms "
            "over autovoice fp16's GPU ms, and over autovoice's fastest precision (named); above 1 means "
            "autovoice is faster. *av fp16 SNR*: autovoice fp16's output against PyTorch fp32 eager. "
            "**conversion**: the five components summed at each length (the chained model; its SNR cell "
            "is the lowest of the five, its best PyTorch the fastest variant's sum); F0 tracking and "
            "resampling are CPU DSP outside this comparison, and the components ran on the same synthetic "
            "inputs, not on each other's outputs."
            + (" Dry run: the CPU bench has fp32 only, so tf32 and fp16 are skipped." if dry else ""))


PLOT_NAME = "bench-gpu-latency.png"


def plot_latency(docs, path):
    """Vocoder and whole-conversion GPU time per length, autovoice's precisions beside PyTorch's
    variants, one panel per preset and row kind (log scale: the lengths span 60x)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    kinds = ("vocoder", "conversion")
    fig, axes = plt.subplots(len(docs), len(kinds), figsize=(11, 3.6 * len(docs)), squeeze=False)
    series = [("autovoice", p, f"autovoice {p}") for p in AV_PRECISIONS] + \
             [("pytorch", v, f"PyTorch {VARIANT_LABEL[v]}") for v, _ in TORCH_VARIANTS]
    key = {"autovoice": "gpu_ms", "pytorch": "ms"}
    for i, doc in enumerate(docs):
        name = os.path.basename(os.path.normpath(doc["settings"]["model"]))
        for j, kind in enumerate(kinds):
            ax = axes[i][j]
            rows = [r for r in doc["gpu_compare"]["rows"] if r["component"] == kind]
            width = 0.8 / len(series)
            for k, (engine, name_k, label) in enumerate(series):
                xs, ys = [], []
                for n, r in enumerate(rows):
                    v = r[engine].get(name_k, {}).get(key[engine])
                    if v:
                        xs.append(n + (k - (len(series) - 1) / 2) * width)
                        ys.append(v)
                ax.bar(xs, ys, width, label=label, color=("C0", "C9", "C2", "C3", "C1", "C4")[k])
            ax.set_xticks(range(len(rows)))
            ax.set_xticklabels([f"{r['seconds']:g} s" for r in rows])
            ax.set_yscale("log")
            ax.set_ylabel("GPU ms (log)")
            ax.set_title(f"{name}: {kind}" + (" (5 components)" if kind == "conversion" else ""))
            ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def section(docs, plot=None):
    dry = docs[0]["gpu_compare"]["device"] == "cpu"
    parts = [header(docs), legend(dry)]
    if plot:
        parts.append(f"![GPU time of the vocoder and the whole conversion, autovoice and PyTorch]({plot})")
    return "\n\n".join(parts + [preset_tables(d) for d in docs])


def write_section(path, body):
    begin, end = f"<!-- {MARKER}:begin -->", f"<!-- {MARKER}:end -->"
    with open(path) as f:
        text = f.read()
    new = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: new, text, flags=re.S)
    else:
        text = text.rstrip("\n") + f"\n\n{TITLE}\n\n{new}\n"
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def report(a):
    docs = []
    for p in a.files:
        d = bl.load_or_exit(p, "gpu_compare")
        if "gpu_compare" not in d:
            fail(f"{p}: not measured by bench/gpu_compare.py")
        docs.append(d)
    devices = {d["gpu_compare"]["device"] for d in docs}
    if len(devices) > 1:
        fail(f"the files mix devices: {', '.join(sorted(devices))}")
    if a.write:
        if "cpu" in devices and not a.allow_dry_run:
            fail("--write takes GPU results; a dry run on the CPU is not written (--allow-dry-run to force)")
        img_dir = os.path.join(os.path.dirname(os.path.abspath(a.write)), "img")
        plot = None
        try:
            os.makedirs(img_dir, exist_ok=True)
            plot_latency(docs, os.path.join(img_dir, PLOT_NAME))
            plot = f"img/{PLOT_NAME}"
        except ImportError:
            log("gpu_compare: no matplotlib: the section goes without its plot")
        body = section(docs, plot)
        write_section(a.write, body)
        log(f"gpu_compare: regenerated the {MARKER} section of {a.write}")
    else:
        body = section(docs)
    print(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--ours", required=True, help="autovoice bench --json output, with --save-tensors")
    m.add_argument("--out", required=True)
    m.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    m.add_argument("--repeat", type=int, help="default: the bench's")
    m.add_argument("--warmup", type=int, help="default: the bench's")
    m.add_argument("--ort", action="store_true", help="Python onnxruntime (CPU) on the vocoder at 1 s")
    m.add_argument("--bin", help="the autovoice binary, for the CUDA libraries it loads")
    m.add_argument("--command", default="bench/gpu.sh", help="the command line to report")
    r = sub.add_parser("report")
    r.add_argument("files", nargs="+")
    r.add_argument("--write", help="the markdown file whose bench-gpu section to regenerate")
    r.add_argument("--allow-dry-run", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.cmd == "measure":
        if a.repeat is not None and a.repeat < 1:
            fail("--repeat must be at least 1")
        measure(a)
    else:
        report(a)


if __name__ == "__main__":
    main()
