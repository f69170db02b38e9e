"""Features for the quality measurements, in numpy only (docs/QUALITY.md).

  mfcc(x, sr)           c0..c24 per 256-sample (22.05 kHz) frame: the mel cepstrum of the natural
                        log of an 80-band slaney mel magnitude spectrum (0-8000 Hz, n_fft 1024,
                        Hann; the model's decoder mel), scaled as a real cepstrum:
                        c_d = (1/80) sum_n ln(mel_n) cos(pi d (n + 1/2) / 80), so that
                        ln mel ~ c0 + 2 sum_d c_d cos(...) (the scale the MCD formula assumes)
  speaker_vector(x, sr) mean and standard deviation of c1..c19 over the frames within 40 dB of the
                        loudest: 38 numbers describing a voice
  mcd_dtw(a, b)         mel-cepstral distortion in dB between two recordings, c1..c24 on frames
                        within 40 dB of each file's loudest, aligned by DTW:
                        (10 / ln 10) * sqrt(2 * sum_d (a_d - b_d)^2), averaged over the path
"""
import math
import os
import sys
import wave

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from autovoice_ref.melfront import hann_periodic, mel_filterbank  # noqa: E402

SR = 22050
N_FFT, HOP, N_MELS = 1024, 256, 80
_FB = mel_filterbank(SR, N_FFT, N_MELS, 0.0, 8000.0, "slaney", "slaney")
_WIN = hann_periodic(N_FFT)


def read_wav(path):
    """Mono 16-bit PCM WAV -> (float64 samples, rate). Other formats: decode with sox first."""
    with wave.open(path) as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM")
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
        ch, sr = w.getnchannels(), w.getframerate()
    if ch > 1:
        x = x.reshape(-1, ch).mean(axis=1)
    return x, sr


def resample(x, sr, to=SR):
    """Band-limited resampling by FFT (whole signal); enough for analysis features."""
    if sr == to:
        return x
    n = int(round(len(x) * to / sr))
    X = np.fft.rfft(x)
    m = n // 2 + 1
    Y = np.zeros(m, dtype=complex)
    k = min(m, len(X))
    Y[:k] = X[:k]
    return np.fft.irfft(Y, n) * (n / len(x))


def mfcc(x, sr=SR, n_ceps=25):
    x = resample(np.asarray(x, dtype=np.float64), sr)
    pad = (N_FFT - HOP) // 2
    x = np.pad(x, (pad, pad), mode="reflect")
    frames = 1 + (len(x) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * _WIN, axis=1))
    logmel = np.log(np.maximum(spec @ _FB.T, 1e-5))               # [frames, 80]
    n = np.arange(N_MELS)
    k = np.arange(n_ceps)[:, None]
    dct = np.cos(np.pi * k * (2 * n + 1) / (2 * N_MELS)) / N_MELS
    return logmel @ dct.T, logmel                                  # [frames, n_ceps]


def active(logmel, range_db=40.0):
    e = np.log(np.sum(np.exp(logmel), axis=1) + 1e-12)
    return e >= e.max() - range_db / 20.0 * math.log(10.0)


def speaker_vector(x, sr=SR):
    c, lm = mfcc(x, sr)
    c = c[active(lm), 1:20]
    return np.concatenate([c.mean(axis=0), c.std(axis=0)])


def dtw_path_cost(a, b):
    """Mean frame distance along the DTW path (steps (1,1), (1,0), (0,1)); a [n, d], b [m, d].
    Vectorised over anti-diagonals."""
    n, m = len(a), len(b)
    dist = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    inf = np.inf
    D = np.full((n + 1, m + 1), inf)
    L = np.zeros((n + 1, m + 1))
    D[0, 0] = 0.0
    for s in range(2, n + m + 1):               # s = i + j over 1-based cells
        i = np.arange(max(1, s - m), min(n, s - 1) + 1)
        j = s - i
        cand = np.stack([D[i - 1, j - 1], D[i - 1, j], D[i, j - 1]])
        lens = np.stack([L[i - 1, j - 1], L[i - 1, j], L[i, j - 1]])
        k = np.argmin(cand, axis=0)
        D[i, j] = cand[k, np.arange(len(i))] + dist[i - 1, j - 1]
        L[i, j] = lens[k, np.arange(len(i))] + 1
    return D[n, m] / L[n, m]


def mcd_dtw(xa, sra, xb, srb, order=24):
    ca, la = mfcc(xa, sra)
    cb, lb = mfcc(xb, srb)
    ca, cb = ca[active(la), 1:order + 1], cb[active(lb), 1:order + 1]
    # distance per frame is sqrt(sum d^2); MCD scales it by (10 / ln 10) * sqrt(2)
    return (10.0 / math.log(10.0)) * math.sqrt(2.0) * dtw_path_cost(ca, cb)


class NearestCentroid:
    """Standardised features, Euclidean distance to each class mean."""

    def fit(self, X, y):
        X = np.asarray(X)
        self.mu, self.sd = X.mean(axis=0), X.std(axis=0) + 1e-9
        Z = (X - self.mu) / self.sd
        self.classes = sorted(set(y))
        self.centroids = np.stack([Z[np.array(y) == c].mean(axis=0) for c in self.classes])
        return self

    def predict(self, X):
        Z = (np.asarray(X) - self.mu) / self.sd
        d = ((Z[:, None, :] - self.centroids[None]) ** 2).sum(-1)
        return [self.classes[i] for i in d.argmin(axis=1)]
