#!/usr/bin/python3
"""Loss curves of a training run as one PNG (docs/TRAINING.md).

usage: tools/train/plot.py --parts DIR --out FILE.png

DIR holds acoustic.csv and vocoder.csv as tools/train/train.py writes them (one row per 50
steps; `seconds` is training time summed over slices).
"""
import argparse
import csv
import os
import sys


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    cols = {k: [] for k in rows[0]}
    for r in rows:
        for k, v in r.items():
            cols[k].append(float(v) if v not in ("", None) else float("nan"))
    return cols


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--parts", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ac = read(os.path.join(a.parts, "acoustic.csv"))
    vo = read(os.path.join(a.parts, "vocoder.csv"))
    fig, ax = plt.subplots(2, 2, figsize=(11, 7.5))
    tm = [s / 60 for s in ac["seconds"]]
    ax[0, 0].plot(tm, ac["mel_l1"], label="train: L1(mel_projection(z), mel), z ~ posterior")
    val = [(t, c, r, s) for t, c, r, s in zip(tm, ac["val_conv_l1_t0"], ac["val_recon_l1_t0"], ac["val_src_l1"])
           if c == c]
    ax[0, 0].plot([v[0] for v in val], [v[2] for v in val], "o-", ms=2, label="val: prior path, same singer (T=0)")
    ax[0, 0].plot([v[0] for v in val], [v[1] for v in val], "o-", ms=2, label="val: prior path, other singer (T=0)")
    ax[0, 0].plot([v[0] for v in val], [v[3] for v in val], "--", label="val: source mel vs other singer's")
    ax[0, 0].set_ylim(0.3, 1.5)
    ax[0, 0].set_title(f"acoustic part: mel L1 ({int(ac['step'][-1])} steps)")
    ax[0, 0].set_xlabel("training minutes")
    ax[0, 0].legend(fontsize=7)
    ax[0, 1].plot(tm, ac["kl"])
    ax[0, 1].set_title("acoustic part: KL per frame (posterior || flow prior)")
    ax[0, 1].set_xlabel("training minutes")
    tv = [s / 60 for s in vo["seconds"]]
    ax[1, 0].plot(tv, vo["mel_l1"])
    ax[1, 0].set_title(f"vocoder: mel L1 of generated audio ({int(vo['step'][-1])} steps)")
    ax[1, 0].set_xlabel("training minutes")
    ax[1, 1].plot(tv, vo["g_adv"], label="generator adversarial")
    ax[1, 1].plot(tv, vo["g_fm"], label="feature matching (x2)")
    ax[1, 1].plot(tv, vo["d_loss"], label="discriminators")
    ax[1, 1].set_title("vocoder: GAN losses")
    ax[1, 1].set_xlabel("training minutes")
    ax[1, 1].legend(fontsize=7)
    for x in ax.flat:
        x.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(a.out, dpi=80)
    print(f"plot: wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
