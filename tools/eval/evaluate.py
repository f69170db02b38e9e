#!/usr/bin/python3
"""Measure conversion quality on the corpus' held-out utterances (docs/QUALITY.md).

usage: tools/eval/evaluate.py --corpus DIR --model PKG_DIR --autovoice BIN --work DIR
                              [--checkpoint FILE] [--paths c,torch] [--split test]
                              [--utterances N] [--temperature T] [--seed N] [--threads N]
                              [--json OUT.json]

Every singer's rendering of every chosen utterance is converted to every other singer:
  c      through `autovoice convert` (the C pipeline: resampling, our pYIN, the ONNX graphs run by
         our engine), at the package's default settings, output at 22050 Hz;
  torch  the same conversion in PyTorch from --checkpoint, mirroring src/svc/convert.c step by
         step: the same F0 contour (our pYIN, `autovoice f0`, on the source), the same noise
         (the engine's counter-based generator, ported below), FFT resampling instead of soxr.
For each conversion:
  pitch   our pYIN (`autovoice f0`) on the output against the requested contour = the source
          rendering's exact F0 track from the corpus: raw pitch accuracy (share of the frames
          voiced in the track whose output F0 is within 50 cents; an unvoiced output frame counts
          as a miss) and the F0 RMSE in cents over frames voiced in both;
  voice   a nearest-centroid classifier of MFCC statistics (features.py) trained on the real
          renderings of the training split names a singer: share naming the target, the source;
  MCD     DTW-aligned mel-cepstral distortion (features.py) between the output and the target
          singer's real rendering of the same utterance, next to that between the source and it.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import features as F  # noqa: E402

OUT_RATE = 22050


# ---- the engine's noise, in numpy (src/ops/op_util.c: av__rng_u64 / av__rng_normal) ---------

_M = np.uint64(0xFFFFFFFFFFFFFFFF)


def rng_u64(seed, index):
    with np.errstate(over="ignore"):
        z = (np.uint64(seed) * np.uint64(0x9e3779b97f4a7c15) + index.astype(np.uint64) *
             np.uint64(0xd1b54a32d192ed03) + np.uint64(0x632be59bd9b4e019))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xbf58476d1ce4e5b9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94d049bb133111eb)
        return z ^ (z >> np.uint64(31))


def rng_normal(seed, index):
    index = np.asarray(index, dtype=np.uint64)
    with np.errstate(over="ignore"):
        u1 = ((rng_u64(seed, np.uint64(2) * index) >> np.uint64(11)).astype(np.float64) + 1.0) / 9007199254740992.0
        u2 = (rng_u64(seed, np.uint64(2) * index + np.uint64(1)) >> np.uint64(11)).astype(np.float64) / 9007199254740992.0
    return (np.sqrt(-2.0 * np.log(u1)) * np.cos(6.283185307179586 * u2)).astype(np.float32)


# ---- tools -----------------------------------------------------------------------------------

def read_f0_csv(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return a[:, 0], a[:, 1], a[:, 2] > 0


def pyin(binary, wav, tmp):
    out = tmp + ".f0.csv"
    subprocess.run([binary, "f0", wav, "-o", out], check=True, capture_output=True)
    return read_f0_csv(out)


def c_convert(binary, model, src, out, speaker, temperature, seed, threads):
    cmd = [binary, "convert", src, "-o", out, "--model", model, "--speaker", speaker,
           "--seed", str(seed), "--output-rate", str(OUT_RATE), "--threads", str(threads)]
    if temperature is not None:
        cmd += ["--temperature", str(temperature)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")


class TorchPath:
    """src/svc/convert.c in PyTorch, for the C/PyTorch comparison."""

    def __init__(self, checkpoint, temperature):
        import torch
        from autovoice_ref.checkpoint import load_checkpoint
        self.torch = torch
        torch.set_num_threads(2)
        self.m = load_checkpoint(checkpoint, "small")
        self.m.remove_weight_norm()
        self.m.eval()
        self.p = self.m.preset
        self.temperature = self.p.default_temperature if temperature is None else temperature

    def convert(self, wav, f0_csv, speaker, seed):
        torch, m, p = self.torch, self.m, self.p
        x, sr = F.read_wav(wav)
        x16 = F.resample(x, sr, p.content.sample_rate)
        x16 = x16 / max(np.max(np.abs(x16)), 1e-8)
        t_f0, hz, voiced = read_f0_csv(f0_csv)
        t_pitch = int(math.floor(len(x) / sr * 100)) + 1
        f0 = np.zeros(t_pitch, dtype=np.float32)
        vm = np.zeros(t_pitch, dtype=bool)
        k = 0
        for t in range(t_pitch):
            when = t / 100.0
            while k + 1 < len(t_f0) and abs(t_f0[k + 1] - when) <= abs(t_f0[k] - when):
                k += 1
            if voiced[k] and hz[k] > 0:
                f0[t] = min(max(hz[k], p.f0_min), p.f0_max)
                vm[t] = True
        n_dec = int(round(len(x) * p.mel.sample_rate / sr))
        t_dec = (n_dec + p.hop_length - 1) // p.hop_length
        L = p.latent_dim
        idx = (np.arange(t_dec)[None, :] * L + np.arange(L)[:, None]).astype(np.uint64)
        noise = self.temperature * rng_normal(seed, idx)
        with torch.no_grad():
            c = m.content_encoder(torch.from_numpy(x16.astype(np.float32))[None])
            pf = m.pitch_encoder(torch.from_numpy(f0)[None], torch.from_numpy(vm)[None])
            spk = m.speaker_table.weight[m.speakers.index(speaker)][None]
            cond = m.conditioning(c, pf, spk, t_dec)
            z = m.flow.inverse(torch.from_numpy(noise)[None], torch.ones(1, 1, t_dec), cond)
            y = m.vocoder(m.mel_projection(z))[0, 0, :n_dec].numpy()
        return y.astype(np.float64)


def write_wav16(path, y, sr=OUT_RATE):
    import wave
    pcm = np.clip(np.round(np.clip(y, -1, 1) * 32767), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


# ---- metrics -----------------------------------------------------------------------------------

def pitch_metrics(ref_t, ref_hz, ref_v, est_t, est_hz, est_v):
    """RPA (50 cents) over reference-voiced frames, F0 RMSE (cents) over frames voiced in both,
    voicing recall; est is sampled at the reference frame times (nearest)."""
    j = np.clip(np.searchsorted(est_t, ref_t), 0, len(est_t) - 1)
    j0 = np.clip(j - 1, 0, len(est_t) - 1)
    j = np.where(np.abs(est_t[j0] - ref_t) < np.abs(est_t[j] - ref_t), j0, j)
    e_hz, e_v = est_hz[j], est_v[j] & (est_hz[j] > 0)
    v = ref_v & (ref_hz > 0)
    both = v & e_v
    cents = np.full(len(ref_t), np.inf)
    cents[both] = 1200 * np.log2(e_hz[both] / ref_hz[both])
    return {"rpa": float(np.mean(np.abs(cents[v]) < 50)) if v.any() else float("nan"),
            "f0_rmse_cents": float(np.sqrt(np.mean(cents[both] ** 2))) if both.any() else float("nan"),
            "voicing_recall": float(np.mean(e_v[v])) if v.any() else float("nan"),
            "frames": int(v.sum())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--autovoice", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--checkpoint")
    ap.add_argument("--paths", default="c")
    ap.add_argument("--split", default="test")
    ap.add_argument("--utterances", type=int, default=0, help="first N utterances (0: all)")
    ap.add_argument("--classifier-utterances", type=int, default=30)
    ap.add_argument("--temperature", type=float)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    paths = a.paths.split(",")
    if "torch" in paths and not a.checkpoint:
        ap.error("--paths torch needs --checkpoint")
    with open(os.path.join(a.corpus, "corpus.json")) as f:
        meta = json.load(f)
    singers = [s["name"] for s in meta["singers"]]
    rend = {(r["split"], r["singer"], r["utterance"]): r for r in meta["renderings"]}
    utts = [u["id"] for u in meta["utterances"][a.split]]
    if a.utterances:
        utts = utts[:a.utterances]
    os.makedirs(a.work, exist_ok=True)
    t0 = time.time()

    # classifier on real renderings of the training split
    train_utts = [u["id"] for u in meta["utterances"]["train"]][:a.classifier_utterances]
    X, y = [], []
    for u in train_utts:
        for s in singers:
            x, sr = F.read_wav(os.path.join(a.corpus, rend[("train", s, u)]["wav"]))
            X.append(F.speaker_vector(x, sr))
            y.append(s)
    clf = F.NearestCentroid().fit(X, y)
    real_ok = []
    for u in utts:
        for s in singers:
            x, sr = F.read_wav(os.path.join(a.corpus, rend[(a.split, s, u)]["wav"]))
            real_ok.append(clf.predict([F.speaker_vector(x, sr)])[0] == s)
    print(f"evaluate: classifier trained on {len(X)} real renderings; names the singer of "
          f"{100 * np.mean(real_ok):.1f}% of the {len(real_ok)} real {a.split} renderings", flush=True)

    torch_path = TorchPath(a.checkpoint, a.temperature) if "torch" in paths else None
    rows = []
    for u in utts:
        for s in singers:
            src = os.path.join(a.corpus, rend[(a.split, s, u)]["wav"])
            ref_t, ref_hz, ref_v = read_f0_csv(os.path.join(a.corpus, rend[(a.split, s, u)]["f0"]))
            src_f0 = os.path.join(a.work, f"{u}_{s}.src")
            pyin(a.autovoice, src, src_f0)
            x_src, sr_src = F.read_wav(src)
            for t in singers:
                if t == s:
                    continue
                tgt_x, tgt_sr = F.read_wav(os.path.join(a.corpus, rend[(a.split, t, u)]["wav"]))
                mcd_src = F.mcd_dtw(x_src, sr_src, tgt_x, tgt_sr)
                for path in paths:
                    out = os.path.join(a.work, f"{u}_{s}_to_{t}.{path}.wav")
                    tc = time.time()
                    if path == "c":
                        c_convert(a.autovoice, a.model, src, out, t, a.temperature, a.seed, a.threads)
                    else:
                        write_wav16(out, torch_path.convert(src, src_f0 + ".f0.csv", t, a.seed))
                    secs = time.time() - tc
                    est_t, est_hz, est_v = pyin(a.autovoice, out, out)
                    yo, sro = F.read_wav(out)
                    row = {"path": path, "utterance": u, "source": s, "target": t, "seconds": secs,
                           **pitch_metrics(ref_t, ref_hz, ref_v, est_t, est_hz, est_v),
                           "predicted": clf.predict([F.speaker_vector(yo, sro)])[0],
                           "mcd_conv": F.mcd_dtw(yo, sro, tgt_x, tgt_sr), "mcd_src": mcd_src}
                    rows.append(row)
            done = len(rows)
            print(f"evaluate: {u} {s}: {done} conversions ({time.time() - t0:.0f} s)", flush=True)

    summary = {}
    for path in paths:
        r = [x for x in rows if x["path"] == path]
        summary[path] = {
            "conversions": len(r),
            "rpa": float(np.mean([x["rpa"] for x in r])),
            "rpa_min": float(np.min([x["rpa"] for x in r])),
            "f0_rmse_cents": float(np.nanmean([x["f0_rmse_cents"] for x in r])),
            "voicing_recall": float(np.mean([x["voicing_recall"] for x in r])),
            "named_target": float(np.mean([x["predicted"] == x["target"] for x in r])),
            "named_source": float(np.mean([x["predicted"] == x["source"] for x in r])),
            "mcd_conv_db": float(np.mean([x["mcd_conv"] for x in r])),
            "mcd_src_db": float(np.mean([x["mcd_src"] for x in r])),
            "seconds_per_conversion": float(np.mean([x["seconds"] for x in r])),
        }
        s = summary[path]
        s["mcd_gain_db"] = s["mcd_src_db"] - s["mcd_conv_db"]
        per_target = {}
        for t in singers:
            rt = [x for x in r if x["target"] == t]
            per_target[t] = {"rpa": float(np.mean([x["rpa"] for x in rt])),
                             "named_target": float(np.mean([x["predicted"] == t for x in rt])),
                             "mcd_conv_db": float(np.mean([x["mcd_conv"] for x in rt])),
                             "mcd_src_db": float(np.mean([x["mcd_src"] for x in rt]))}
        s["per_target"] = per_target
    # source pitch tracking alone: our pYIN on the real renderings vs their exact tracks
    src_rpa = []
    for u in utts:
        for sgr in singers:
            r = rend[(a.split, sgr, u)]
            ref = read_f0_csv(os.path.join(a.corpus, r["f0"]))
            est = read_f0_csv(os.path.join(a.work, f"{u}_{sgr}.src.f0.csv"))
            src_rpa.append(pitch_metrics(*ref, *est)["rpa"])
    result = {"split": a.split, "utterances": utts, "singers": singers,
              "temperature": a.temperature, "seed": a.seed,
              "classifier_real_accuracy": float(np.mean(real_ok)),
              "pyin_rpa_on_real_sources": float(np.mean(src_rpa)),
              "summary": summary, "rows": rows, "seconds": time.time() - t0}
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump(result, f, indent=1)
        os.replace(a.json + ".tmp", a.json)
    for path, s in summary.items():
        print(f"evaluate [{path}]: {s['conversions']} conversions; RPA {s['rpa']:.3f} (min {s['rpa_min']:.3f}), "
              f"F0 RMSE {s['f0_rmse_cents']:.1f} cents, voicing recall {s['voicing_recall']:.3f}; "
              f"classifier names target {100 * s['named_target']:.1f}%, source {100 * s['named_source']:.1f}%; "
              f"MCD to target {s['mcd_conv_db']:.2f} dB (source {s['mcd_src_db']:.2f} dB, "
              f"gain {s['mcd_gain_db']:.2f} dB); {s['seconds_per_conversion']:.2f} s per conversion")
    print(f"evaluate: pYIN on the real sources: RPA {np.mean(src_rpa):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
