"""Mel filterbanks and the content encoder's log-mel front end.

The front end is built from operators every PyTorch version exports to ONNX: a Conv1d whose
fixed weights are a windowed DFT basis (the STFT), an elementwise power, and a MatMul with the
mel filterbank. Debian's PyTorch 1.13 cannot export torch.stft; this graph is what replaces it,
and tests/test_melfront.py holds it to torchaudio's MelSpectrogram.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def hz_to_mel(f, scale):
    f = np.asarray(f, dtype=np.float64)
    if scale == "htk":
        return 2595.0 * np.log10(1.0 + f / 700.0)
    if scale == "slaney":
        # Linear below 1 kHz (3 mels per 200 Hz), logarithmic above: 27 mels per factor 6.4.
        linear = 3.0 * f / 200.0
        logstep = math.log(6.4) / 27.0
        return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / logstep, linear)
    raise ValueError(f"unknown mel scale '{scale}'")


def mel_to_hz(m, scale):
    m = np.asarray(m, dtype=np.float64)
    if scale == "htk":
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    if scale == "slaney":
        logstep = math.log(6.4) / 27.0
        return np.where(m >= 15.0, 1000.0 * np.exp(logstep * (m - 15.0)), 200.0 * m / 3.0)
    raise ValueError(f"unknown mel scale '{scale}'")


def mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max, scale="htk", norm="none"):
    """Triangular mel filters as a float64 array [n_mels, n_fft // 2 + 1].

    Filter i rises linearly from the (i)th to the (i+1)th of n_mels + 2 points equally spaced on
    the mel scale between f_min and f_max, and falls to zero at the (i+2)th. norm="slaney" scales
    each filter to unit area (2 / bandwidth in Hz), as librosa does.
    """
    n_freqs = n_fft // 2 + 1
    bin_hz = np.linspace(0.0, sample_rate / 2.0, n_freqs)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(f_min, scale), hz_to_mel(f_max, scale), n_mels + 2), scale)
    widths = np.diff(edges_hz)
    dist = edges_hz[None, :] - bin_hz[:, None]          # [n_freqs, n_mels + 2]
    rising = -dist[:, :-2] / widths[:-1]
    falling = dist[:, 2:] / widths[1:]
    fb = np.maximum(0.0, np.minimum(rising, falling)).T  # [n_mels, n_freqs]
    if norm == "slaney":
        fb *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    elif norm != "none":
        raise ValueError(f"unknown mel norm '{norm}'")
    return fb


def hann_periodic(length):
    n = np.arange(length, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(2.0 * math.pi * n / length)


class LogMelFrontEnd(nn.Module):
    """audio [B, N] -> ln(mel + floor) [B, n_mels, 1 + N // hop] (center=True, reflect padding).

    Needs N > n_fft / 2 (reflect padding cannot reach further than the signal)."""

    def __init__(self, cfg):
        super().__init__()
        if cfg.window != "hann_periodic" or not cfg.center:
            raise ValueError("LogMelFrontEnd implements the centred, periodic-Hann STFT only")
        self.n_fft = cfg.n_fft
        self.hop = cfg.hop_length
        self.power = cfg.power
        self.log_floor = cfg.log_floor
        n_freqs = cfg.n_fft // 2 + 1
        window = np.zeros(cfg.n_fft)
        offset = (cfg.n_fft - cfg.win_length) // 2
        window[offset:offset + cfg.win_length] = hann_periodic(cfg.win_length)
        angle = 2.0 * math.pi * np.outer(np.arange(n_freqs), np.arange(cfg.n_fft)) / cfg.n_fft
        basis = np.concatenate([np.cos(angle) * window, -np.sin(angle) * window])
        self.n_freqs = n_freqs
        self.register_buffer("dft_basis", torch.from_numpy(basis[:, None, :].astype(np.float32)))
        fb = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.f_min, cfg.f_max,
                            cfg.mel_scale, cfg.mel_norm)
        self.register_buffer("mel_basis", torch.from_numpy(fb.astype(np.float32)))

    def forward(self, audio):
        half = self.n_fft // 2
        x = F.pad(audio.unsqueeze(1), (half, half), mode="reflect")
        spec = F.conv1d(x, self.dft_basis, stride=self.hop)            # [B, 2F, T]
        re, im = spec[:, :self.n_freqs], spec[:, self.n_freqs:]
        power = re * re + im * im
        if self.power == 1.0:
            power = torch.sqrt(power)
        elif self.power != 2.0:
            power = power ** (self.power / 2.0)
        mel = torch.matmul(self.mel_basis, power)                      # [B, n_mels, T]
        return torch.log(mel + self.log_floor)
