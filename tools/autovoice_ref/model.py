"""The autovoice reference model in PyTorch (SPEC §2; the original's code-level design).

Components, each exported as its own ONNX graph by export.py:
  ContentEncoder   audio [B, N] (16 kHz, peak-normalised by the caller) -> [B, T_c, 256]
  PitchEncoder     f0 [B, T] Hz, voiced [B, T] bool -> [B, T, 192]
  FlowDecoder      affine couplings with DDSConv conditioners; inverse() runs at inference
  mel projection   Conv1d 192 -> 80, natural-log mel
  HiFiGANGenerator log-mel [B, 80, T] -> audio [B, 1, 256 T] at 22.05 kHz
PosteriorEncoder is used in training only. Runs on PyTorch 1.13 and 2.x.
"""
import warnings

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import remove_weight_norm
from torch.nn.utils import weight_norm as _torch_weight_norm

from .melfront import LogMelFrontEnd


def weight_norm(module):
    """torch.nn.utils.weight_norm (weight_g / weight_v parameters). PyTorch 2.x deprecates it in
    favour of parametrizations, whose state-dict keys differ; the classic form keeps checkpoints
    loadable on 1.13 and 2.x alike, so its deprecation warning is silenced here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return _torch_weight_norm(module)


def _same_padding(kernel, dilation=1):
    return (kernel * dilation - dilation) // 2


class ContentEncoder(nn.Module):
    """CNN content encoder: log-mel front end, then 3 x [Conv1d k5 -> InstanceNorm -> ReLU].

    InstanceNorm (no affine) removes per-utterance channel statistics; it is the one operation
    of the model whose output depends on the whole input rather than a local window."""

    def __init__(self, p):
        super().__init__()
        self.front = LogMelFrontEnd(p.content)
        chans = [p.content.n_mels, p.content_channels, p.content_channels, p.content_dim]
        self.convs = nn.ModuleList(
            nn.Conv1d(chans[i], chans[i + 1], p.content_kernel, padding=_same_padding(p.content_kernel))
            for i in range(3))
        self.norms = nn.ModuleList(nn.InstanceNorm1d(chans[i + 1]) for i in range(3))

    def forward(self, audio):
        x = self.front(audio)
        for conv, norm in zip(self.convs, self.norms):
            x = F.relu(norm(conv(x)))
        return x.transpose(1, 2)


class PitchEncoder(nn.Module):
    """Quantised embedding (pitch_bins bins linear in Hz + an unvoiced bin) blended with a
    continuous MLP of the normalised F0 through sigmoid(blend_weight)."""

    def __init__(self, p):
        super().__init__()
        self.f0_min, self.f0_max, self.num_bins = p.f0_min, p.f0_max, p.pitch_bins
        self.embedding = nn.Embedding(p.pitch_bins + 1, p.pitch_dim)
        self.continuous_proj = nn.Sequential(
            nn.Linear(1, p.pitch_hidden), nn.ReLU(), nn.Linear(p.pitch_hidden, p.pitch_dim))
        self.blend_weight = nn.Parameter(torch.tensor(0.5))

    def forward(self, f0, voiced):
        zero = torch.zeros_like(f0)
        f0 = torch.where(voiced, f0, zero)
        finite = torch.isfinite(f0)
        f0 = torch.where(finite, f0, zero)
        unvoiced = (~finite) | (f0 <= 0)
        norm = torch.clamp((f0 - self.f0_min) / (self.f0_max - self.f0_min), 1e-6, 1.0)
        idx = torch.clamp(torch.floor(norm * (self.num_bins - 1)), 0, self.num_bins - 1).long()
        idx = torch.where(unvoiced, torch.full_like(idx, self.num_bins), idx)
        quantised = self.embedding(idx)
        norm = torch.where(unvoiced, zero, norm)
        continuous = self.continuous_proj(norm.unsqueeze(-1))
        s = torch.sigmoid(self.blend_weight)
        return s * quantised + (1.0 - s) * continuous


class DDSConv(nn.Module):
    """Dilated depthwise-separable conv stack: per layer depthwise conv (dilation 2^i) -> GELU ->
    pointwise conv -> GELU; the stack's output is added to its input and masked."""

    def __init__(self, channels, kernel, layers):
        super().__init__()
        self.depthwise = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, groups=channels, dilation=2 ** i,
                      padding=_same_padding(kernel, 2 ** i)) for i in range(layers))
        self.pointwise = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in range(layers))

    def forward(self, x, mask):
        h = x
        for dw, pw in zip(self.depthwise, self.pointwise):
            h = F.gelu(pw(F.gelu(dw(h))))
        return (x + h) * mask


