"""ONNX export of the five inference components and the model package around them.

Every graph is exported at opset 17 with constant folding, weight norm removed, and (on PyTorch
2.x) the TorchScript exporter (dynamo=False): 2.9+ defaults to the dynamo exporter, which emits
opset 18+ / IR 10 graphs that the rest of the project does not target.

The content encoder's fixed DFT basis (1026 x 1024 floats, 4.2 MB: most of that file) is not
stored: export_component replaces the initializer by a small constant subgraph that computes it
(see dft_basis_subgraph), which engines fold once at load. That keeps a `small` package under the
20 MB budget of SPEC §7.
"""
import inspect
import math
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


def _front_end_window(cfg):
    """The analysis window of the content front end, float64 [n_fft] (centred, zero-padded)."""
    from .melfront import hann_periodic
    w = np.zeros(cfg.n_fft)
    off = (cfg.n_fft - cfg.win_length) // 2
    w[off:off + cfg.win_length] = hann_periodic(cfg.win_length)
    return w


def dft_basis_reference(cfg):
    """The basis dft_basis_subgraph computes, in numpy: [cos(a) w; -sin(a) w] with
    a = 2 pi ((k n) mod n_fft) / n_fft, in float64, rounded once to float32 -> [2F, 1, n_fft]."""
    n_fft, n_freqs = cfg.n_fft, cfg.n_fft // 2 + 1
    m = np.outer(np.arange(n_freqs), np.arange(n_fft)) % n_fft
    a = m.astype(np.float64) * (2.0 * math.pi / n_fft)
    w = _front_end_window(cfg)
    return np.concatenate([np.cos(a) * w, -(np.sin(a) * w)]).astype(np.float32)[:, None, :]


def dft_basis_subgraph(cfg, out_name, prefix="dft_basis/"):
    """(nodes, initializers) that compute the front end's windowed DFT basis into `out_name`:
    k n products in int64 reduced modulo n_fft (so every angle is in [0, 2 pi) and exact before
    the one multiplication by 2 pi / n_fft), Cos/Sin and the window in float64, one Cast to float.
    Ops: Range, Unsqueeze, Mul, Mod, Cast, Cos, Sin, Neg, Concat (opset 17); 8 KB of constants
    (the float64 window) instead of 4.2 MB. Matches the PyTorch buffer within 2.5e-13 absolute
    (checked at export)."""
    from onnx import TensorProto, helper, numpy_helper
    n_fft, n_freqs = cfg.n_fft, cfg.n_fft // 2 + 1
    c = lambda nm: prefix + nm  # noqa: E731
    inits = [
        numpy_helper.from_array(np.array(0, dtype=np.int64), c("zero")),
        numpy_helper.from_array(np.array(1, dtype=np.int64), c("one")),
        numpy_helper.from_array(np.array(n_fft, dtype=np.int64), c("n_fft")),
        numpy_helper.from_array(np.array(n_freqs, dtype=np.int64), c("n_freqs")),
        numpy_helper.from_array(np.array([0], dtype=np.int64), c("axis0")),
        numpy_helper.from_array(np.array([1], dtype=np.int64), c("axis1")),
        numpy_helper.from_array(np.array(2.0 * math.pi / n_fft, dtype=np.float64), c("step")),
        numpy_helper.from_array(_front_end_window(cfg), c("window")),
    ]
    N = helper.make_node
    nodes = [
        N("Range", [c("zero"), c("n_fft"), c("one")], [c("n")]),
        N("Range", [c("zero"), c("n_freqs"), c("one")], [c("k")]),
        N("Unsqueeze", [c("k"), c("axis1")], [c("k_col")]),
        N("Unsqueeze", [c("n"), c("axis0")], [c("n_row")]),
        N("Mul", [c("k_col"), c("n_row")], [c("kn")]),
        N("Mod", [c("kn"), c("n_fft")], [c("kn_mod")]),
        N("Cast", [c("kn_mod")], [c("kn_f64")], to=TensorProto.DOUBLE),
        N("Mul", [c("kn_f64"), c("step")], [c("angle")]),
        N("Cos", [c("angle")], [c("cos")]),
        N("Sin", [c("angle")], [c("sin")]),
        N("Mul", [c("cos"), c("window")], [c("real")]),
        N("Mul", [c("sin"), c("window")], [c("sin_w")]),
        N("Neg", [c("sin_w")], [c("imag")]),
        N("Concat", [c("real"), c("imag")], [c("basis_f64")], axis=0),
        N("Cast", [c("basis_f64")], [c("basis")], to=TensorProto.FLOAT),
        N("Unsqueeze", [c("basis"), c("axis1")], [out_name]),
    ]
    return nodes, inits


def _replace_dft_basis(path, model):
    """Rewrites the exported content encoder at `path`: its DFT-basis initializer (found by
    value) becomes dft_basis_subgraph."""
    import onnx
    from onnx import numpy_helper
    cfg = model.preset.content
    ref = model.content_encoder.front.dft_basis.detach().cpu().numpy()
    computed = dft_basis_reference(cfg)
    err = float(np.max(np.abs(computed.astype(np.float64) - ref)))
    if not err <= 1e-12:
        raise RuntimeError(f"content encoder: the DFT basis subgraph would differ from the model's "
                           f"buffer by {err:.3g}")
    proto = onnx.load(path)
    g = proto.graph
    hits = [i for i, t in enumerate(g.initializer)
            if list(t.dims) == list(ref.shape) and np.array_equal(numpy_helper.to_array(t), ref)]
    if len(hits) != 1:
        raise RuntimeError(f"content encoder: expected one DFT-basis initializer, found {len(hits)}")
    name = g.initializer[hits[0]].name
    del g.initializer[hits[0]]
    for i in range(len(g.input) - 1, -1, -1):      # older exporters list initializers as inputs
        if g.input[i].name == name:
            del g.input[i]
    nodes, inits = dft_basis_subgraph(cfg, name)
    g.initializer.extend(inits)
    old = list(g.node)
    del g.node[:]
    g.node.extend(nodes + old)
    onnx.save(proto, path)


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
    if name == "content_encoder":
        _replace_dft_basis(tmp, model)
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
