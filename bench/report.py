#!/usr/bin/python3
"""Tables and plots from the JSON of bench/run-all.sh (CPU) or bench/run-gpu.sh (GPU): a markdown
section for docs/BENCHMARKS.md, a latency chart per engine and variant, and a spectrogram
triptych (fp32 / other / difference).

usage: bench/report.py ALL.json [--device cpu|cuda] [--command CMD] [--write docs/BENCHMARKS.md]
                       [--img-dir docs/img] [--note TEXT]
Prints the section; with --write, replaces it between the markers <!-- bench:begin --> and
<!-- bench:end --> (<!-- bench-gpu:... --> for --device cuda), appending the section when the
markers are missing; other sections are left alone. Plots need python3-matplotlib."""
import argparse
import math
import os
import re
import sys

import numpy as np

import benchlib as bl

ORDER = {"autovoice": 0, "onnxruntime": 1, "pytorch": 2}
NAMES = {"autovoice": "autovoice", "onnxruntime": "ONNX Runtime", "pytorch": "PyTorch"}
VARIANTS = {"": "", "eager": "", "autocast": " autocast", "cuda_graph": " CUDA graph"}


def series_key(r):
    return (r["engine"], r.get("variant", ""), r["precision"])


def series_label(s):
    engine, variant, precision = s
    return f"{NAMES.get(engine, engine)} {precision}{VARIANTS.get(variant, ' ' + variant)}"


def fmt_ms(v):
    return "-" if v is None else f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}" if v >= 1 else f"{v:.3f}"


def fmt_snr(acc):
    s = bl.snr_value(acc)
    return "-" if s is None else ("inf" if math.isinf(s) and s > 0 else f"{s:.1f}")


def first_accuracy(r, key):
    return r["outputs"][0].get(key) if r["outputs"] else None


def header(doc, device, command):
    m, v, st = doc["machine"], doc["versions"], doc["settings"]
    peers = doc.get("peers", {}).get(device, {})
    vers = [f"autovoice {v['autovoice']}"]
    for k in ("onnxruntime", "pytorch"):
        if v.get(k):
            vers.append(v[k] if k == "onnxruntime" else f"PyTorch {v[k]}")
    if device == "cuda" and v.get("gpu"):
        vers.append(f"CUDA {v.get('cuda')}, {v['gpu']}")
    threads = peers.get("threads", st["threads"])
    repeat, warmup = st["repeat"], st["warmup"]
    if device == "cuda":  # autovoice's CPU pass there only saved the inputs; the peers are timed
        repeat, warmup = peers.get("repeat", repeat), peers.get("warmup", warmup)
    return (f"Model: `{os.path.basename(os.path.normpath(st['model']))}` "
            f"({model_source(st['model'])}). Machine: {m['cpu']} ({m['cpus_online']} CPUs online), "
            f"{m['os']}; {threads} thread{'s' if threads != 1 else ''}. Versions: {', '.join(vers)}; "
            f"OPENBLAS_CORETYPE={m.get('openblas_coretype') or 'unset'}. Date: {doc['date'][:10]}. "
            f"Command: `{command}`. Latency: p50 over {repeat} runs after {warmup} "
            f"warm-up, in ms. Everything ran in one go on the same inputs, saved by "
            f"`autovoice bench --save-tensors`.")


def model_source(pkg):
    """"preset P, SOURCE" from the package's model.yaml (a relative path as the bench saw it, from
    the repository root where bench/run-all.sh runs it)."""
    if not os.path.isabs(pkg) and not os.path.isdir(pkg):
        pkg = os.path.join(bl.REPO, pkg)
    try:
        with open(os.path.join(pkg, "model.yaml")) as f:
            text = f.read()
        preset = re.search(r"^preset: *(\S+)", text, re.M)
        source = re.search(r"^source: *(.+)$", text, re.M)
        return f"preset {preset.group(1)}, {source.group(1).strip()}" if preset and source else "model package"
    except OSError:
        return "model package"