class AffineCoupling(nn.Module):
    """y_b = m + x_b exp(logs), with (m, logs) a function of x_a and the conditioning."""

    def __init__(self, p):
        super().__init__()
        self.half = p.latent_dim // 2
        self.in_proj = nn.Conv1d(self.half, p.flow_hidden, 1)
        self.cond_proj = nn.Conv1d(p.cond_dim, p.flow_hidden, 1)
        self.conditioner = DDSConv(p.flow_hidden, p.flow_kernel, p.flow_layers)
        self.out_proj = nn.Conv1d(p.flow_hidden, 2 * (p.latent_dim - self.half), 1)

    def _stats(self, xa, mask, cond):
        h = self.in_proj(xa) * mask + self.cond_proj(cond)
        h = self.conditioner(h, mask)
        stats = self.out_proj(h) * mask
        return torch.split(stats, stats.shape[1] // 2, dim=1)

    def forward(self, x, mask, cond):
        xa, xb = x[:, :self.half], x[:, self.half:]
        m, logs = self._stats(xa, mask, cond)
        yb = (m + xb * torch.exp(logs)) * mask
        return torch.cat([xa, yb], 1), torch.sum(logs * mask, dim=(1, 2))

    def inverse(self, y, mask, cond):
        ya, yb = y[:, :self.half], y[:, self.half:]
        m, logs = self._stats(ya, mask, cond)
        xb = (yb - m) * torch.exp(-logs) * mask
        return torch.cat([ya, xb], 1)


def _flip_channels(x):
    # Full reversal of the channel order (not a swap of halves).
    return torch.flip(x, [1])


class FlowDecoder(nn.Module):
    """num_flows x [AffineCoupling, channel flip]. forward: z -> u with log|det| (training);
    inverse: u -> z (inference)."""

    def __init__(self, p):
        super().__init__()
        self.couplings = nn.ModuleList(AffineCoupling(p) for _ in range(p.num_flows))

    def forward(self, z, mask, cond):
        logdet = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        for c in self.couplings:
            z, ld = c(z, mask, cond)
            z = _flip_channels(z)
            logdet = logdet + ld
        return z, logdet

    def inverse(self, u, mask, cond):
        for c in reversed(self.couplings):
            u = _flip_channels(u)
            u = c.inverse(u, mask, cond)
        return u


class PosteriorEncoder(nn.Module):
    """Training only: target mel [B, 80, T] -> (mean, logvar) [B, 192, T] through 16 gated
    WaveNet blocks (kernel 5, dilations 2^(i mod 10), weight norm on the dilated convs)."""

    def __init__(self, p):
        super().__init__()
        h = p.posterior_hidden
        self.input_proj = nn.Conv1d(p.mel_channels, h, 1)
        self.dilated = nn.ModuleList()
        self.skip_out = nn.ModuleList()
        self.res_out = nn.ModuleList()
        for i in range(p.posterior_layers):
            d = 2 ** (i % 10)
            self.dilated.append(weight_norm(nn.Conv1d(h, 2 * h, p.posterior_kernel, dilation=d,
                                                      padding=_same_padding(p.posterior_kernel, d))))
            self.skip_out.append(nn.Conv1d(h, h, 1))
            self.res_out.append(nn.Conv1d(h, h, 1))
        self.post1 = nn.Conv1d(h, h, 1)
        self.post2 = nn.Conv1d(h, 2 * p.latent_dim, 1)

    def forward(self, mel, mask):
        x = self.input_proj(mel) * mask
        skip = torch.zeros_like(x)
        for dil, so, ro in zip(self.dilated, self.skip_out, self.res_out):
            a, b = torch.chunk(dil(x), 2, dim=1)
            g = torch.tanh(a) * torch.sigmoid(b)
            skip = skip + so(g) * mask
            x = (x + ro(g)) * mask
        stats = self.post2(F.relu(self.post1(F.relu(skip)))) * mask
        mean, logvar = torch.chunk(stats, 2, dim=1)
        return mean, logvar

    def remove_weight_norm(self):
        for m in self.dilated:
            remove_weight_norm(m)


class ResBlock(nn.Module):
    """HiFi-GAN ResBlock1: for each dilation d, x += conv_1(lrelu(conv_d(lrelu(x))))."""

    def __init__(self, channels, kernel, dilations):
        super().__init__()
        self.convs1 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, dilation=d, padding=_same_padding(kernel, d)))
            for d in dilations)
        self.convs2 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, padding=_same_padding(kernel)))
            for _ in dilations)

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, 0.1)), 0.1))
        return x


