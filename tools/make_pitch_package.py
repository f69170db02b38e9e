#!/usr/bin/env python3
"""Writes a purpose-built model package that passes F0 straight through, for testing the
conversion pipeline's pitch path: whatever F0 the pipeline hands the pitch encoder comes out of the
"vocoder" as a sine at that frequency, so the output's F0 shows exactly what the pipeline did
(pitch shift, clamping, alignment of F0 frames to decoder frames, unvoiced frames).

    make_pitch_package.py OUT_DIR

The components keep the names, inputs, outputs and dimensions of docs/MODEL_PACKAGE.md (the
`small` preset's model.yaml), so `autovoice convert --model OUT_DIR` runs them like any package:

  content_encoder  zeros [1, 1 + N // 320, 256] (a strided Conv1d with zero weights)
  pitch_encoder    channel 0 = f0 * voiced / 1000, the other 191 channels 0
  flow_decoder     the conditioning's pitch channels (256 .. 447) as the latent, times the mask
  mel_projection   latent channels 0 .. 79
  vocoder          0.5 * sin(cumulative phase of 1000 * mel channel 0), 256 samples per frame

The vocoder's running phase makes it non-local on purpose (a change at one frame shifts every
later sample): the converter must notice that and convert such a package whole.
Needs Debian's python3-onnx and numpy (run with /usr/bin/python3)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from autovoice_ref.package import model_yaml  # noqa: E402
from autovoice_ref.presets import PRESETS  # noqa: E402

OPSET = 17
F = TensorProto.FLOAT


def _const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def _model(nodes, inputs, outputs, inits, name):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="autovoice-make-pitch-package")
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


def content_encoder(p):
    hop = p.content.hop_length
    w = np.zeros((p.content_dim, 1, hop), np.float32)
    nodes = [
        helper.make_node("Unsqueeze", ["input_audio", "axis1"], ["x3"]),
        helper.make_node("Conv", ["x3", "w", "b"], ["feat"], strides=[hop], pads=[hop // 2, hop // 2],
                         kernel_shape=[hop]),
        helper.make_node("Transpose", ["feat"], ["content_features"], perm=[0, 2, 1]),
    ]
    return _model(nodes, [helper.make_tensor_value_info("input_audio", F, ["batch", "samples"])],
                  [helper.make_tensor_value_info("content_features", F, ["batch", "frames", p.content_dim])],
                  [_const("axis1", np.array([1], np.int64)), _const("w", w),
                   _const("b", np.zeros(p.content_dim, np.float32))], "content_encoder")


def pitch_encoder(p):
    sel = np.zeros((1, 1, p.pitch_dim), np.float32)
    sel[0, 0, 0] = 1.0 / 1000.0
    nodes = [
        helper.make_node("Cast", ["voiced_mask"], ["vf"], to=F),
        helper.make_node("Mul", ["f0_input", "vf"], ["f0v"]),
        helper.make_node("Unsqueeze", ["f0v", "axis2"], ["f0c"]),
        helper.make_node("Mul", ["f0c", "sel"], ["pitch_features"]),
    ]
    return _model(nodes, [helper.make_tensor_value_info("f0_input", F, ["batch", "frames"]),
                          helper.make_tensor_value_info("voiced_mask", TensorProto.BOOL, ["batch", "frames"])],
                  [helper.make_tensor_value_info("pitch_features", F, ["batch", "frames", p.pitch_dim])],
                  [_const("axis2", np.array([2], np.int64)), _const("sel", sel)], "pitch_encoder")


def flow_decoder(p):
    nodes = [
        helper.make_node("Slice", ["conditioning", "starts", "ends", "axes"], ["pitch"]),
        helper.make_node("Mul", ["pitch", "mask"], ["masked"]),
        helper.make_node("Mul", ["latent_input", "zero"], ["unused"]),
        helper.make_node("Add", ["masked", "unused"], ["output_latent"]),
    ]
    T = "time_steps"
    return _model(nodes, [helper.make_tensor_value_info("latent_input", F, ["batch", p.latent_dim, T]),
                          helper.make_tensor_value_info("mask", F, ["batch", 1, T]),
                          helper.make_tensor_value_info("conditioning", F, ["batch", p.cond_dim, T])],
                  [helper.make_tensor_value_info("output_latent", F, ["batch", p.latent_dim, T])],
                  [_const("starts", np.array([p.content_dim], np.int64)),
                   _const("ends", np.array([p.content_dim + p.latent_dim], np.int64)),
                   _const("axes", np.array([1], np.int64)), _const("zero", np.array(0.0, np.float32))],
                  "flow_decoder")


def mel_projection(p):
    nodes = [helper.make_node("Slice", ["latent_input", "starts", "ends", "axes"], ["mel_output"])]
    T = "time_steps"
    return _model(nodes, [helper.make_tensor_value_info("latent_input", F, ["batch", p.latent_dim, T])],
                  [helper.make_tensor_value_info("mel_output", F, ["batch", p.mel_channels, T])],
                  [_const("starts", np.array([0], np.int64)), _const("ends", np.array([p.mel_channels], np.int64)),
                   _const("axes", np.array([1], np.int64))], "mel_projection")


def vocoder(p):
    hop, rate = p.hop_length, p.mel.sample_rate
    nodes = [
        helper.make_node("Slice", ["mel_input", "starts", "ends", "axes"], ["ch0"]),       # [1,1,T]
        helper.make_node("Mul", ["ch0", "step"], ["dphase"]),                               # rad/sample
        helper.make_node("Unsqueeze", ["dphase", "axis3"], ["d4"]),                         # [1,1,T,1]
        helper.make_node("Tile", ["d4", "repeats"], ["tiled"]),                             # [1,1,T,hop]
        helper.make_node("Reshape", ["tiled", "shape"], ["per_sample"]),                   # [1,1,T*hop]
        helper.make_node("CumSum", ["per_sample", "axis2"], ["phase"]),
        helper.make_node("Sin", ["phase"], ["s"]),
        helper.make_node("Mul", ["s", "half"], ["audio_output"]),
    ]
    T = "time_steps"
    return _model(nodes, [helper.make_tensor_value_info("mel_input", F, ["batch", p.mel_channels, T])],
                  [helper.make_tensor_value_info("audio_output", F, ["batch", 1, "samples"])],
                  [_const("starts", np.array([0], np.int64)), _const("ends", np.array([1], np.int64)),
                   _const("axes", np.array([1], np.int64)),
                   _const("step", np.array(1000.0 * 2 * np.pi / rate, np.float32)),
                   _const("axis3", np.array([3], np.int64)), _const("axis2", np.array(2, np.int64)),
                   _const("repeats", np.array([1, 1, 1, hop], np.int64)),
                   _const("shape", np.array([1, 1, -1], np.int64)), _const("half", np.array(0.5, np.float32))],
                  "vocoder")


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    out = argv[1]
    p = PRESETS["small"]
    os.makedirs(out, exist_ok=True)
    for name, build in (("content_encoder", content_encoder), ("pitch_encoder", pitch_encoder),
                        ("flow_decoder", flow_decoder), ("mel_projection", mel_projection),
                        ("vocoder", vocoder)):
        onnx.save(build(p), os.path.join(out, name + ".onnx"))
    np.save(os.path.join(out, "speakers.npy"), np.zeros((2, p.speaker_dim), np.float32))
    with open(os.path.join(out, "model.yaml"), "w") as f:
        f.write(model_yaml(p, "pitch-passthrough", ["a", "b"], "tools/make_pitch_package.py"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
