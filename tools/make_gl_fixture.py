#!/usr/bin/python3
"""Writes tests/fixtures/griffin_lim/: torchaudio's mel filterbanks and log-mel spectrograms that
tests/c/test_griffin_lim.c holds the C mel code (src/dsp/mel.c) to.

Files (float32 .npy, about 40 KB in all):
  signal.npy          [3001] five partials of 196.5 Hz (amplitudes 0.3 / k) plus white noise of
                      rms 0.01 (numpy default_rng(20261124)), made in float64
  fb_slaney.npy       torchaudio melscale_fbanks(129 bins, 0-8000 Hz, 24 mels, 22050 Hz, slaney
                      scale, slaney norm), transposed to [n_mels, bins] as the C code lays it out
  fb_htk.npy          the same for 129 bins, 50-7000 Hz, 20 mels, 16000 Hz, htk scale, no norm
  logmel_decoder.npy  [80, 11] the decoder mel of docs/MODEL_PACKAGE.md on signal (HiFi-GAN:
                      reflect-pad (n_fft - hop) / 2, torch.stft center=False, magnitude, slaney
                      filterbank, ln(max(mel, 1e-5)))
  logmel_content.npy  [80, 10] the content-encoder mel on signal taken as 16 kHz
                      (torchaudio.transforms.MelSpectrogram, power 2, htk, center=True,
                      ln(mel + 1e-8))
Spectrograms are computed in float64 (torch.set_default_dtype), so the fixture's own rounding is
only the final cast to float32.

Usage: /usr/bin/python3 tools/make_gl_fixture.py [OUT_DIR]
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio

HERE = os.path.dirname(os.path.abspath(__file__))


def signal():
    n = np.arange(3001, dtype=np.float64)
    x = np.zeros_like(n)
    for k in range(1, 6):
        x += 0.3 / k * np.sin(2 * np.pi * 196.5 * k * n / 22050.0 + 0.7 * k)
    x += 0.01 * np.random.default_rng(20261124).standard_normal(n.shape)
    return x


def fbank(bins, f_min, f_max, n_mels, rate, norm, scale):
    fb = torchaudio.functional.melscale_fbanks(bins, f_min, f_max, n_mels, rate, norm=norm,
                                               mel_scale=scale)
    return fb.T.numpy()  # [n_mels, bins]


def decoder_logmel(x):
    n_fft, hop = 1024, 256
    pad = (n_fft - hop) // 2
    y = F.pad(torch.from_numpy(x)[None, None], (pad, pad), mode="reflect")[0, 0]
    spec = torch.stft(y, n_fft, hop_length=hop, win_length=n_fft,
                      window=torch.hann_window(n_fft, periodic=True, dtype=torch.float64),
                      center=False, return_complex=True).abs()
    fb = torchaudio.functional.melscale_fbanks(n_fft // 2 + 1, 0.0, 8000.0, 80, 22050,
                                               norm="slaney", mel_scale="slaney")
    mel = fb.T @ spec
    return torch.log(torch.clamp(mel, min=1e-5)).numpy()


def content_logmel(x):
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=16000, n_fft=1024, win_length=1024, hop_length=320, f_min=0.0, f_max=8000.0,
        n_mels=80, power=2.0, center=True, pad_mode="reflect", norm=None, mel_scale="htk")
    return torch.log(mel(torch.from_numpy(x)) + 1e-8).numpy()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "tests", "fixtures",
                                                             "griffin_lim")
    os.makedirs(out, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    x = signal()
    arrays = {
        "signal": x,
        "fb_slaney": fbank(129, 0.0, 8000.0, 24, 22050, "slaney", "slaney"),
        "fb_htk": fbank(129, 50.0, 7000.0, 20, 16000, None, "htk"),
        # the C side reads the float32 signal: compute the references from exactly that
        "logmel_decoder": decoder_logmel(x.astype(np.float32).astype(np.float64)),
        "logmel_content": content_logmel(x.astype(np.float32).astype(np.float64)),
    }
    for name, a in arrays.items():
        np.save(os.path.join(out, name + ".npy"), np.ascontiguousarray(a, dtype=np.float32))
        print(f"{name}: {a.shape}")


if __name__ == "__main__":
    main()