def peer_table(doc, device):
    """Per component and length: p50 of each engine/variant, ratios to autovoice fp32 of this
    device, and the SNR of each against PyTorch fp32."""
    recs = [r for r in doc["records"] if r["component"] in bl.COMPONENTS and
            (r["device"] == device or (device == "cuda" and r["engine"] == "autovoice"))]
    if device == "cuda":  # autovoice's CPU records are not a GPU baseline
        recs = [r for r in recs if r["device"] == "cuda"]
    by = {}
    for r in recs:
        by.setdefault((r["component"], r["seconds"]), {})[series_key(r)] = r
    series = sorted({series_key(r) for r in recs}, key=lambda s: (ORDER.get(s[0], 9), precision_key(s[2]), s[1]))
    base = next((s for s in series if s[0] == "autovoice" and s[2] == "fp32"), None)
    ref = ("pytorch", "eager", "fp32")
    # ratios over autovoice fp32: on the CPU the peers' (autovoice's own precisions have their
    # "x fp32" column in the next table)
    ratios = [s for s in series if base and s != base and (device != "cpu" or s[0] != "autovoice")]
    cols = ["component", "audio"] + [f"{series_label(s)} ms" for s in series]
    cols += [f"{series_label(s)} / autovoice" for s in ratios]
    cols += [f"SNR vs PyTorch fp32: {series_label(s)}" for s in series if s != ref]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    order = {c: i for i, c in enumerate(bl.COMPONENTS)}
    for (comp, secs), row in sorted(by.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        cells = [comp, f"{secs:g} s"]
        cells += [fmt_ms(row[s]["latency_ms"]["p50"]) if s in row else "-" for s in series]
        if base:
            b = row.get(base)
            cells += [f"{row[s]['latency_ms']['p50'] / b['latency_ms']['p50']:.2f}" if b and s in row else "-"
                      for s in ratios]
        cells += [fmt_snr(first_accuracy(row[s], "accuracy_vs_pytorch")) if s in row else "-"
                  for s in series if s != ref]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), base is not None


PRECISION_ORDER = {"fp32": 0, "tf32": 1, "fp16": 2, "bf16": 3, "int8": 4}


def precision_key(p):
    return (PRECISION_ORDER.get(p, 9), p)


def fmt_build(r):
    """A record's plan build time in seconds ("-": it ran the ONNX graph or a given plan file)."""
    b = r.get("build_ms")
    return "-" if b is None else f"{b / 1e3:.1f}" if b >= 1000 else f"{b / 1e3:.2f}"


def fmt_layers(r):
    """What ran: "ONNX", or the plan's nodes per precision (a pipeline's plans summed)."""
    plans = r.get("plans") or []
    if not plans:
        return "ONNX"
    nodes = {}
    for q in plans:
        for k, n in q["nodes"].items():
            nodes[k] = nodes.get(k, 0) + n
    parts = [f"{nodes[k]} {k}" for k in ("int8", "bf16", "fp16", "fp32") if nodes.get(k)]
    what = "plan" if len(plans) == 1 else f"{len(plans)} plans"
    return f"{what}: {', '.join(parts)}" + ("" if all(q.get("file") is None for q in plans) else " (given)")


def speedup(r, base):
    """p50 of autovoice fp32 on the same component and length over this record's ("-" without)."""
    b = base.get((r["component"], r["seconds"]))
    return "-" if not b or r["latency_ms"]["p50"] <= 0 else f"{b['latency_ms']['p50'] / r['latency_ms']['p50']:.2f}"


def fp32_base(recs):
    return {(r["component"], r["seconds"]): r for r in recs if r["precision"] == "fp32" and not r.get("plans")}


