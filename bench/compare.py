#!/usr/bin/python3
"""Compares two `autovoice bench` JSON files (docs/BENCH_SCHEMA.md) and prints the regressions
beyond noise: measurements are matched by (engine, variant, component, device, precision,
seconds).

A latency regression is a p50 that grew by more than the noise allowance: the larger of
--threshold (relative, default 0.10) and each run's own spread (p90 - p50) / p50. An accuracy
regression is an SNR (against the reference each file names) that fell by more than --snr-drop dB
(default 3), or went from infinite to finite. A memory regression is an arena that grew by more
than --threshold; a build regression, a plan's build time (`build_ms`: bf16 / int8 plans) that
grew by more than the larger of --threshold and 25% (one measurement each, no spread). Improvements beyond the same allowances are listed too; measurements in only one
file are counted.

usage: bench/compare.py OLD.json NEW.json [--threshold 0.10] [--snr-drop 3] [--all]
Exit status: 0 no regression, 1 regressions, 2 a usage error or unreadable file."""
import argparse
import math
import sys

import numpy as np

import benchlib as bl


def spread(r):
    lat = r["latency_ms"]
    return (lat["p90"] - lat["p50"]) / lat["p50"] if lat["p50"] > 0 else 0.0


def name(key):
    engine, variant, comp, device, precision, secs = key
    return f"{engine}{' ' + variant if variant else ''} {comp} {device} {precision} {secs:g} s"


def compare(old, new, threshold, snr_drop):
    """[(kind, key, message, is_regression)] for the measurements of both files."""
    out = []
    for key in sorted(set(old) & set(new), key=lambda k: tuple(str(x) for x in k)):
        a, b = old[key], new[key]
        pa, pb = a["latency_ms"]["p50"], b["latency_ms"]["p50"]
        allow = max(threshold, spread(a), spread(b))
        ratio = pb / pa if pa > 0 else np.inf
        msg = f"p50 {pa:.3f} -> {pb:.3f} ms ({ratio:.2f}x, noise allowance {allow:.0%})"
        if ratio > 1 + allow:
            out.append(("latency", key, msg, True))
        elif ratio < 1 / (1 + allow):
            out.append(("latency", key, msg, False))
        else:
            out.append(("same", key, msg, None))
        ba, bb = a.get("build_ms"), b.get("build_ms")
        if ba and bb:
            grow = max(threshold, 0.25)
            msg = f"build {ba / 1e3:.2f} -> {bb / 1e3:.2f} s"
            if bb > ba * (1 + grow):
                out.append(("build", key, msg, True))
            elif bb < ba / (1 + grow):
                out.append(("build", key, msg, False))
        ma, mb = a["memory"].get("arena_bytes"), b["memory"].get("arena_bytes")
        if ma and mb and abs(mb / ma - 1) > threshold:
            out.append(("memory", key, f"arena {ma / 2**20:.2f} -> {mb / 2**20:.2f} MiB", mb > ma))
        for oa, ob in zip(a["outputs"], b["outputs"]):
            for field in ("accuracy", "accuracy_vs_pytorch"):
                sa, sb = bl.snr_value(oa.get(field)), bl.snr_value(ob.get(field))
                if sa is None or sb is None or sa == sb:
                    continue
                ref = (ob.get(field) or {}).get("reference", field)
                msg = f"{oa['name']}: SNR vs {ref} {sa:.1f} -> {sb:.1f} dB"
                if (math.isinf(sa) and sa > 0 and not math.isinf(sb)) or sa - sb > snr_drop:
                    out.append(("accuracy", key, msg, True))
                elif (math.isinf(sb) and sb > 0 and not math.isinf(sa)) or sb - sa > snr_drop:
                    out.append(("accuracy", key, msg, False))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--threshold", type=float, default=0.10)
    ap.add_argument("--snr-drop", type=float, default=3.0)
    ap.add_argument("--all", action="store_true", help="also print unchanged measurements")
    a = ap.parse_args()
    try:
        docs = [bl.load(p) for p in (a.old, a.new)]
    except (OSError, ValueError) as e:
        print(f"compare: {e}", file=sys.stderr)
        return 2
    old, new = ({bl.record_key(r): r for r in d["records"]} for d in docs)
    print(f"old: {docs[0]['date']} {docs[0]['machine']['cpu']}, {docs[0]['settings']['threads']} threads: {a.old}")
    print(f"new: {docs[1]['date']} {docs[1]['machine']['cpu']}, {docs[1]['settings']['threads']} threads: {a.new}")
    if docs[0]["machine"]["cpu"] != docs[1]["machine"]["cpu"]:
        print("note: different CPUs; latency differences say little")
    results = compare(old, new, a.threshold, a.snr_drop)
    bad = [r for r in results if r[3] is True]
    good = [r for r in results if r[3] is False]
    for title, rows in (("regressions", bad), ("improvements", good)):
        if rows:
            print(f"{title}:")
            for kind, key, msg, _ in rows:
                print(f"  {kind:8} {name(key)}: {msg}")
    if a.all:
        for kind, key, msg, _ in results:
            if kind == "same":
                print(f"  same     {name(key)}: {msg}")
    only_old, only_new = len(set(old) - set(new)), len(set(new) - set(old))
    same = sum(1 for r in results if r[0] == "same")
    print(f"compare: {len(bad)} regression(s), {len(good)} improvement(s), {same} within noise; "
          f"{only_old} only in old, {only_new} only in new")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
