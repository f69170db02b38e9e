"""Operation counts of the convolution layers, for sizing presets and for benchmark tables.

Counts multiply-accumulates of every Conv1d / ConvTranspose1d / Linear on a given input, by
forward hooks (so it follows the real graph), and reports FLOP = 2 x MAC."""
import torch
from torch import nn


@torch.no_grad()
def count_macs(module, *inputs):
    total = [0]

    def conv_hook(m, args, out):
        if isinstance(m, nn.ConvTranspose1d):
            # every input sample meets every kernel tap of every output channel
            total[0] += args[0].shape[0] * args[0].shape[2] * m.in_channels * (m.out_channels // m.groups) * m.kernel_size[0]
        elif isinstance(m, nn.Conv1d):
            total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0]
        elif isinstance(m, nn.Linear):
            total[0] += out.numel() * m.in_features

    handles = [m.register_forward_hook(conv_hook) for m in module.modules()
               if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d, nn.Linear))]
    try:
        module(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total[0]
