#!/usr/bin/python3
"""The peers of `autovoice bench`, on the same weights, inputs and thread count: PyTorch (the
reference model of tools/autovoice_ref, rebuilt from the package's model.yaml: `random-init seed
N` packages are redrawn with autovoice_ref.init.random_init_, others need --checkpoint) and ONNX
Runtime (the package's own ONNX files).

It reads the JSON of `autovoice bench --save-tensors DIR --json OURS.json`, runs each peer on the
inputs saved there for every autovoice fp32 component record (the pipeline has no peer), and
writes ALL.json: autovoice's records plus one record per peer and variant, in the same layout
(docs/BENCH_SCHEMA.md). Every output gets two accuracy figures: `accuracy` against autovoice fp32
and `accuracy_vs_pytorch` against PyTorch fp32 (eager, CPU or GPU).

  --device cpu   PyTorch fp32 eager; ONNX Runtime fp32 through onnxruntime-node
                 (bench/ort_run.js; --node-modules DIR, default build/bench/node_modules)
  --device cuda  PyTorch fp32 eager, fp16 autocast and fp16 autocast in a CUDA graph; Python
                 onnxruntime with the CUDA execution provider (bench/run-gpu.sh)

usage: bench/peers.py --ours OURS.json --out ALL.json [--device cpu|cuda]
                      [--engines pytorch,onnxruntime] [--threads N] [--repeat N] [--warmup N]
                      [--checkpoint FILE] [--node-modules DIR] [--merge OTHER.json]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

import benchlib as bl


def fail(msg):
    print(f"peers: {msg}", file=sys.stderr)
    sys.exit(1)


def torch_model(pkg, checkpoint):
    """The PyTorch reference model with the package's weights, weight norm removed, eval mode."""
    import yaml
    sys.path.insert(0, bl.TOOLS)
    from autovoice_ref.init import random_init_
    from autovoice_ref.model import SVCModel
    from autovoice_ref.presets import get_preset
    with open(os.path.join(pkg, "model.yaml")) as f:
        meta = yaml.safe_load(f)
    source = str(meta.get("source", ""))
    seed = re.fullmatch(r"random-init seed (\d+)", source)
    if checkpoint:
        from autovoice_ref.checkpoint import load_checkpoint
        model = load_checkpoint(checkpoint, meta["preset"])
    elif seed:
        model = SVCModel(get_preset(meta["preset"]), meta["speakers"]["names"])
        random_init_(model, int(seed.group(1)))
    else:
        fail(f"{pkg}: weights from '{source}'; give --checkpoint FILE for the PyTorch peer")
    model.remove_weight_norm()
    return model.eval()


def save_outputs(saved, tag, names, arrays):
    d = os.path.join(saved, tag)
    os.makedirs(d, exist_ok=True)
    for n, a in zip(names, arrays):
        np.save(os.path.join(d, n + ".npy"), np.asarray(a, dtype=np.float32))


def outputs_with_accuracy(names, arrays, ours_out, torch_out):
    outs = []
    for n, a in zip(names, arrays):
        a = np.asarray(a, dtype=np.float32)
        o = {"name": n, "dtype": "float32", "shape": list(a.shape),
             "accuracy": bl.accuracy(ours_out[n], a, "autovoice fp32") if n in ours_out else None,
             "accuracy_vs_pytorch": (bl.accuracy(torch_out[n], a, "pytorch fp32")
                                     if torch_out and n in torch_out else None)}
        outs.append(o)
    return outs


# ---- PyTorch ------------------------------------------------------------------------------------

def torch_times(fn, warmup, repeat, sync=None):
    y = None
    for _ in range(warmup):
        y = fn()
    if sync:
        sync()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        y = fn()
        if sync:
            sync()
        times.append((time.perf_counter() - t) * 1e3)
    return times, y


def torch_variants(device):
    if device == "cpu":
        return [("eager", "fp32")]
    return [("eager", "fp32"), ("autocast", "fp16"), ("cuda_graph", "fp16")]


