"""model.yaml: the description of a model package (schema: docs/MODEL_PACKAGE.md).

The C side reads this file; every number a pipeline needs (rates, hops, mel definitions, F0 range,
dimensions) is here, so nothing about a model is hard-coded in C."""
import os

import numpy as np

from .export import COMPONENTS

FORMAT_VERSION = 1


def _num(x):
    """A number as YAML 1.1 reads it back as a float: 1e-05 would be a string there, 1.0e-05 is not."""
    s = f"{x:g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant if '.' in mant else mant + '.0'}e{exp}"
    return s


def _mel_block(m, indent, log_mode):
    pad = " " * indent
    return "\n".join([
        f"{pad}n_fft: {m.n_fft}",
        f"{pad}win_length: {m.win_length}",
        f"{pad}hop_length: {m.hop_length}",
        f"{pad}window: {m.window}",
        f"{pad}center: {'true' if m.center else 'false'}",
        f"{pad}n_mels: {m.n_mels}",
        f"{pad}f_min: {m.f_min:g}",
        f"{pad}f_max: {m.f_max:g}",
        f"{pad}mel_scale: {m.mel_scale}",
        f"{pad}mel_norm: {m.mel_norm}",
        f"{pad}power: {m.power:g}",
        f"{pad}log: {log_mode}",
        f"{pad}log_floor: {_num(m.log_floor)}",
    ])


def model_yaml(preset, name, speakers, source, components=tuple(COMPONENTS)):
    p = preset
    lines = [
        "# autovoice model package (schema: docs/MODEL_PACKAGE.md)",
        "format: autovoice-model",
        f"format_version: {FORMAT_VERSION}",
        f"name: {name}",
        f"preset: {p.name}",
        f"source: {source}",
        "components:",
        *[f"  {c}: {c}.onnx" for c in components],
        "content_encoder:",
        f"  sample_rate: {p.content.sample_rate}",
        "  peak_normalise: true        # done by the caller over the whole file, not in the graph",
        f"  frame_rate: {p.content.sample_rate / p.content.hop_length:g}",
        "  mel:",
        _mel_block(p.content, 4, "add      # ln(mel + log_floor)"),
        "decoder:",
        f"  sample_rate: {p.mel.sample_rate}",
        f"  hop_length: {p.hop_length}",
        f"  frame_rate: {p.mel.sample_rate / p.hop_length:.6g}",
        "  mel:",
        _mel_block(p.mel, 4, "clamp    # ln(max(mel, log_floor))"),
        "pitch:",
        f"  f0_min: {p.f0_min:g}",
        f"  f0_max: {p.f0_max:g}",
        f"  bins: {p.pitch_bins}              # linear in Hz over [f0_min, f0_max]",
        f"  unvoiced_bin: {p.pitch_bins}",
        "  frame_rate: 100            # F0 frames per second fed to pitch_encoder",
        "dimensions:",
        f"  content: {p.content_dim}",
        f"  pitch: {p.pitch_dim}",
        f"  speaker: {p.speaker_dim}",
        f"  conditioning: {p.cond_dim}",
        f"  latent: {p.latent_dim}",
        f"  mel: {p.mel_channels}",
        "inference:",
        f"  temperature: {p.default_temperature:g}",
        "output:",
        f"  sample_rate: {p.output_sample_rate}",
        "speakers:",
        "  embeddings: speakers.npy   # float32 [count, speaker], one row per name, in order",
        "  names:",
        *[f"    - {s}" for s in speakers],
    ]
    return "\n".join(lines) + "\n"


def write_package_files(out_dir, model, name, source):
    """Writes model.yaml and speakers.npy (atomically, via temporary files)."""
    emb = model.speaker_table.weight.detach().cpu().numpy().astype(np.float32)
    tmp = os.path.join(out_dir, "speakers.npy.tmp")
    with open(tmp, "wb") as f:
        np.save(f, emb)
    os.replace(tmp, os.path.join(out_dir, "speakers.npy"))
    text = model_yaml(model.preset, name, model.speakers, source)
    tmp = os.path.join(out_dir, "model.yaml.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(out_dir, "model.yaml"))