class HiFiGANGenerator(nn.Module):
    """HiFi-GAN V1 generator. Each upsampling stage is followed by three distinct resblocks
    (kernels 3/7/11) whose outputs are averaged (the original called one MRF three times)."""

    def __init__(self, p):
        super().__init__()
        c0 = p.upsample_initial_channel
        self.conv_pre = weight_norm(nn.Conv1d(p.mel_channels, c0, 7, padding=3))
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        ch = c0
        for u, k in zip(p.upsample_rates, p.upsample_kernels):
            self.ups.append(weight_norm(nn.ConvTranspose1d(ch, ch // 2, k, u, padding=(k - u) // 2)))
            ch //= 2
            for rk in p.resblock_kernels:
                self.resblocks.append(ResBlock(ch, rk, p.resblock_dilations))
        self.num_kernels = len(p.resblock_kernels)
        self.conv_post = weight_norm(nn.Conv1d(ch, 1, 7, padding=3))

    def forward(self, mel):
        x = self.conv_pre(mel)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, 0.1))
            blocks = self.resblocks[i * self.num_kernels:(i + 1) * self.num_kernels]
            acc = blocks[0](x)
            for b in blocks[1:]:
                acc = acc + b(x)
            x = acc / self.num_kernels
        x = self.conv_post(F.leaky_relu(x))   # PyTorch's default slope, 0.01, as HiFi-GAN
        return torch.tanh(x)

    def remove_weight_norm(self):
        remove_weight_norm(self.conv_pre)
        for up in self.ups:
            remove_weight_norm(up)
        for rb in self.resblocks:
            for c in list(rb.convs1) + list(rb.convs2):
                remove_weight_norm(c)
        remove_weight_norm(self.conv_post)


class SVCModel(nn.Module):
    """The whole model: inference components, the posterior (training) and a learned speaker
    table whose rows are the 256-d speaker embeddings written into a model package."""

    def __init__(self, preset, speakers=("speaker0",)):
        super().__init__()
        self.preset = preset
        self.speakers = list(speakers)
        self.content_encoder = ContentEncoder(preset)
        self.pitch_encoder = PitchEncoder(preset)
        self.flow = FlowDecoder(preset)
        self.posterior = PosteriorEncoder(preset)
        self.mel_projection = nn.Conv1d(preset.latent_dim, preset.mel_channels, 1)
        self.vocoder = HiFiGANGenerator(preset)
        self.speaker_table = nn.Embedding(len(self.speakers), preset.speaker_dim)

    def conditioning(self, content, pitch, speaker_emb, frames):
        """content [B, Tc, 256], pitch [B, Tp, 192], speaker_emb [B, 256] -> [B, 704, frames];
        content and pitch are linearly interpolated to the decoder's frame count."""
        c = F.interpolate(content.transpose(1, 2), size=frames, mode="linear", align_corners=False)
        p = F.interpolate(pitch.transpose(1, 2), size=frames, mode="linear", align_corners=False)
        s = speaker_emb.unsqueeze(-1).expand(-1, -1, frames)
        return torch.cat([c, p, s], dim=1)

    def remove_weight_norm(self):
        self.vocoder.remove_weight_norm()
        self.posterior.remove_weight_norm()
