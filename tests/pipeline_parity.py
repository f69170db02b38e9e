#!/usr/bin/env python3
"""`autovoice convert` end to end against the PyTorch reference model, on the fixture weights.

    pipeline_parity.py AUTOVOICE_BINARY FIXTURE_PACKAGE SCRATCH_DIR

The C path (resampling, peak normalisation, F0 frames, interpolation to decoder frames,
conditioning, flow, mel projection, vocoder, chunk assembly) against SPEC §2 written in PyTorch
here. The comparison removes what the two sides legitimately do differently:
  - the input is 16 kHz and the output 22.05 kHz, the model's own rates, so no resampling runs;
  - F0 is supplied as a CSV at the model's 100 frames/s (no tracker);
  - temperature 0, so the flow's noise (a counter-based generator in C) is zero on both sides.
Checked: whole-input conversion, and 4-s chunks with enough content context to cover the input
(the chunking is then exact up to float rounding), each within 1e-4 relative L2 of PyTorch.
Run by ctest (`pipeline_parity`) with Debian's python3 (torch 1.13)."""
import os
import struct
import subprocess
import sys
import wave

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from make_fixtures import build_model  # noqa: E402


def read_float_wav(path):
    """32-bit float WAV (what --bits float writes) -> float32 array, rate."""
    data = open(path, "rb").read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", path
    pos, rate, samples = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            assert fmt in (3, 0xFFFE) and channels == 1 and bits == 32, (fmt, channels, bits)
        elif cid == b"data":
            samples = np.frombuffer(body, dtype="<f4").astype(np.float32)
        pos += 8 + size + (size & 1)
    return samples, rate


def main(argv):
    binary, package, scratch = argv[1:4]
    os.makedirs(scratch, exist_ok=True)
    torch.set_num_threads(2)
    sr = 16000
    seconds = 12.0
    n = int(seconds * sr)
    t = np.arange(n) / sr
    # a sung-like input: a harmonic tone gliding in pitch with a formant-ish envelope, and a pause
    f = 196.0 * 2 ** (np.sin(2 * np.pi * 0.15 * t) / 2)
    phase = 2 * np.pi * np.cumsum(f) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.5 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
    x[(t > 5.0) & (t < 5.6)] = 0.0
    pcm = np.round(np.clip(x / np.abs(x).max() * 0.7, -1, 1) * 32767).astype("<i2")
    in_path = os.path.join(scratch, "pp_in.wav")
    with wave.open(in_path, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(sr), w.writeframes(pcm.tobytes())
    audio = pcm.astype(np.float32) / np.float32(32768.0)

    # F0 at 100 frames/s: the glide, unvoiced in the pause and at every 9th frame
    t_pitch = int(np.floor(n / sr * 100)) + 1
    ft = np.arange(t_pitch) / 100.0
    f0 = np.round(196.0 * 2 ** (np.sin(2 * np.pi * 0.15 * ft) / 2), 3)
    voiced = ~((ft > 5.0) & (ft < 5.6))
    voiced[::9] = False
    csv = os.path.join(scratch, "pp_f0.csv")
    with open(csv, "w") as fh:
        fh.write("time,f0,voiced\n")
        for k in range(t_pitch):
            fh.write(f"{ft[k]:.2f},{f0[k] if voiced[k] else 0:.3f},{int(voiced[k])}\n")

    # PyTorch, SPEC §2
    model = build_model()
    speakers = np.load(os.path.join(package, "speakers.npy"))
    with torch.no_grad():
        a = torch.from_numpy(audio)
        a = a * (torch.tensor(1.0, dtype=torch.float32) / a.abs().max())
        content = model.content_encoder(a[None])
        f0v = torch.from_numpy(np.where(voiced, f0, 0.0).astype(np.float32))[None]
        pitch = model.pitch_encoder(f0v, torch.from_numpy(voiced)[None])
        n_dec = int(np.floor(n * 22050 / sr + 0.5))
        frames = (n_dec + 255) // 256
        cond = model.conditioning(content, pitch, torch.from_numpy(speakers[:1]), frames)
        z = torch.zeros(1, model.preset.latent_dim, frames)
        latent = model.flow.inverse(z, torch.ones(1, 1, frames), cond)
        ref = model.vocoder(model.mel_projection(latent))[0, 0, :n_dec].numpy().astype(np.float64)

    failures = 0
    for label, extra in (("whole input", ["--chunk", "0"]),
                         ("4 s chunks, context covering the input", ["--chunk", "4", "--context", "10"])):
        out = os.path.join(scratch, "pp_out.wav")
        cmd = [binary, "convert", in_path, "-o", out, "--model", package, "--f0", csv,
               "--temperature", "0", "--output-rate", "22050", "--bits", "float", "--force",
               "--quiet", "--threads", "2"] + extra
        subprocess.run(cmd, check=True)
        y, rate = read_float_wav(out)
        assert rate == 22050 and len(y) == n_dec, (rate, len(y), n_dec)
        err = np.linalg.norm(y - ref) / np.linalg.norm(ref)
        ok = err <= 1e-4
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {label}: relative L2 against PyTorch {err:.2e} (<= 1e-4)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