def variant_table(doc):
    recs = [r for r in doc["records"] if r["engine"] == "autovoice" and r["component"] in bl.COMPONENTS]
    order = {c: i for i, c in enumerate(bl.COMPONENTS)}
    base = fp32_base(recs)
    lines = ["| component | audio | precision | p50 | p90 | p99 | x fp32 | audio s/s | RTF | load ms | build s "
             "| plan ms | arena MiB | GFLOP | layers | SNR dB | correlation | max abs diff |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(recs, key=lambda r: (order[r["component"]], r["seconds"], precision_key(r["precision"]))):
        lat, acc = r["latency_ms"], first_accuracy(r, "accuracy") or {}
        arena = r["memory"]["arena_bytes"]
        arena = "-" if arena is None else f"{arena / 2**20:.1f}"
        corr = "-" if acc.get("pearson") is None else f"{acc['pearson']:.6f}"
        maxd = "-" if acc.get("max_abs") is None else f"{acc['max_abs']:.3g}"
        lines.append(
            f"| {r['component']} | {r['seconds']:g} s | {r['precision']} | {fmt_ms(lat['p50'])} | "
            f"{fmt_ms(lat['p90'])} | {fmt_ms(lat['p99'])} | {speedup(r, base)} | {r['throughput']:.1f} | "
            f"{r['rtf']:.4f} | {r['load_ms']:.0f} | {fmt_build(r)} | {r['plan_ms']:.1f} | {arena} | "
            f"{r['gflop']:.2f} | {fmt_layers(r)} | {fmt_snr(acc)} | {corr} | {maxd} |")
    return "\n".join(lines)


def pipeline_table(doc):
    recs = [r for r in doc["records"] if r["component"] == "pipeline"]
    if not recs:
        return None
    base = fp32_base(recs)
    lines = ["| precision | audio | p50 s | x fp32 | RTF | SNR vs fp32 | build s | peak RSS MiB | F0 | content "
             "| pitch | flow | mel | vocoder | resample + assemble | chunks |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(recs, key=lambda r: (precision_key(r["precision"]), r["seconds"])):
        s = r["stages"]
        other = s["resample_in"] + s["assemble"] + s["resample_out"]
        lines.append(
            f"| {r['precision']} | {r['seconds']:g} s | {r['latency_ms']['p50'] / 1e3:.3f} | "
            f"{speedup(r, base)} | {r['rtf']:.4f} | {fmt_snr(first_accuracy(r, 'accuracy'))} | "
            f"{fmt_build(r)} | {r['memory']['rss_peak_bytes'] / 2**20:.0f} | {s['f0']:.3f} | "
            f"{s['content']:.3f} | {s['pitch']:.3f} | {s['flow']:.3f} | {s['mel']:.3f} | "
            f"{s['vocoder']:.3f} | {other:.3f} | {s['chunks']} |")
    falls = sorted({f for r in recs for f in r.get("fallbacks") or []})
    if falls:
        lines.append("")
        lines.append("Components that ran their ONNX file instead of the plan: " + "; ".join(falls) + ".")
    return "\n".join(lines)


def calibration_note(doc):
    """"; int8 calibration: ..." from the first int8 plan the bench built, else ""."""
    for r in doc["records"]:
        for q in r.get("plans") or []:
            if q.get("calibration"):
                return f"; int8 calibration: {q['calibration']}"
    return ""


def fill_vs_pytorch(doc):
    """autovoice's other precisions against PyTorch fp32, from the tensors saved beside the peers'
    (bench/peers.py compares autovoice fp32 only); the document in memory only."""
    for r in doc["records"]:
        if r["engine"] != "autovoice" or r["precision"] == "fp32" or not r.get("saved") \
                or r["component"] not in bl.COMPONENTS:
            continue
        for o in r["outputs"]:
            if o.get("accuracy_vs_pytorch") is not None:
                continue
            ref = os.path.join(r["saved"], f"pytorch-eager-fp32-{r['device']}", o["name"] + ".npy")
            ours = os.path.join(r["saved"], f"autovoice-{r['precision']}", o["name"] + ".npy")
            if os.path.exists(ref) and os.path.exists(ours):
                o["accuracy_vs_pytorch"] = bl.accuracy(np.load(ref), np.load(ours), "pytorch fp32")


# ---- plots --------------------------------------------------------------------------------------

def plot_latency(doc, device, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    recs = [r for r in doc["records"] if r["device"] == device]
    comps = [c for c in bl.COMPONENTS + ("pipeline",) if any(r["component"] == c for r in recs)]
    secs = sorted({r["seconds"] for r in recs})
    series = sorted({series_key(r) for r in recs}, key=lambda s: (ORDER.get(s[0], 9), precision_key(s[2]), s[1]))
    fig, axes = plt.subplots(1, len(secs), figsize=(5.2 * len(secs), 4.2), squeeze=False)
    width = 0.8 / max(1, len(series))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, sec in zip(axes[0], secs):
        for k, s in enumerate(series):
            xs, ys = [], []
            for i, c in enumerate(comps):
                r = next((r for r in recs if r["component"] == c and r["seconds"] == sec and series_key(r) == s), None)
                if r:
                    xs.append(i + (k - (len(series) - 1) / 2) * width)
                    ys.append(r["latency_ms"]["p50"])
            ax.bar(xs, ys, width, label=series_label(s), color=colours[k % len(colours)])
        ax.set_yscale("log")
        ax.set_xticks(range(len(comps)))
        ax.set_xticklabels([c.replace("_", "\n") for c in comps], fontsize=8)
        ax.set_title(f"{sec:g} s of audio")
        ax.set_ylabel("p50 latency, ms (log)")
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"Latency per component and engine, {device.upper()}, "
                 f"{doc.get('peers', {}).get(device, {}).get('threads', doc['settings']['threads'])} threads",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def spectrogram_db(x, n_fft=1024, hop=256):
    x = np.asarray(x, dtype=np.float64).ravel()
    if len(x) < n_fft:
        x = np.pad(x, (0, n_fft - len(x)))
    w = np.hanning(n_fft + 1)[:-1]
    frames = 1 + (len(x) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * w, axis=1)).T
    return 20 * np.log10(spec + 1e-10)


def triptych_sources(doc):
    """(fp32 signal, other signal, rate, fp32 label, other label, what): an autovoice reduced
    precision on the pipeline output when there is one, else the vocoder's output, autovoice
    fp32 against PyTorch (or ONNX Runtime) fp32."""
    pipe = [r for r in doc["records"] if r["engine"] == "autovoice" and r["component"] == "pipeline"
            and r.get("saved")]
    other = [r for r in pipe if r["precision"] != "fp32"]
    if other:  # the longest, and of those the lowest precision
        r = max(other, key=lambda r: (r["seconds"], precision_key(r["precision"])))
        d = r["saved"]
        return (np.load(os.path.join(d, "autovoice-fp32", "audio.npy")),
                np.load(os.path.join(d, f"autovoice-{r['precision']}", "audio.npy")), r["output_rate"],
                "autovoice fp32", f"autovoice {r['precision']}", f"pipeline output, {r['seconds']:g} s")
    voc = [r for r in doc["records"] if r["engine"] == "autovoice" and r["component"] == "vocoder"
           and r["precision"] == "fp32" and r.get("saved")]
    if not voc:
        return None
    r = max(voc, key=lambda r: r["seconds"])
    d = r["saved"]
    ours = np.load(os.path.join(d, "autovoice-fp32", "audio_output.npy"))
    for tag, label in (("pytorch-eager-fp32-cpu", "PyTorch fp32"), ("onnxruntime-fp32-cpu", "ONNX Runtime fp32")):
        p = os.path.join(d, tag, "audio_output.npy")
        if os.path.exists(p):
            return (ours, np.load(p), 22050, "autovoice fp32", label,
                    f"vocoder output on the bench's mel input, {r['seconds']:g} s")
    return None


def plot_triptych(doc, path):
    src = triptych_sources(doc)
    if not src:
        return False
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    a, b, rate, la, lb, what = src
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    n = min(len(a), len(b), rate * 3)  # the first 3 s are enough to see
    a, b = a[:n], b[:n]
    acc = bl.accuracy(a, b, la)
    sa, sb, sd = spectrogram_db(a), spectrogram_db(b), spectrogram_db(b - a)
    top = max(sa.max(), sb.max())
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True, constrained_layout=True)
    extent = [0, n / rate, 0, rate / 2000]
    for ax, s, title in zip(axes, (sa, sb, sd), (la, lb, f"difference ({lb} - {la}), same scale")):
        im = ax.imshow(s, origin="lower", aspect="auto", extent=extent, vmin=top - 160, vmax=top, cmap="magma")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("s")
    axes[0].set_ylabel("kHz")
    fig.colorbar(im, ax=axes, label="dB")
    fig.suptitle(f"{what}: SNR {fmt_snr(acc)} dB, max abs diff {acc['max_abs']:.2g}", fontsize=10)
    fig.savefig(path, dpi=60)
    plt.close(fig)
    return True


# ---- the section --------------------------------------------------------------------------------

def section(doc, device, command, images, note=None):
    fill_vs_pytorch(doc)
    parts = [header(doc, device, command) + (f" {note}" if note else "")]
    table, has_base = peer_table(doc, device)
    if device == "cpu":
        parts.append("Each component against the peers: ratios (a peer's p50 over autovoice fp32's) above 1 mean "
                     "autovoice fp32 is faster; accuracy is the SNR in dB of each engine's output against PyTorch "
                     "fp32 (`inf`: identical).")
    else:
        parts.append("Each component on the GPU; accuracy is the SNR in dB against PyTorch fp32 eager on "
                     "the GPU." + ("" if has_base else " autovoice's CUDA backend is not available in this "
                                   "build yet: no autovoice GPU column, no ratios."))
    parts.append(table)
    if device == "cpu":
        parts.append("autovoice's precisions (accuracy against autovoice fp32 on the same inputs; x fp32 = autovoice "
                     "fp32's p50 over this one's; load = model or plan load, build = the plan's build "
                     "(`av_model_save_plan`: calibration, per-layer checks, the builder's report), plan = session "
                     "planning for the shape; arena = the plan's intermediate memory; layers = what ran, the "
                     "ONNX graph or a plan's nodes per precision). bf16 and int8 are plans `autovoice bench` "
                     "builds as `autovoice build --precision P` does (oneDNN convolutions, the configuration's "
                     "keep_precision layers), one per component for every length" + calibration_note(doc) + ":")
        parts.append(variant_table(doc))
        pipe = pipeline_table(doc)
        if pipe:
            parts.append("The whole conversion (`av_convert` on the bundled example looped to length, default "
                         "settings), stage times from `av_converter_last_stats` in median seconds; fp32 runs the "
                         "package's ONNX files, bf16 and int8 a copy of the package with every component's plan "
                         "built (build = the five builds, with the configuration's profiles). Peak RSS is "
                         "the bench process's high-water mark, components and plan builds included:")
            parts.append(pipe)
    skipped = sorted({(s["precision"], s["device"], s["reason"]) for s in doc["skipped"] if "engine" not in s})
    if skipped:
        parts.append("Skipped: " + "; ".join(f"{p} on {d}, {why}" for p, d, why in skipped) + ".")
    peer_skips = [s for s in doc["skipped"] if "engine" in s and s["device"] == device]
    if peer_skips:
        parts.append("Peers skipped: " + "; ".join(
            f"{s['engine']} {s.get('variant', '')} {s['precision']} {s['component']}: {s['reason']}"
            for s in peer_skips[:8]) + ".")
    parts += images
    return "\n\n".join(parts)


def write_section(path, device, body):
    tag = "bench" if device == "cpu" else "bench-gpu"
    begin, end = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
    title = ("## `autovoice bench`, CPU: every component and the pipeline, against ONNX Runtime and PyTorch"
             if device == "cpu" else "## `autovoice bench`, GPU: the peers on CUDA")
    with open(path) as f:
        text = f.read()
    new = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: new, text, flags=re.S)
    else:
        text = text.rstrip("\n") + f"\n\n{title}\n\n{new}\n"
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("json")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--command", default="bench/run-all.sh")
    ap.add_argument("--write")
    ap.add_argument("--img-dir")
    ap.add_argument("--note", help="a sentence for the header (how the machine was, say)")
    a = ap.parse_args()
    doc = bl.load_or_exit(a.json, "report")
    images = []
    if a.img_dir:
        os.makedirs(a.img_dir, exist_ok=True)
        rel = os.path.relpath(a.img_dir, os.path.dirname(os.path.abspath(a.write))) if a.write else a.img_dir
        suffix = "" if a.device == "cpu" else "-gpu"
        try:
            lat = os.path.join(a.img_dir, f"bench-latency{suffix}.png")
            plot_latency(doc, a.device, lat)
            images.append(f"![p50 latency per component, engine and precision]({rel}/bench-latency{suffix}.png)")
            if a.device == "cpu":
                tri = os.path.join(a.img_dir, "bench-spectrogram.png")
                if plot_triptych(doc, tri):
                    images.append(f"![spectrograms: fp32, the other engine or precision, and their difference]"
                                  f"({rel}/bench-spectrogram.png)")
        except ImportError:
            print("report: no plots: python3-matplotlib is missing (scripts/install-deps.sh)", file=sys.stderr)
    body = section(doc, a.device, a.command, images, a.note)
    print(body)
    if a.write:
        write_section(a.write, a.device, body)


if __name__ == "__main__":
    main()
