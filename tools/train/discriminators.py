"""HiFi-GAN's discriminators (multi-period and multi-scale), narrowed.

Same layer structure as HiFi-GAN V1 (Kong et al. 2020: periods 2/3/5/7/11; three scales, raw,
x1/2, x1/4 by average pooling; spectral norm on the first scale), with every channel count divided
by `div` (HiFi-GAN: div 1) and the period discriminators' last layer half as wide again. At div 8
the two together have 0.9 M parameters (HiFi-GAN's: 70 M), so that the vocoder's full training state — the `small` generator (2.0 M), the discriminators and
both Adam states — fits in 36 MiB (docs/TRAINING.md).
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from autovoice_ref.model import weight_norm

LRELU = 0.1


class PeriodDiscriminator(nn.Module):
    def __init__(self, period, div):
        super().__init__()
        self.period = period
        ch = [1] + [max(1, c // div) for c in (32, 128, 512, 1024)]
        last = max(1, 512 // div)      # HiFi-GAN: 1024 (halved here to fit the budget)
        self.convs = nn.ModuleList(
            [weight_norm(nn.Conv2d(ch[i], ch[i + 1], (5, 1), (3, 1), padding=(2, 0))) for i in range(4)]
            + [weight_norm(nn.Conv2d(ch[4], last, (5, 1), 1, padding=(2, 0)))])
        self.post = weight_norm(nn.Conv2d(last, 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x):
        fmap = []
        b, c, t = x.shape
        if t % self.period:
            pad = self.period - t % self.period
            x = F.pad(x, (0, pad), "reflect")
            t += pad
        x = x.view(b, c, t // self.period, self.period)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU)
            fmap.append(x)
        x = self.post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class ScaleDiscriminator(nn.Module):
    def __init__(self, div, spectral=False):
        super().__init__()
        norm = spectral_norm if spectral else weight_norm
        c = [max(1, v // div) for v in (128, 128, 256, 512, 1024, 1024, 1024)]
        groups = [1, 4, 16, 16, 16, 16, 1]
        kernels = [15, 41, 41, 41, 41, 41, 5]
        strides = [1, 2, 2, 4, 4, 1, 1]
        ins = [1] + c[:-1]
        self.convs = nn.ModuleList(
            norm(nn.Conv1d(ins[i], c[i], kernels[i], strides[i], groups=min(groups[i], ins[i], c[i]),
                           padding=kernels[i] // 2)) for i in range(7))
        self.post = norm(nn.Conv1d(c[-1], 1, 3, 1, padding=1))

    def forward(self, x):
        fmap = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU)
            fmap.append(x)
        x = self.post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class Discriminators(nn.Module):
    def __init__(self, div=8, periods=(2, 3, 5, 7, 11)):
        super().__init__()
        self.mpd = nn.ModuleList(PeriodDiscriminator(p, div) for p in periods)
        self.msd = nn.ModuleList([ScaleDiscriminator(div, spectral=True), ScaleDiscriminator(div),
                                  ScaleDiscriminator(div)])
        self.pool = nn.AvgPool1d(4, 2, padding=2)

    def forward(self, y):
        """y [B, 1, N] -> (list of scores, list of feature-map lists), one per sub-discriminator."""
        scores, fmaps = [], []
        for d in self.mpd:
            s, f = d(y)
            scores.append(s)
            fmaps.append(f)
        x = y
        for i, d in enumerate(self.msd):
            if i:
                x = self.pool(x)
            s, f = d(x)
            scores.append(s)
            fmaps.append(f)
        return scores, fmaps


def discriminator_loss(real_scores, fake_scores):
    loss = 0.0
    for r, g in zip(real_scores, fake_scores):
        loss = loss + torch.mean((1 - r.float()) ** 2) + torch.mean(g.float() ** 2)
    return loss


def generator_adv_loss(fake_scores):
    return sum(torch.mean((1 - g.float()) ** 2) for g in fake_scores)


def feature_loss(real_fmaps, fake_fmaps):
    loss = 0.0
    for rs, gs in zip(real_fmaps, fake_fmaps):
        for r, g in zip(rs, gs):
            loss = loss + torch.mean(torch.abs(r.float().detach() - g.float()))
    return 2.0 * loss