def run_torch(model, comp, xs, device, variant, warmup, repeat):
    """(times_ms, [outputs as float32 numpy], gpu peak bytes or None) of one variant."""
    import torch
    from autovoice_ref.export import GRAPHS
    g = GRAPHS[comp](model).eval()
    if device == "cpu":
        with torch.no_grad():
            times, y = torch_times(lambda: g(*xs), warmup, repeat)
        ys = y if isinstance(y, (tuple, list)) else [y]
        return times, [t.float().numpy() for t in ys], None
    xs = [x.cuda() for x in xs]
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    sync = torch.cuda.synchronize
    with torch.no_grad():
        if variant == "eager":
            times, y = torch_times(lambda: g(*xs), warmup, repeat, sync)
        elif variant == "autocast":
            def fn():
                with torch.autocast("cuda", dtype=torch.float16):
                    return g(*xs)
            times, y = torch_times(fn, warmup, repeat, sync)
        else:  # fp16 autocast captured in a CUDA graph, replayed
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
            times, y = torch_times(replay, warmup, repeat, sync)
    ys = y if isinstance(y, (tuple, list)) else [y]
    return times, [t.float().cpu().numpy() for t in ys], torch.cuda.max_memory_allocated()


# ---- ONNX Runtime -------------------------------------------------------------------------------

def run_ort_node(onnx_path, inputs_dir, names, out_path, a):
    cmd = ["node", os.path.join(bl.REPO, "bench", "ort_run.js"), onnx_path]
    cmd += [f"{n}={os.path.join(inputs_dir, n + '.npy')}" for n in names]
    cmd += ["--threads", str(a.threads), "--repeat", str(a.repeat), "--warmup", str(a.warmup),
            "--out", out_path]
    env = dict(os.environ, NODE_PATH=os.path.abspath(a.node_modules))
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"onnxruntime-node on {onnx_path}: {p.stderr.strip()}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    return res["times_ms"], res["load_ms"], res["max_rss_kib"] * 1024


def ort_node_version(node_modules):
    try:
        with open(os.path.join(node_modules, "onnxruntime-node", "package.json")) as f:
            return "onnxruntime-node " + json.load(f)["version"]
    except OSError:
        return None


