"""The exportable log-mel front end against torchaudio's MelSpectrogram."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchaudio = pytest.importorskip("torchaudio")

from autovoice_ref.melfront import LogMelFrontEnd, mel_filterbank  # noqa: E402
from autovoice_ref.presets import ContentFrontEnd  # noqa: E402


def rel_err(a, b):
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


@pytest.mark.parametrize("shape", [(1, 16000), (1, 12347), (1, 1000), (2, 8001), (3, 513)])
def test_log_mel_matches_torchaudio(shape):
    cfg = ContentFrontEnd()
    g = torch.Generator().manual_seed(shape[1])
    t = torch.arange(shape[1]) / cfg.sample_rate
    audio = 0.6 * torch.sin(2 * np.pi * 247.0 * t) + 0.2 * torch.randn(shape, generator=g)
    ours = LogMelFrontEnd(cfg)(audio)
    ref = torchaudio.transforms.MelSpectrogram(
        sample_rate=cfg.sample_rate, n_fft=cfg.n_fft, win_length=cfg.win_length,
        hop_length=cfg.hop_length, n_mels=cfg.n_mels, f_min=cfg.f_min, f_max=cfg.f_max,
        power=cfg.power, center=True, pad_mode="reflect")(audio)
    ref = torch.log(ref + cfg.log_floor)
    assert ours.shape == ref.shape == (shape[0], cfg.n_mels, 1 + shape[1] // cfg.hop_length)
    err = rel_err(ours, ref)
    assert err <= 1e-4, f"relative error {err:.3g} for input {shape}"


@pytest.mark.parametrize("scale,norm", [("htk", "none"), ("slaney", "slaney"), ("slaney", "none")])
def test_filterbank_matches_torchaudio(scale, norm):
    ours = mel_filterbank(22050, 1024, 80, 0.0, 8000.0, scale, norm)
    ref = torchaudio.functional.melscale_fbanks(
        513, 0.0, 8000.0, 80, 22050, norm=None if norm == "none" else norm, mel_scale=scale).T.double()
    assert ours.shape == (80, 513)
    err = float(np.linalg.norm(ours - ref.numpy()) / np.linalg.norm(ref.numpy()))
    # torchaudio builds its filters in float32: agreement is limited to float32 rounding.
    assert err <= 2e-5, f"{scale}/{norm}: relative error {err:.3g}"


def test_front_end_rejects_unsupported_config():
    from dataclasses import replace
    with pytest.raises(ValueError):
        LogMelFrontEnd(replace(ContentFrontEnd(), center=False))
