#!/usr/bin/python3
"""Make the parallel multi-singer sung corpus (docs/TRAINING.md).

usage: tools/corpus/make_corpus.py --out DIR [--seed N] [--train N] [--test N] [--jobs N]
                                   [--singers a,b,...] [--prefix PREFIX]

Every utterance (lyrics + melody, songs.py) is sung by every singer (voices.py) with espeak-ng and
sox (render.py). Writes
  DIR/corpus.json                 singers, utterances, renderings, tool versions, F0 self-check
  DIR/{train,test}/SINGER/UTT.wav 16-bit mono 22050 Hz
  DIR/{train,test}/SINGER/UTT.f0.csv   time,f0,voiced,confidence every 10 ms (the exact track;
                                  the format autovoice convert --f0 reads)
Deterministic in (seed, counts, singers) for given espeak-ng and sox builds. --prefix runs
espeak-ng/sox unpacked by tools/corpus/prefix.sh; errors are one line on stderr, exit code 2.
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import re
import subprocess
import sys
import time
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402
import songs  # noqa: E402
import voices  # noqa: E402


def fail(msg):
    print(f"make_corpus: error: {msg}", file=sys.stderr)
    sys.exit(2)


def tool_env(prefix):
    env = dict(os.environ, LC_ALL="C")
    if prefix:
        lib = os.path.join(prefix, "usr/lib/x86_64-linux-gnu")
        env["PATH"] = os.path.join(prefix, "usr/bin") + os.pathsep + env.get("PATH", "")
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            [lib, os.path.join(prefix, "lib/x86_64-linux-gnu")] +
            ([env["LD_LIBRARY_PATH"]] if env.get("LD_LIBRARY_PATH") else []))
        env["ESPEAK_DATA_PATH"] = lib
        env["MAGIC"] = os.path.join(prefix, "usr/lib/file/magic.mgc")
    return env


def versions(env):
    try:
        e = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, env=env)
        s = subprocess.run(["sox", "--version"], capture_output=True, text=True, env=env)
    except FileNotFoundError as ex:
        fail(f"{ex.filename} not found: install espeak-ng and sox, or pass --prefix "
             "(tools/corpus/prefix.sh)")
    m = re.search(r"text-to-speech:\s*(\S+)\s+Data at:\s*(\S+)", e.stdout)
    v = re.search(r"SoX v?(\S+)", s.stdout)
    if e.returncode or s.returncode or not m or not v:
        fail(f"espeak-ng/sox do not run: {e.stderr.strip()[:200]} {s.stderr.strip()[:200]}")
    return m.group(1), m.group(2), v.group(1)


def make_overlay(data_dir, out, singers):
    """A private espeak-ng-data: links to every entry of data_dir, plus our variant files in
    voices/!v. Returns the directory to put in ESPEAK_DATA_PATH."""
    root = os.path.join(out, ".espeak")
    ov = os.path.join(root, "espeak-ng-data")
    os.makedirs(os.path.join(ov, "voices", "!v"), exist_ok=True)
    for e in os.listdir(data_dir):
        if e != "voices" and not os.path.lexists(os.path.join(ov, e)):
            os.symlink(os.path.join(data_dir, e), os.path.join(ov, e))
    for e in os.listdir(os.path.join(data_dir, "voices")):
        if e != "!v" and not os.path.lexists(os.path.join(ov, "voices", e)):
            os.symlink(os.path.join(data_dir, "voices", e), os.path.join(ov, "voices", e))
    for s in singers:
        with open(os.path.join(ov, "voices", "!v", f"av_{s.name}"), "w") as f:
            f.write(s.variant_text())
    return root


def write_wav(path, pcm):
    tmp = path + ".tmp"
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(render.RATE)
        w.writeframes(pcm.astype("<i2").tobytes())
    os.replace(tmp, path)


def write_f0(path, f0, voiced):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("time,f0,voiced,confidence\n")
        for i, (hz, v) in enumerate(zip(f0, voiced)):
            f.write(f"{i * render.HOP:.3f},{hz if v else 0.0:.3f},{int(v)},{1.0 if v else 0.0:.1f}\n")
    os.replace(tmp, path)


_G = {}


def _init(env, tables, singers):
    _G.update(env=env, tables=tables, singers=singers)


def _calibrate(args):
    singer, env = args
    return render.calibrate(f"en-us+av_{singer.name}", singer.speed, env)


def _job(args):
    si, utt, split, out = args
    singer = _G["singers"][si]
    pcm, f0, voiced, info = render.render_utterance(utt, singer, _G["tables"][si], _G["env"])
    rel = os.path.join(split, singer.name, utt["id"])
    write_wav(os.path.join(out, rel + ".wav"), pcm)
    write_f0(os.path.join(out, rel + ".f0.csv"), f0, voiced)
    # self-check: an independent YIN on the rendering against the saved track, voiced frames
    x = pcm.astype(np.float64) / 32768.0
    est = render.yin_track(np.pad(x, (0, 2048)), render.RATE, 60.0, 800.0, threshold=0.2)
    k = min(len(est), len(f0))
    m = voiced[:k] & (est[:k] > 0)
    cents = np.abs(1200 * np.log2(est[:k][m] / f0[:k][m])) if m.any() else np.array([0.0])
    return {"singer": singer.name, "utterance": utt["id"], "split": split, "wav": rel + ".wav",
            "f0": rel + ".f0.csv", "duration": round(info["duration"], 4),
            "voiced_fraction": round(float(voiced.mean()), 4),
            "check_median_cents": round(float(np.median(cents)), 2),
            "check_within_50_cents": round(float(np.mean(cents < 50)), 4)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--train", type=int, default=90, help="training utterances")
    ap.add_argument("--test", type=int, default=8, help="held-out utterances")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--singers", help="comma-separated subset (default: all of voices.py)")
    ap.add_argument("--prefix", help="espeak-ng/sox unpacked by tools/corpus/prefix.sh")
    a = ap.parse_args(argv)
    if a.train < 0 or a.test < 0 or a.train + a.test == 0:
        fail("--train/--test must be >= 0 and not both 0")
    try:
        singers = voices.by_name(a.singers.split(",") if a.singers else None)
    except ValueError as e:
        fail(str(e))
    t0 = time.time()
    env = tool_env(a.prefix)
    ev, data_dir, sv = versions(env)
    os.makedirs(a.out, exist_ok=True)
    env["ESPEAK_DATA_PATH"] = make_overlay(data_dir, a.out, singers)
    train, test = songs.make_utterances(a.seed, a.train, a.test)
    for split in ("train", "test"):
        for s in singers:
            os.makedirs(os.path.join(a.out, split, s.name), exist_ok=True)

    with mp.get_context("fork").Pool(a.jobs) as pool:
        tables = pool.map(_calibrate, [(s, env) for s in singers])
    jobs = [(si, u, split, a.out) for split, us in (("train", train), ("test", test))
            for u in us for si in range(len(singers))]
    with mp.get_context("fork").Pool(a.jobs, initializer=_init, initargs=(env, tables, singers)) as pool:
        results = []
        try:
            for i, r in enumerate(pool.imap(_job, jobs, chunksize=1)):
                results.append(r)
                if (i + 1) % 100 == 0:
                    print(f"make_corpus: {i + 1}/{len(jobs)} renderings ({time.time() - t0:.0f} s)",
                          flush=True)
        except render.RenderError as e:
            fail(str(e))

    hours = sum(r["duration"] for r in results) / 3600
    meta = {
        "format": "autovoice-corpus", "version": 1, "seed": a.seed, "sample_rate": render.RATE,
        "f0_hop_seconds": render.HOP,
        "tools": {"espeak-ng": ev, "sox": sv},
        "singers": [{"name": s.name, "espeak_voice": f"en-us+av_{s.name}", "variant": s.variant_text(),
                     "speed": s.speed, "eq": list(s.eq), "vibrato_hz": s.vib_rate,
                     "vibrato_cents": s.vib_cents, "formants_from": s.gender,
                     "pitch_calibration": [[p, round(h, 2)] for p, h in tables[i]]}
                    for i, s in enumerate(singers)],
        "utterances": {"train": train, "test": test},
        "renderings": results,
        "hours": round(hours, 4),
        "f0_check": {
            "median_cents": round(float(np.median([r["check_median_cents"] for r in results])), 2),
            "within_50_cents": round(float(np.mean([r["check_within_50_cents"] for r in results])), 4)},
        "generation_seconds": round(time.time() - t0, 1),
        "jobs": a.jobs,
    }
    tmp = os.path.join(a.out, "corpus.json.tmp")
    with open(tmp, "w") as f:
        json.dump(meta, f, indent=1)
    os.replace(tmp, os.path.join(a.out, "corpus.json"))
    print(f"make_corpus: {len(results)} renderings ({len(singers)} singers x {len(train)} + "
          f"{len(test)} utterances), {hours * 60:.1f} min of audio in {time.time() - t0:.0f} s; "
          f"F0 self-check: median {meta['f0_check']['median_cents']} cents, "
          f"{100 * meta['f0_check']['within_50_cents']:.1f}% of voiced frames within 50 cents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
