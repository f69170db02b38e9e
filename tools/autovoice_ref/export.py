"""ONNX export of the five inference components and the model package around them.

Every graph is exported at opset 17 with constant folding, weight norm removed, and (on PyTorch
2.x) the TorchScript exporter (dynamo=False): 2.9+ defaults to the dynamo exporter, which emits
opset 18+ / IR 10 graphs that the rest of the project does not target.
"""
import inspect
import os

import numpy as np
import torch
from torch import nn

OPSET = 17

# name -> (input names, output names, dynamic axes). The single source of truth for the package
# interface; the tool tests and model.yaml are checked against it.
COMPONENTS = {
    "content_encoder": (
        ["input_audio"], ["content_features"],
        {"input_audio": {0: "batch", 1: "audio_length"},
         "content_features": {0: "batch", 1: "time_frames"}}),
    "pitch_encoder": (
        ["f0_input", "voiced_mask"], ["pitch_features"],
        {"f0_input": {0: "batch", 1: "time_steps"}, "voiced_mask": {0: "batch", 1: "time_steps"},
         "pitch_features": {0: "batch", 1: "time_steps"}}),
    "flow_decoder": (
        ["latent_input", "mask", "conditioning"], ["output_latent"],
        {"latent_input": {0: "batch", 2: "time_steps"}, "mask": {0: "batch", 2: "time_steps"},
         "conditioning": {0: "batch", 2: "time_steps"}, "output_latent": {0: "batch", 2: "time_steps"}}),
    "mel_projection": (
        ["latent_input"], ["mel_output"],
        {"latent_input": {0: "batch", 2: "time_steps"}, "mel_output": {0: "batch", 2: "time_steps"}}),
    "vocoder": (
        ["mel_input"], ["audio_output"],
        {"mel_input": {0: "batch", 2: "time_steps"}, "audio_output": {0: "batch", 2: "audio_length"}}),
}


class _ContentGraph(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_audio):
        return self.m.content_encoder(input_audio)


class _PitchGraph(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, f0_input, voiced_mask):
        return self.m.pitch_encoder(f0_input, voiced_mask)


class _FlowGraph(nn.Module):
    """inverse=True frozen: the graph maps noise to latent; there is no `inverse` input."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, latent_input, mask, conditioning):
        return self.m.flow.inverse(latent_input, mask, conditioning)


class _MelGraph(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, latent_input):
        return self.m.mel_projection(latent_input)


class _VocoderGraph(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, mel_input):
        return self.m.vocoder(mel_input)


GRAPHS = {"content_encoder": _ContentGraph, "pitch_encoder": _PitchGraph,
          "flow_decoder": _FlowGraph, "mel_projection": _MelGraph, "vocoder": _VocoderGraph}


def example_inputs(preset, name, frames=50, batch=1, seed=0):
    """Deterministic example inputs for tracing a component (and for the non-triviality checks)."""
    g = torch.Generator().manual_seed(seed)
    if name == "content_encoder":
        n = preset.content.sample_rate  # 1 s
        t = torch.arange(n, dtype=torch.float32) / n
        x = 0.5 * torch.sin(2 * np.pi * 220 * t) + 0.1 * torch.randn(batch, n, generator=g)
        return (x / x.abs().max(),)
    if name == "pitch_encoder":
        f0 = torch.linspace(90.0, 900.0, frames).repeat(batch, 1)
        voiced = torch.ones(batch, frames, dtype=torch.bool)
        voiced[:, ::7] = False
        return (f0, voiced)
    if name == "flow_decoder":
        return (torch.randn(batch, preset.latent_dim, frames, generator=g),
                torch.ones(batch, 1, frames),
                torch.randn(batch, preset.cond_dim, frames, generator=g))
    if name == "mel_projection":
        return (torch.randn(batch, preset.latent_dim, frames, generator=g),)
    if name == "vocoder":
        return (torch.randn(batch, preset.mel_channels, frames, generator=g) - 4.0,)
    raise KeyError(name)


def _export_kwargs():
    kw = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kw["dynamo"] = False
    return kw


def export_component(model, name, path):
    """Writes one component of `model` (weight norm already removed, eval mode) to `path`."""
    inputs, outputs, axes = COMPONENTS[name]
    graph = GRAPHS[name](model).eval()
    args = example_inputs(model.preset, name)
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(graph, args, tmp, opset_version=OPSET, do_constant_folding=True,
                          export_params=True, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, **_export_kwargs())
    os.replace(tmp, path)


class TrivialModelError(Exception):
    pass


@torch.no_grad()
def check_nontrivial(model):
    """Raises TrivialModelError unless every component does real work on example inputs:
    the flow moves its input by >= 10 % (relative L2), the vocoder's output has a standard
    deviation in [0.02, 0.8] with < 1 % of samples beyond |0.99|, and content/pitch features vary
    over time (mean per-channel std over time >= 1e-2)."""
    p = model.preset
    u, mask, cond = example_inputs(p, "flow_decoder", frames=64)
    z = model.flow.inverse(u, mask, cond)
    rel = float((z - u).norm() / u.norm())
    if not rel >= 0.1:
        raise TrivialModelError(f"flow output differs from its input by only {rel:.3g} (relative L2 < 0.1)")
    y = model.vocoder(*example_inputs(p, "vocoder", frames=32))
    std, sat = float(y.std()), float((y.abs() > 0.99).float().mean())
    if not (0.02 <= std <= 0.8) or sat >= 0.01:
        raise TrivialModelError(f"vocoder output std {std:.3g}, saturated fraction {sat:.3g}")
    c = model.content_encoder(*example_inputs(p, "content_encoder"))
    pf = model.pitch_encoder(*example_inputs(p, "pitch_encoder"))
    for nm, t in (("content", c), ("pitch", pf)):
        v = float(t.std(dim=1).mean())
        if not v >= 1e-2:
            raise TrivialModelError(f"{nm} features hardly vary over time (mean std {v:.3g})")
    return {"flow_relative_change": rel, "vocoder_std": std, "vocoder_saturated": sat}
