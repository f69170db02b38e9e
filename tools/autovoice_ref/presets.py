"""Model presets of the autovoice reference model (SPEC §2).

`seed` reproduces the original system's sizes; `small` differs only in the vocoder's initial width
(192 instead of 512). Every other number is shared, and everything that a C pipeline needs to know
about a model (rates, mel definitions, dimensions) is written from here into model.yaml.
"""
from dataclasses import dataclass, field, asdict, replace
from typing import Tuple


@dataclass(frozen=True)
class ContentFrontEnd:
    sample_rate: int = 16000
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 320
    n_mels: int = 80
    f_min: float = 0.0
    f_max: float = 8000.0        # sample_rate / 2, torchaudio's default
    power: float = 2.0
    log_floor: float = 1e-8      # ln(mel + log_floor)
    mel_scale: str = "htk"       # torchaudio MelSpectrogram defaults: htk scale, no filter norm
    mel_norm: str = "none"
    window: str = "hann_periodic"
    center: bool = True          # reflect padding of n_fft/2 on both sides


@dataclass(frozen=True)
class DecoderMel:
    sample_rate: int = 22050
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    f_min: float = 0.0
    f_max: float = 8000.0
    power: float = 1.0           # magnitude
    log_floor: float = 1e-5      # ln(max(mel, log_floor))
    mel_scale: str = "slaney"    # HiFi-GAN practice (librosa defaults)
    mel_norm: str = "slaney"
    window: str = "hann_periodic"
    center: bool = False         # HiFi-GAN pads (n_fft - hop) / 2 reflect on both sides instead


@dataclass(frozen=True)
class Preset:
    name: str
    content_dim: int = 256
    content_channels: int = 256
    content_kernel: int = 5
    pitch_dim: int = 192
    pitch_hidden: int = 128
    pitch_bins: int = 256        # linear in Hz over [f0_min, f0_max], plus one unvoiced bin
    f0_min: float = 80.0
    f0_max: float = 1000.0
    speaker_dim: int = 256
    latent_dim: int = 192
    flow_hidden: int = 192
    flow_kernel: int = 5
    flow_layers: int = 4         # DDSConv layers per coupling, dilations 1, 2, 4, 8
    num_flows: int = 4
    posterior_hidden: int = 192
    posterior_kernel: int = 5
    posterior_layers: int = 16
    mel_channels: int = 80
    upsample_rates: Tuple[int, ...] = (8, 8, 2, 2)
    upsample_kernels: Tuple[int, ...] = (16, 16, 4, 4)
    upsample_initial_channel: int = 512
    resblock_kernels: Tuple[int, ...] = (3, 7, 11)
    resblock_dilations: Tuple[int, ...] = (1, 3, 5)
    default_temperature: float = 1.0
    output_sample_rate: int = 44100
    content: ContentFrontEnd = field(default_factory=ContentFrontEnd)
    mel: DecoderMel = field(default_factory=DecoderMel)

    @property
    def cond_dim(self) -> int:
        return self.content_dim + self.pitch_dim + self.speaker_dim

    @property
    def hop_length(self) -> int:
        """Vocoder samples per decoder frame (product of the upsample rates)."""
        n = 1
        for r in self.upsample_rates:
            n *= r
        return n

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS = {
    "seed": Preset(name="seed"),
    "small": Preset(name="small", upsample_initial_channel=192),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset '{name}' (known: {', '.join(sorted(PRESETS))})") from None
