#!/usr/bin/python3
"""PyTorch (Debian's 1.13 here) on the same weights as the exported fixture model: the vocoder of
a preset with tools/make_fixtures.py's seeded initialisation, weight norm removed, eval mode.

usage: bench/torch_vocoder.py --preset seed --input MEL.npy --threads N --repeat N --out OUT.npy
Prints one JSON line {"median_ms", "min_ms", "runs", "torch"}."""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import make_fixtures  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="seed")
    ap.add_argument("--input", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--out")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = make_fixtures.build_model(a.preset)
    mel = torch.from_numpy(np.load(a.input))
    times = []
    with torch.no_grad():
        for _ in range(a.warmup):
            y = model.vocoder(mel)
        for _ in range(a.repeat):
            t = time.perf_counter()
            y = model.vocoder(mel)
            times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    if a.out:
        np.save(a.out, y.numpy())
    print(json.dumps({"median_ms": times[len(times) // 2], "min_ms": times[0], "runs": len(times),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
