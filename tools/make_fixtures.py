#!/usr/bin/python3
"""Deterministic reference fixtures for the C tests.

The model is the `small` preset with seeded random weights (FIXTURE_SEED); inputs are drawn from
numpy's legacy RandomState, so both are independent of the torch/numpy version. Outputs are
PyTorch's, computed on the CPU in float64 from the float32 inputs and weights and then rounded to
float32: they are the exact answer to float32 rounding, so any float32 implementation (ours, ONNX
Runtime, another PyTorch) is compared with the truth rather than with one float32 summation order,
and regeneration on another PyTorch version or CPU reproduces them. (The content encoder's float32
error against float64 is ~4e-6 relative L2: its log-mel amplifies the DFT's rounding in quiet
bands.) The pitch encoder is the exception: it runs in float32, because its bin index is
floor() of a float32 expression, and float64 could pick the neighbouring bin at a boundary.

usage:
  tools/make_fixtures.py [--out tests/fixtures/reference]   regenerate the committed fixtures
  tools/make_fixtures.py --check tests/fixtures/reference  regenerate into a temporary folder and
                                                           compare (relative L2 <= 1e-6); exit 1
                                                           on any difference
  tools/make_fixtures.py --package DIR                     also export the fixture model as an
                                                           ONNX model package into DIR
  tools/make_fixtures.py --preset seed --out DIR --package PKG
                                                           the same cases for the `seed` preset
                                                           (too large to commit: made at test time)

Layout: OUT/<component>/<case>/<tensor>.npy, and OUT/MANIFEST with one line per tensor:
  <component> <case> <input|output> <tensor> <dtype> <dim0>x<dim1>x...
"""
import argparse
import os
import shutil
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

FIXTURE_SEED = 20261124
FIXTURE_PRESET = "small"
FIXTURE_SPEAKERS = ["alto", "tenor", "soprano", "bass"]
TOLERANCE = 1e-6
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "reference")


