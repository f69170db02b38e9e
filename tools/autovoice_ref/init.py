"""Seeded random initialisation that makes every part of the model do real work.

The original zero-initialises the flow's and the posterior's last layers, which makes the flow an
identity at initialisation: a test of an untrained flow could never fail. Fixtures need the
opposite. Documented scales (all draws from numpy's legacy RandomState(seed), MT19937, whose stream
numpy keeps stable across versions, so weights do not depend on the torch or numpy version):

  * every Conv1d / Linear weight         N(0, (gain / sqrt(fan_in))^2), fan_in = in/groups x kernel
  * every ConvTranspose1d weight         same, with fan_in = in x kernel / stride
  * gain                                 1.0, except: flow couplings' out_proj 0.15,
                                         vocoder conv_post 0.25, posterior post2 0.5
  * every bias                           N(0, 0.05^2)
  * pitch embedding                      N(0, 1)
  * pitch blend_weight                   0.5 (the original's configured value; sigmoid = 0.62)
  * speaker table                        N(0, 1) rows scaled to unit L2 norm (like the original's
                                         L2-normalised speaker embeddings)
Weight-normed layers get weight_v = W and weight_g = |W| per output slice, so that removing weight
norm yields W. Parameters are visited in named_modules() order, each module's own parameters in
the order weight, bias, then the rest by name.
"""
import math

import numpy as np
import torch
from torch import nn

GAIN_OVERRIDES = {
    "out_proj": 0.15,      # flow coupling: |logs|, |m| ~ 0.2; exp(logs) stays tame
    "vocoder.conv_post": 0.25,  # output std ~0.35, no saturation of tanh
    "posterior.post2": 0.5,
}


def _gain(name):
    for key, g in GAIN_OVERRIDES.items():
        if name.endswith(key) or name == key:
            return g
    return 1.0


def _fan_in(module, shape):
    if isinstance(module, nn.ConvTranspose1d):
        return shape[0] * shape[2] / module.stride[0]
    fan = 1
    for s in shape[1:]:
        fan *= s
    return fan


def _draw(rng, shape, std):
    return torch.from_numpy((rng.standard_normal(size=shape) * std).astype(np.float32))


@torch.no_grad()
def random_init_(model, seed):
    rng = np.random.RandomState(seed)
    for name, module in model.named_modules():
        own = dict(module.named_parameters(recurse=False))
        if not own:
            continue
        if isinstance(module, nn.Embedding):
            w = _draw(rng, tuple(module.weight.shape), 1.0)
            if name.endswith("speaker_table"):
                w = w / w.norm(dim=1, keepdim=True)
            module.weight.copy_(w)
            continue
        if "weight_v" in own:
            v = own["weight_v"]
            w = _draw(rng, tuple(v.shape), _gain(name) / math.sqrt(_fan_in(module, v.shape)))
            v.copy_(w)
            dims = tuple(range(1, w.dim()))
            own["weight_g"].copy_(w.norm(dim=dims, keepdim=True))
        elif "weight" in own:
            w = own["weight"]
            w.copy_(_draw(rng, tuple(w.shape), _gain(name) / math.sqrt(_fan_in(module, w.shape))))
        if "bias" in own and own["bias"] is not None:
            own["bias"].copy_(_draw(rng, tuple(own["bias"].shape), 0.05))
        for pname in sorted(own):
            if pname in ("weight", "weight_v", "weight_g", "bias"):
                continue
            if pname == "blend_weight":
                own[pname].fill_(0.5)
            else:
                raise RuntimeError(f"random_init_: no rule for parameter {name}.{pname}")
    return model
