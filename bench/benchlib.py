"""Shared by the bench/ scripts: the accuracy metrics and percentiles of `autovoice bench` (the same
definitions as src/cli/bench_metrics.h), the JSON layout of docs/BENCH_SCHEMA.md, and the
machine description. numpy only; the scripts import it from their own directory, so they run
from any working directory."""
import json
import math
import os
import platform
import resource
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(REPO, "tools")

SCHEMA = "autovoice-bench"
SCHEMA_VERSION = 1

# the decoder-side components run at 22050 / 256 frames per second; see cmd_bench.c
COMPONENTS = ("content_encoder", "pitch_encoder", "flow_decoder", "mel_projection", "vocoder")


def accuracy(ref, x, reference):
    """The figures of av_cli_accuracy_compute: how far x is from ref, element by element, in
    float64; positions where either is not finite are counted and left out. JSON-ready: NaN ->
    None, infinities -> "inf" / "-inf"."""
    ref = np.asarray(ref, dtype=np.float64).ravel()
    x = np.asarray(x, dtype=np.float64).ravel()
    if ref.shape != x.shape:
        return None
    ok = np.isfinite(ref) & np.isfinite(x)
    r, v = ref[ok], x[ok]
    out = {"reference": reference, "n": int(ok.sum()), "nonfinite": int((~ok).sum())}
    if r.size == 0:
        out.update(max_abs=None, mean_abs=None, rmse=None, pearson=None, snr_db=None)
        return out
    d = v - r
    sq = float(np.sum(d * d))
    energy = float(np.sum(r * r))
    rc, vc = r - r.mean(), v - v.mean()
    vr, vx = float(np.sum(rc * rc)), float(np.sum(vc * vc))
    if vr > 0 and vx > 0:
        pearson = max(-1.0, min(1.0, float(np.sum(rc * vc)) / math.sqrt(vr * vx)))
    else:
        pearson = 1.0 if (vr == 0 and vx == 0 and sq == 0) else None
    if sq == 0:
        snr = "inf"
    elif energy == 0:
        snr = "-inf"
    else:
        snr = 10 * math.log10(energy / sq)
    out.update(max_abs=float(np.abs(d).max()), mean_abs=float(np.abs(d).mean()),
               rmse=math.sqrt(sq / r.size), pearson=pearson, snr_db=snr)
    return out


def snr_value(acc):
    """A record's snr_db as a float (inf for "inf"), or None."""
    if not acc or acc.get("snr_db") is None:
        return None
    s = acc["snr_db"]
    return float(s) if isinstance(s, (int, float)) else float(s.replace("inf", "Infinity"))


def latency(times_ms):
    t = np.sort(np.asarray(times_ms, dtype=np.float64))
    return {"p50": float(np.percentile(t, 50)), "p90": float(np.percentile(t, 90)),
            "p99": float(np.percentile(t, 99)), "mean": float(t.mean()), "min": float(t[0]),
            "max": float(t[-1])}


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peer_record(ours, engine, version, device, precision, times_ms, load_ms, outputs, saved,
                threads, variant=None, rss=None, gpu_peak=None, warmup=1):
    """A record of a peer in the layout of autovoice's (docs/BENCH_SCHEMA.md), for the same
    component and inputs as the autovoice record `ours`."""
    lat = latency(times_ms)
    rec = {"engine": engine, "engine_version": version, "component": ours["component"],
           "device": device, "precision": precision, "threads": threads,
           "seconds": ours["seconds"], "audio_seconds": ours["audio_seconds"],
           "inputs": ours["inputs"], "outputs": outputs, "load_ms": load_ms, "plan_ms": None,
           "runs": len(times_ms), "warmup": warmup, "latency_ms": lat,
           "throughput": ours["audio_seconds"] / (lat["p50"] * 1e-3),
           "rtf": lat["p50"] * 1e-3 / ours["audio_seconds"],
           "memory": {"arena_bytes": None, "planned_bytes": None, "naive_bytes": None,
                      "rss_peak_bytes": rss if rss is not None else peak_rss_bytes()},
           "gflop": None, "saved": saved}
    if variant:
        rec["variant"] = variant
    if gpu_peak is not None:
        rec["memory"]["gpu_peak_bytes"] = gpu_peak
    return rec


def record_key(r):
    """What identifies a measurement across runs (bench/compare.py)."""
    return (r["engine"], r.get("variant", ""), r["component"], r["device"], r["precision"],
            float(r["seconds"]))


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load(path):
    """The document of an `autovoice bench` JSON file; OSError or ValueError when it is not one."""
    with open(path) as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or doc.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: not an {SCHEMA} version {SCHEMA_VERSION} file")
    return doc


def load_or_exit(path, tool):
    try:
        return load(path)
    except (OSError, ValueError) as e:
        print(f"{tool}: {e}", file=sys.stderr)
        sys.exit(2)


def save(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def read_npy_dir(d):
    """{name: array} of the .npy files of a directory."""
    return {f[:-4]: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".npy")}