def _sung_tone(rng, n, sr=16000, f0=220.0):
    """A harmonic tone with vibrato, a glide and a noise burst, peak-normalised to 1."""
    t = np.arange(n) / sr
    freq = f0 * 2 ** ((t / max(t[-1], 1e-3)) * 0.5 + 0.02 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 9))
    burst = slice(n // 3, n // 3 + n // 10)
    x[burst] += rng.standard_normal(len(x[burst])) * 0.8
    x += rng.standard_normal(n) * 0.01
    return (x / np.abs(x).max()).astype(np.float32)


def _f0_contour(rng, t, lo=150.0, hi=450.0):
    frames = np.arange(t)
    f0 = lo * (hi / lo) ** (frames / max(t - 1, 1)) * 2 ** (0.03 * np.sin(2 * np.pi * frames / 18))
    voiced = np.ones(t, dtype=bool)
    voiced[t // 4: t // 4 + max(1, t // 10)] = False
    f0 = f0 * (1 + 0.001 * rng.standard_normal(t))
    return f0.astype(np.float32), voiced


def cases(preset):
    """{component: {case: {input name: array}}}; every case is drawn from its own seed."""
    def rs(k):
        return np.random.RandomState(FIXTURE_SEED + k)

    out = {"content_encoder": {}, "pitch_encoder": {}, "flow_decoder": {},
           "mel_projection": {}, "vocoder": {}}
    ce = out["content_encoder"]
    ce["1s"] = {"input_audio": _sung_tone(rs(1), 16000)[None]}
    ce["odd"] = {"input_audio": _sung_tone(rs(2), 12347, f0=330.0)[None]}
    ce["short"] = {"input_audio": _sung_tone(rs(3), 1000, f0=150.0)[None]}
    ce["batch2"] = {"input_audio": np.stack([_sung_tone(rs(4), 8001), _sung_tone(rs(5), 8001, f0=500.0)])}

    pe = out["pitch_encoder"]
    f0, v = _f0_contour(rs(11), 100)
    pe["1s"] = {"f0_input": f0[None], "voiced_mask": v[None]}
    edge = np.array([0, -5, np.nan, np.inf, -np.inf, 79, 80, 80.5, 1000, 1001, 5000, 440, 440,
                     250, 250, 123.4, 999.9, 1e-3, 90, 95, 100, 200, 300, 400, 500, 600, 700, 800,
                     900, 85, 87, 88, 89, 81, 82, 83, 84], dtype=np.float32)
    ev = np.ones(len(edge), dtype=bool)
    ev[[12, 14]] = False  # valid F0 with voiced_mask false must count as unvoiced
    pe["edges"] = {"f0_input": edge[None], "voiced_mask": ev[None]}
    a, av = _f0_contour(rs(12), 51, 100.0, 300.0)
    b, bv = _f0_contour(rs(13), 51, 300.0, 900.0)
    pe["batch2"] = {"f0_input": np.stack([a, b]), "voiced_mask": np.stack([av, bv])}

    fd = out["flow_decoder"]
    L, C = preset.latent_dim, preset.cond_dim

    def flow_case(k, batch, frames):
        r = rs(k)
        return {"latent_input": r.standard_normal((batch, L, frames)).astype(np.float32),
                "mask": np.ones((batch, 1, frames), dtype=np.float32),
                "conditioning": r.standard_normal((batch, C, frames)).astype(np.float32)}
    fd["1s"] = flow_case(21, 1, 87)
    fd["t1"] = flow_case(22, 1, 1)
    fd["odd"] = flow_case(23, 1, 23)
    fd["batch2_masked"] = flow_case(24, 2, 40)
    fd["batch2_masked"]["mask"][1, :, 29:] = 0.0

    mp = out["mel_projection"]
    mp["1s"] = {"latent_input": rs(31).standard_normal((1, L, 87)).astype(np.float32)}
    mp["odd"] = {"latent_input": rs(32).standard_normal((1, L, 13)).astype(np.float32)}
    mp["batch2"] = {"latent_input": rs(33).standard_normal((2, L, 20)).astype(np.float32)}

    vc = out["vocoder"]
    M = preset.mel_channels

    def mel(k, batch, frames):
        return {"mel_input": (rs(k).standard_normal((batch, M, frames)) * 1.5 - 4.0).astype(np.float32)}
    vc["1s"] = mel(41, 1, 87)
    vc["t5"] = mel(42, 1, 5)
    vc["batch2"] = mel(43, 2, 16)
    return out


def build_model(preset=FIXTURE_PRESET):
    from autovoice_ref.init import random_init_
    from autovoice_ref.model import SVCModel
    from autovoice_ref.presets import get_preset
    model = SVCModel(get_preset(preset), FIXTURE_SPEAKERS)
    random_init_(model, FIXTURE_SEED)
    model.remove_weight_norm()
    return model.eval()


def generate(out_dir, preset=FIXTURE_PRESET):
    import torch
    from autovoice_ref.export import COMPONENTS, GRAPHS
    import copy
    torch.set_num_threads(1)
    model = build_model(preset)
    model64 = copy.deepcopy(model).double()
    manifest = []
    for comp, comp_cases in cases(model.preset).items():
        inputs, outputs, _ = COMPONENTS[comp]
        in_float64 = comp != "pitch_encoder"
        graph = GRAPHS[comp](model64 if in_float64 else model).eval()
        for case, tensors in comp_cases.items():
            d = os.path.join(out_dir, comp, case)
            os.makedirs(d, exist_ok=True)
            args = [torch.from_numpy(tensors[n]) for n in inputs]
            if in_float64:
                args = [a.double() if a.is_floating_point() else a for a in args]
            with torch.no_grad():
                result = graph(*args).float()
            arrays = [("input", n, tensors[n]) for n in inputs]
            arrays.append(("output", outputs[0], result.numpy()))
            for role, name, arr in arrays:
                np.save(os.path.join(d, name + ".npy"), arr)
                manifest.append(f"{comp} {case} {role} {name} {arr.dtype.name} "
                                f"{'x'.join(str(s) for s in arr.shape)}")
    with open(os.path.join(out_dir, "MANIFEST"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    return model


def rel_l2(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if a.shape != b.shape:
        return float("inf")
    if np.array_equal(a, b, equal_nan=True):
        return 0.0
    finite = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return float("inf")
    den = np.linalg.norm(b[finite])
    return float(np.linalg.norm((a - b)[finite]) / (den if den > 0 else 1.0))


def check(committed):
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        with open(os.path.join(committed, "MANIFEST")) as f:
            want = f.read().splitlines()
        with open(os.path.join(tmp, "MANIFEST")) as f:
            got = f.read().splitlines()
        bad = 0
        if want != got:
            print(f"MANIFEST differs: {sorted(set(want) ^ set(got))}")
            bad += 1
        for line in got:
            comp, case, role, name = line.split()[:4]
            rel = os.path.join(comp, case, name + ".npy")
            path = os.path.join(committed, rel)
            if not os.path.exists(path):
                print(f"{rel}: missing from {committed}")
                bad += 1
                continue
            err = rel_l2(np.load(os.path.join(tmp, rel)), np.load(path))
            ok = err <= TOLERANCE
            bad += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {rel:55s} relative L2 {err:.3g}")
        print(f"{len(got) - bad} of {len(got)} fixture tensors reproduce within {TOLERANCE:g}")
        return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description="regenerate or check the reference fixtures")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", metavar="DIR")
    ap.add_argument("--package", metavar="DIR", help="also export the fixture model as a package")
    ap.add_argument("--preset", default=FIXTURE_PRESET, choices=["small", "seed"])
    a = ap.parse_args()
    if a.check:
        return check(a.check)
    if a.preset != FIXTURE_PRESET and os.path.abspath(a.out) == DEFAULT_OUT:
        print("make_fixtures: the committed fixtures are the small preset; give --out", file=sys.stderr)
        return 2
    tmp = a.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model = generate(tmp, a.preset)
    shutil.rmtree(a.out, ignore_errors=True)
    os.replace(tmp, a.out)
    print(f"make_fixtures: wrote {a.out}")
    if a.package:
        from autovoice_ref.export import COMPONENTS, export_component
        from autovoice_ref.package import write_package_files
        os.makedirs(a.package, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for comp in COMPONENTS:
                export_component(model, comp, os.path.join(a.package, comp + ".onnx"))
        write_package_files(a.package, model, f"fixture-{a.preset}", f"random-init seed {FIXTURE_SEED}")
        print(f"make_fixtures: wrote package {a.package}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