def run_ort_python(onnx_path, feeds, a):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t = time.perf_counter()
    sess = ort.InferenceSession(onnx_path, so, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    load_ms = (time.perf_counter() - t) * 1e3
    if sess.get_providers()[0] != "CUDAExecutionProvider":
        return None, f"CUDAExecutionProvider not available (providers: {sess.get_providers()})"
    y = None
    for _ in range(a.warmup):
        y = sess.run(None, feeds)
    times = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        y = sess.run(None, feeds)  # host inputs and outputs: copies included
        times.append((time.perf_counter() - t) * 1e3)
    return (times, load_ms, y), None


# ---- the run ------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--engines", default="pytorch,onnxruntime")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--repeat", type=int)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--checkpoint")
    ap.add_argument("--node-modules", default=os.path.join(bl.REPO, "build", "bench", "node_modules"))
    ap.add_argument("--merge", action="append", default=[],
                    help="another autovoice bench JSON whose records join the output (autovoice on CUDA)")
    a = ap.parse_args()
    doc = bl.load_or_exit(a.ours, "peers")
    st = doc["settings"]
    a.threads = a.threads or st["threads"]
    a.repeat = a.repeat or st["repeat"]
    a.warmup = st["warmup"] if a.warmup is None else a.warmup
    engines = a.engines.split(",")
    pkg = st["model"]
    if not os.path.isdir(pkg):
        fail(f"{pkg}: the peers need the model package directory autovoice bench ran on")

    import torch
    torch.set_num_threads(a.threads)
    model = torch_model(pkg, a.checkpoint)
    if a.device == "cuda":
        if not torch.cuda.is_available():
            fail("--device cuda: PyTorch sees no CUDA device")
        model = model.cuda()
    from autovoice_ref.export import COMPONENTS
    versions = doc["versions"]
    versions["pytorch"] = torch.__version__
    if a.device == "cuda":
        versions["cuda"] = torch.version.cuda
        versions["gpu"] = torch.cuda.get_device_name(0)
    if "onnxruntime" in engines:
        if a.device == "cpu":
            versions["onnxruntime"] = ort_node_version(a.node_modules)
            if not versions["onnxruntime"]:
                fail(f"onnxruntime-node is not installed under {a.node_modules} (bench/run-all.sh installs it)")
        else:
            import onnxruntime
            versions["onnxruntime"] = "onnxruntime " + onnxruntime.__version__
    doc.setdefault("peers", {})[a.device] = {"threads": a.threads, "repeat": a.repeat,
                                             "warmup": a.warmup, "engines": engines}

    new = []
    for ours in [r for r in doc["records"] if r["engine"] == "autovoice" and r["precision"] == "fp32"
                 and r["component"] in bl.COMPONENTS and r.get("saved")]:
        comp, saved = ours["component"], ours["saved"]
        in_names, out_names, _ = COMPONENTS[comp]
        inputs = bl.read_npy_dir(os.path.join(saved, "inputs"))
        ours_out = bl.read_npy_dir(os.path.join(saved, "autovoice-fp32"))
        xs = [torch.from_numpy(inputs[n]) for n in in_names]
        label = f"{comp} {ours['seconds']:g} s"
        torch_ref = None
        if "pytorch" in engines:
            for variant, precision in torch_variants(a.device):
                try:
                    times, ys, gpu_peak = run_torch(model, comp, xs, a.device, variant, a.warmup, a.repeat)
                except RuntimeError as e:  # a variant this GPU or PyTorch cannot do
                    doc["skipped"].append({"engine": "pytorch", "variant": variant, "component": comp,
                                           "precision": precision, "device": a.device, "reason": str(e)[:300]})
                    print(f"  pytorch {variant} {label}: skipped ({str(e)[:120]})", file=sys.stderr)
                    continue
                if variant == "eager":
                    torch_ref = dict(zip(out_names, ys))
                tag = f"pytorch-{variant}-{precision}-{a.device}"
                save_outputs(saved, tag, out_names, ys)
                rec = bl.peer_record(ours, "pytorch", torch.__version__, a.device, precision, times,
                                     None, outputs_with_accuracy(out_names, ys, ours_out, torch_ref),
                                     os.path.join(saved, tag), a.threads, variant=variant,
                                     gpu_peak=gpu_peak, warmup=a.warmup)
                new.append(rec)
                print(f"  pytorch {variant} {precision} {label}: p50 {rec['latency_ms']['p50']:.2f} ms")
        if "onnxruntime" in engines:
            onnx_path = os.path.join(pkg, comp + ".onnx")
            tag = f"onnxruntime-fp32-{a.device}"
            os.makedirs(os.path.join(saved, tag), exist_ok=True)
            if a.device == "cpu":
                out_path = os.path.join(saved, tag, out_names[0] + ".npy")
                times, load_ms, rss = run_ort_node(onnx_path, os.path.join(saved, "inputs"),
                                                   in_names, out_path, a)
                ys = [np.load(out_path)]
            else:
                res, why = run_ort_python(onnx_path, {n: inputs[n] for n in in_names}, a)
                if why:
                    doc["skipped"].append({"engine": "onnxruntime", "component": comp,
                                           "precision": "fp32", "device": a.device, "reason": why})
                    print(f"  onnxruntime {label}: skipped ({why})", file=sys.stderr)
                    continue
                times, load_ms, ys = res
                rss = None
                save_outputs(saved, tag, out_names, ys)
            rec = bl.peer_record(ours, "onnxruntime", versions["onnxruntime"], a.device, "fp32",
                                 times, load_ms, outputs_with_accuracy(out_names[:len(ys)], ys,
                                                                       ours_out, torch_ref),
                                 os.path.join(saved, tag), a.threads, rss=rss, warmup=a.warmup)
            new.append(rec)
            print(f"  onnxruntime fp32 {label}: p50 {rec['latency_ms']['p50']:.2f} ms")
        if torch_ref and a.device == "cpu":  # autovoice against PyTorch fp32
            for o in ours["outputs"]:
                if o["name"] in torch_ref:
                    o["accuracy_vs_pytorch"] = bl.accuracy(torch_ref[o["name"]], ours_out[o["name"]],
                                                           "pytorch fp32")
                    snr = bl.snr_value(o["accuracy_vs_pytorch"])
                    if snr is not None and snr < 60:
                        print(f"peers: warning: {label}: autovoice and PyTorch differ ({snr:.1f} dB); "
                              "are the weights the same?", file=sys.stderr)
    doc["records"].extend(new)
    for path in a.merge:
        other = bl.load_or_exit(path, "peers")
        doc["records"].extend(other["records"])
        doc["skipped"].extend(other["skipped"])
    bl.save(a.out, doc)
    print(f"peers: wrote {a.out} ({len(new)} peer records)")


if __name__ == "__main__":
    main()
