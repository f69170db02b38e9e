"""The corpus in device memory, and random crops of it for training.

Every rendering of the chosen split is held as flat tensors (one concatenation per kind) with
per-rendering offsets: 22.05 kHz audio, 16 kHz audio (for the content encoder; resampled once
here, band-limited by FFT, as the C pipeline resamples the whole file before its content encoder), the decoder log-mel
(presets.DecoderMel: HiFi-GAN padding, frames = samples // 256) and the 100 fps F0 track
(Hz, voiced flag) from the corpus' .f0.csv files.
"""
import json
import math
import os
import wave

import numpy as np
import torch
import torch.nn.functional as F

from autovoice_ref.melfront import mel_filterbank


class DecoderMel(torch.nn.Module):
    """audio [B, N] -> ln(max(mel, floor)) [B, 80, N // hop], the model's decoder mel."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.register_buffer("window", torch.hann_window(cfg.win_length, periodic=True))
        fb = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.f_min, cfg.f_max,
                            cfg.mel_scale, cfg.mel_norm)
        self.register_buffer("fb", torch.from_numpy(fb.astype(np.float32)))

    def forward(self, audio):
        c = self.cfg
        pad = (c.n_fft - c.hop_length) // 2
        x = F.pad(audio.float().unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
        spec = torch.stft(x, c.n_fft, c.hop_length, c.win_length, self.window, center=False,
                          return_complex=True)
        mag = torch.sqrt(spec.real ** 2 + spec.imag ** 2 + 1e-9)
        return torch.log(torch.clamp(torch.matmul(self.fb, mag), min=c.log_floor))


def resample_fft(x, sr, to):
    """Band-limited resampling of a whole 1-D signal by FFT (truncate or zero-pad the spectrum)."""
    n = int(round(x.shape[-1] * to / sr))
    spec = torch.fft.rfft(x.double())
    m = n // 2 + 1
    out = torch.zeros(m, dtype=spec.dtype, device=x.device)
    k = min(m, spec.shape[-1])
    out[:k] = spec[:k]
    return (torch.fft.irfft(out, n) * (n / x.shape[-1])).float()


def read_wav(path):
    with wave.open(path) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError(f"{path}: expected mono 16-bit PCM")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0, \
            w.getframerate()


def read_f0(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return a[:, 1].astype(np.float32), a[:, 2] > 0


class Corpus:
    def __init__(self, root, preset, split="train", device="cpu", limit=None):
        with open(os.path.join(root, "corpus.json")) as f:
            self.meta = json.load(f)
        self.preset = preset
        self.device = device
        self.singers = [s["name"] for s in self.meta["singers"]]
        rend = [r for r in self.meta["renderings"] if r["split"] == split]
        if limit:
            rend = rend[:limit]
        if not rend:
            raise ValueError(f"{root}: no renderings in split '{split}'")
        self.items = rend
        sr = preset.mel.sample_rate
        sr16 = preset.content.sample_rate
        hop = preset.hop_length
        a22, a16, f0s, vs = [], [], [], []
        for r in rend:
            x, rate = read_wav(os.path.join(root, r["wav"]))
            if rate != sr:
                raise ValueError(f"{r['wav']}: {rate} Hz, expected {sr}")
            x = x[:len(x) // hop * hop]
            a22.append(x)
            f0, v = read_f0(os.path.join(root, r["f0"]))
            f0s.append(f0)
            vs.append(v)
        self.n22 = np.array([len(x) for x in a22])
        self.frames = self.n22 // hop
        self.o22 = np.concatenate([[0], np.cumsum(self.n22)[:-1]])
        self.om = np.concatenate([[0], np.cumsum(self.frames)[:-1]])
        self.audio22 = torch.from_numpy(np.concatenate(a22)).to(device)
        mel = DecoderMel(preset.mel).to(device)
        with torch.no_grad():
            mels, x16 = [], []
            for i in range(len(rend)):
                seg = self.audio22[self.o22[i]:self.o22[i] + self.n22[i]]
                mels.append(mel(seg[None])[0])
                x16.append(resample_fft(seg, sr, sr16))
        self.mel = torch.cat(mels, dim=1).contiguous()              # [80, total frames]
        self.n16 = np.array([len(x) for x in x16])
        self.o16 = np.concatenate([[0], np.cumsum(self.n16)[:-1]])
        self.audio16 = torch.cat(x16).contiguous()
        self.nf = np.array([len(f) for f in f0s])
        self.of = np.concatenate([[0], np.cumsum(self.nf)[:-1]])
        self.f0 = torch.from_numpy(np.concatenate(f0s)).to(device)
        self.voiced = torch.from_numpy(np.concatenate(vs)).to(device)
        self.speaker = torch.tensor([self.singers.index(r["singer"]) for r in rend], device=device)
        self.hours = float(self.n22.sum()) / sr / 3600

    def __len__(self):
        return len(self.items)

    def sample_starts(self, rng, batch, frames):
        """(rendering indices, start frames) for `batch` crops of `frames` decoder frames;
        renderings drawn in proportion to their length."""
        avail = self.frames - frames
        ok = np.where(avail >= 0)[0]
        w = avail[ok] + 1
        idx = ok[rng.choice(len(ok), size=batch, p=w / w.sum())]
        starts = np.array([rng.randint(0, self.frames[i] - frames + 1) for i in idx])
        return idx, starts

    def crops(self, idx, starts, frames):
        """Everything for decoder frames [start, start + frames) of each chosen rendering:
        mel [B, 80, T], audio22 [B, 256 T], audio16 [B, N16], f0 / voiced [B, Tp], speaker [B].
        The 16 kHz and F0 crops cover the same time span (N16 = round(T 256 16000 / 22050),
        Tp = floor(T 256 / 22050 * 100) + 1, as the C pipeline counts F0 frames)."""
        p = self.preset
        dev = self.device
        hop, sr, sr16 = p.hop_length, p.mel.sample_rate, p.content.sample_rate
        T = frames
        ar = torch.arange(T, device=dev)
        mi = torch.as_tensor(self.om[idx] + starts, device=dev)[:, None] + ar[None]
        mel = self.mel[:, mi].permute(1, 0, 2)
        ai = torch.as_tensor(self.o22[idx] + starts * hop, device=dev)[:, None] + \
            torch.arange(T * hop, device=dev)[None]
        audio = self.audio22[ai]
        n16 = min(int(round(T * hop * sr16 / sr)), int(self.n16[idx].min()))
        s16 = np.maximum(0, np.minimum(np.round(starts * hop * sr16 / sr).astype(np.int64),
                                       self.n16[idx] - n16))
        i16 = torch.as_tensor(self.o16[idx] + s16, device=dev)[:, None] + torch.arange(n16, device=dev)[None]
        a16 = self.audio16[i16]
        tp = int(math.floor(T * hop / sr * 100)) + 1
        sf = np.round(starts * hop / sr * 100).astype(np.int64)
        fi = np.minimum(sf[:, None] + np.arange(tp)[None], self.nf[idx][:, None] - 1) + self.of[idx][:, None]
        fi = torch.as_tensor(fi, device=dev)
        return {"mel": mel, "audio": audio, "audio16": a16, "f0": self.f0[fi], "voiced": self.voiced[fi],
                "speaker": self.speaker[torch.as_tensor(idx, device=dev)]}

    def whole(self, i):
        """One whole rendering: the same fields, batch 1."""
        T = int(self.frames[i])
        return self.crops(np.array([i]), np.array([0]), T)
