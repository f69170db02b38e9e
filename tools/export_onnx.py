#!/usr/bin/python3
"""Export the reference model to an autovoice model package (ONNX components + model.yaml).

usage: tools/export_onnx.py --preset seed|small (--checkpoint FILE | --random-init --seed N) --out DIR
       [--name NAME] [--speakers N] [--components a,b,...]

Writes DIR/{content_encoder,pitch_encoder,flow_decoder,mel_projection,vocoder}.onnx, model.yaml
and speakers.npy. Errors are one line on stderr and exit code 2.
"""
import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def fail(msg):
    print(f"export_onnx: error: {msg}", file=sys.stderr)
    sys.exit(2)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        fail(message)


def main(argv=None):
    ap = _Parser(description=__doc__.split("\n")[1])
    ap.add_argument("--preset", required=True)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint")
    src.add_argument("--random-init", action="store_true")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name")
    ap.add_argument("--speakers", type=int, default=4,
                    help="speaker count for --random-init (named speaker0..N-1)")
    ap.add_argument("--components", help="comma-separated subset to export (default: all)")
    a = ap.parse_args(argv)

    from autovoice_ref.presets import PRESETS
    if a.preset not in PRESETS:
        fail(f"unknown preset '{a.preset}' (known: {', '.join(sorted(PRESETS))})")
    if a.random_init and a.seed is None:
        fail("--random-init needs --seed N")
    if a.checkpoint and a.seed is not None:
        fail("--seed only applies to --random-init")
    if a.speakers < 1:
        fail("--speakers must be at least 1")

    import torch  # after argument checks: a typo should not wait for torch to load
    from autovoice_ref import export as ex
    from autovoice_ref.checkpoint import CheckpointError, load_checkpoint
    from autovoice_ref.init import random_init_
    from autovoice_ref.model import SVCModel
    from autovoice_ref.package import write_package_files
    from autovoice_ref.presets import get_preset

    components = list(ex.COMPONENTS)
    if a.components:
        components = a.components.split(",")
        bad = [c for c in components if c not in ex.COMPONENTS]
        if bad:
            fail(f"unknown component(s) {', '.join(bad)} (known: {', '.join(ex.COMPONENTS)})")

    try:
        os.makedirs(a.out, exist_ok=True)
        probe = os.path.join(a.out, ".export_probe")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as e:
        fail(f"{a.out}: cannot write there ({e.strerror})")

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if a.checkpoint:
        try:
            model = load_checkpoint(a.checkpoint, a.preset)
        except CheckpointError as e:
            fail(str(e))
        source = f"checkpoint {os.path.basename(a.checkpoint)}"
    else:
        model = SVCModel(get_preset(a.preset), [f"speaker{i}" for i in range(a.speakers)])
        random_init_(model, a.seed)
        source = f"random-init seed {a.seed}"
    model.remove_weight_norm()
    model.eval()
    if a.random_init:
        try:
            ex.check_nontrivial(model)
        except ex.TrivialModelError as e:
            fail(f"random initialisation is trivial: {e}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python values
        for c in components:
            ex.export_component(model, c, os.path.join(a.out, c + ".onnx"))
    write_package_files(a.out, model, a.name or f"{a.preset}-{source.replace(' ', '-')}", source)
    print(f"export_onnx: wrote {', '.join(components)} ({a.preset}, {source}) to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
