#!/usr/bin/python3
"""Join the two trained parts into one reference-model checkpoint for tools/export_onnx.py.

usage: tools/train/assemble.py --parts DIR --out FILE.ckpt [--strip-optimisers DIR2]

DIR holds acoustic.pt.* and vocoder.pt.* as tools/train/train.py --export writes them. The
result is an autovoice_ref checkpoint (autovoice_ref/checkpoint.py) of the `small` preset with the
corpus' singers as speaker names, loadable with strict key checking. --strip-optimisers also writes
the parts without the vocoder's optimiser states into DIR2 (what is carried to a fresh machine to
resume: 34 MiB instead of 56 MiB).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--parts", required=True)
    ap.add_argument("--out")
    ap.add_argument("--strip-optimisers")
    a = ap.parse_args(argv)

    import shutil
    import torch
    import ckpt
    from autovoice_ref.checkpoint import save_checkpoint
    from autovoice_ref.model import SVCModel
    from autovoice_ref.presets import get_preset
    from train import load_slim_acoustic

    ac = ckpt.load_parts(a.parts, "acoustic")
    vo = ckpt.load_parts(a.parts, "vocoder")
    if a.out:
        model = SVCModel(get_preset("small"), ac["singers"])
        load_slim_acoustic(model, ac["model"])
        model.vocoder.load_state_dict(vo["generator"])
        extra = {"acoustic_state": ac["state"], "vocoder_state": vo["state"]}
        tmp = a.out + ".tmp"
        save_checkpoint(tmp, model, extra)
        os.replace(tmp, a.out)
        print(f"assemble: {a.out}: singers {', '.join(ac['singers'])}; acoustic step "
              f"{ac['state']['step']} ({ac['state']['seconds']:.0f} s), vocoder step "
              f"{vo['state']['step']} ({vo['state']['seconds']:.0f} s)")
    if a.strip_optimisers:
        os.makedirs(a.strip_optimisers, exist_ok=True)
        slim = {k: v for k, v in vo.items() if k not in ("opt_g", "opt_d")}
        n = ckpt.save_parts(slim, a.strip_optimisers, "vocoder")
        for f in os.listdir(a.parts):
            if f.startswith("acoustic.") or f == "vocoder.csv":
                shutil.copy(os.path.join(a.parts, f), os.path.join(a.strip_optimisers, f))
        print(f"assemble: resume parts in {a.strip_optimisers} (vocoder without optimisers: "
              f"{n / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
