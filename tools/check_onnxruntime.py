#!/usr/bin/python3
"""Runs the reference fixtures through ONNX Runtime on an exported model package and compares
with PyTorch's committed outputs: proves the ONNX graphs compute what the PyTorch model does.

usage: tools/check_onnxruntime.py PACKAGE_DIR [FIXTURES_DIR]
  PACKAGE_DIR   made by: tools/make_fixtures.py --out /tmp/fx --package PACKAGE_DIR
Prints one line per case and exits 1 if any relative L2 error exceeds 1e-5.
Needs the Python onnxruntime package (present on the GPU machines, not in Debian 12).
"""
import os
import sys

import numpy as np

TOLERANCE = 1e-5


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    import onnxruntime as ort
    pkg = sys.argv[1]
    fixtures = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fixtures", "reference")
    cases = {}
    with open(os.path.join(fixtures, "MANIFEST")) as f:
        for line in f:
            comp, case, role, name = line.split()[:4]
            cases.setdefault((comp, case), {"input": [], "output": []})[role].append(name)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sessions, bad = {}, 0
    print(f"onnxruntime {ort.__version__}, package {pkg}")
    for (comp, case), io in cases.items():
        if comp not in sessions:
            sessions[comp] = ort.InferenceSession(os.path.join(pkg, comp + ".onnx"), opts,
                                                  providers=["CPUExecutionProvider"])
        d = os.path.join(fixtures, comp, case)
        feeds = {n: np.load(os.path.join(d, n + ".npy")) for n in io["input"]}
        got = sessions[comp].run(None, feeds)[0]
        want = np.load(os.path.join(d, io["output"][0] + ".npy"))
        if got.shape != want.shape:
            err = float("inf")
        else:
            err = float(np.linalg.norm((got - want).astype(np.float64)) /
                        max(np.linalg.norm(want.astype(np.float64)), 1e-30))
        ok = err <= TOLERANCE
        bad += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {comp:16s} {case:14s} {str(got.shape):18s} relative L2 {err:.3g}")
    print(f"{len(cases) - bad} of {len(cases)} cases within {TOLERANCE:g}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
