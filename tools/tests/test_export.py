"""tools/export_onnx.py: names, types and dynamic axes of every graph, opset/IR, the checker,
model.yaml, and the one-line errors with exit code 2."""
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="python3-torch is not installed: the exports cannot be made")
onnx = pytest.importorskip("onnx", reason="python3-onnx is not installed")
from onnx import numpy_helper  # noqa: E402
yaml = pytest.importorskip("yaml")

from autovoice_ref.export import COMPONENTS, OPSET  # noqa: E402

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPORT = os.path.join(TOOLS, "export_onnx.py")

ELEM = {1: "float32", 9: "bool"}
EXPECTED = {  # name -> [(tensor, dtype, dims)], dims as ONNX shows them (symbolic names or sizes)
    "content_encoder": [("input_audio", "float32", ["batch", "audio_length"]),
                        ("content_features", "float32", ["batch", "time_frames", 256])],
    "pitch_encoder": [("f0_input", "float32", ["batch", "time_steps"]),
                      ("voiced_mask", "bool", ["batch", "time_steps"]),
                      ("pitch_features", "float32", ["batch", "time_steps", 192])],
    "flow_decoder": [("latent_input", "float32", ["batch", 192, "time_steps"]),
                     ("mask", "float32", ["batch", 1, "time_steps"]),
                     ("conditioning", "float32", ["batch", 704, "time_steps"]),
                     ("output_latent", "float32", ["batch", 192, "time_steps"])],
    "mel_projection": [("latent_input", "float32", ["batch", 192, "time_steps"]),
                       ("mel_output", "float32", ["batch", 80, "time_steps"])],
    "vocoder": [("mel_input", "float32", ["batch", 80, "time_steps"]),
                ("audio_output", "float32", ["batch", 1, "audio_length"])],
}


def run_export(*args):
    return subprocess.run([sys.executable, EXPORT, *args], capture_output=True, text=True)


def describe(vi):
    t = vi.type.tensor_type
    return (vi.name, ELEM.get(t.elem_type, str(t.elem_type)),
            [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim])


@pytest.fixture(scope="module", params=["small", "seed"])
def package(request, tmp_path_factory):
    # `seed` is too large to commit (SPEC §7): it is exported here, at test time.
    out = tmp_path_factory.mktemp(request.param)
    r = run_export("--preset", request.param, "--random-init", "--seed", "11", "--out", str(out))
    assert r.returncode == 0, r.stderr
    return request.param, out


def test_every_component_has_the_specified_interface(package):
    preset, out = package
    for comp, expected in EXPECTED.items():
        model = onnx.load(str(out / f"{comp}.onnx"))
        onnx.checker.check_model(model, full_check=True)
        assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)]
        assert model.ir_version in (7, 8), model.ir_version
        init_names = {i.name for i in model.graph.initializer}
        inputs = [describe(v) for v in model.graph.input if v.name not in init_names]
        outputs = [describe(v) for v in model.graph.output]
        assert inputs + outputs == expected, f"{preset}/{comp}: {inputs + outputs}"
        assert COMPONENTS[comp][0] == [e[0] for e in expected[:len(inputs)]]
        assert not any("sample_rate" in v.name for v in model.graph.input)
        assert not any(v.name == "inverse" for v in model.graph.input)


def test_weight_norm_is_gone_and_flow_inverse_is_frozen(package):
    _, out = package
    voc = onnx.load(str(out / "vocoder.onnx"))
    names = " ".join(i.name for i in voc.graph.initializer)
    assert "weight_g" not in names and "weight_v" not in names
    ops = {n.op_type for n in voc.graph.node}
    assert "ReduceL2" not in ops and "Norm" not in ops  # no weight-norm arithmetic left in the graph
    flow_ops = {n.op_type for n in onnx.load(str(out / "flow_decoder.onnx")).graph.node}
    assert "If" not in flow_ops and "Loop" not in flow_ops


def test_model_yaml_describes_the_package(package):
    preset, out = package
    y = yaml.safe_load((out / "model.yaml").read_text())
    assert y["format"] == "autovoice-model" and y["format_version"] == 1
    assert y["preset"] == preset
    assert y["components"] == {c: f"{c}.onnx" for c in COMPONENTS}
    ce = y["content_encoder"]
    assert ce["sample_rate"] == 16000 and ce["peak_normalise"] is True
    assert {k: ce["mel"][k] for k in ("n_fft", "hop_length", "n_mels", "power", "log_floor")} == \
        {"n_fft": 1024, "hop_length": 320, "n_mels": 80, "power": 2, "log_floor": 1e-8}
    dm = y["decoder"]["mel"]
    assert y["decoder"]["sample_rate"] == 22050 and y["decoder"]["hop_length"] == 256
    assert (dm["n_fft"], dm["win_length"], dm["hop_length"], dm["n_mels"], dm["f_min"], dm["f_max"],
            dm["power"], dm["log_floor"]) == (1024, 1024, 256, 80, 0, 8000, 1, 1e-5)
    assert (y["pitch"]["f0_min"], y["pitch"]["f0_max"], y["pitch"]["bins"]) == (80, 1000, 256)
    assert y["dimensions"] == {"content": 256, "pitch": 192, "speaker": 256, "conditioning": 704,
                               "latent": 192, "mel": 80}
    assert y["output"]["sample_rate"] == 44100 and y["inference"]["temperature"] == 1
    names = y["speakers"]["names"]
    emb = np.load(out / y["speakers"]["embeddings"])
    assert emb.dtype == np.float32 and emb.shape == (len(names), 256) == (4, 256)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_export_from_checkpoint_matches_random_init(tmp_path):
    from autovoice_ref.checkpoint import save_checkpoint
    from autovoice_ref.init import random_init_
    from autovoice_ref.model import SVCModel
    from autovoice_ref.presets import get_preset
    m = SVCModel(get_preset("small"), [f"speaker{i}" for i in range(4)])
    random_init_(m, 11)
    ck = tmp_path / "model.ckpt"
    save_checkpoint(str(ck), m)
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_export("--preset", "small", "--checkpoint", str(ck), "--out", str(a),
                      "--components", "flow_decoder").returncode == 0
    assert run_export("--preset", "small", "--random-init", "--seed", "11", "--out", str(b),
                      "--components", "flow_decoder").returncode == 0
    wa = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(a / "flow_decoder.onnx")).graph.initializer}
    wb = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(b / "flow_decoder.onnx")).graph.initializer}
    assert wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def _one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("export_onnx: error: ")
    for n in needles:
        assert n in lines[0], lines[0]


def test_bad_preset(tmp_path):
    _one_line_error(run_export("--preset", "huge", "--random-init", "--seed", "1", "--out", str(tmp_path)),
                    "unknown preset 'huge'")


def test_missing_checkpoint(tmp_path):
    _one_line_error(run_export("--preset", "small", "--checkpoint", str(tmp_path / "nope.ckpt"),
                               "--out", str(tmp_path / "o")), "nope.ckpt", "no such file")


def test_corrupt_checkpoint(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint at all")
    _one_line_error(run_export("--preset", "small", "--checkpoint", str(bad), "--out", str(tmp_path / "o")),
                    "bad.ckpt")


def test_mismatched_checkpoint(tmp_path):
    from autovoice_ref.checkpoint import save_checkpoint
    from autovoice_ref.model import SVCModel
    from autovoice_ref.presets import get_preset
    ck = tmp_path / "small.ckpt"
    save_checkpoint(str(ck), SVCModel(get_preset("small"), ["a"]))
    _one_line_error(run_export("--preset", "seed", "--checkpoint", str(ck), "--out", str(tmp_path / "o")),
                    "preset 'small', not 'seed'")
    # Same preset tag, wrong weights inside: caught by the strict state-dict load.
    state = torch.load(ck)
    state["model"]["vocoder.conv_pre.bias"] = torch.zeros(3)
    torch.save(state, ck)
    _one_line_error(run_export("--preset", "small", "--checkpoint", str(ck), "--out", str(tmp_path / "o")),
                    "do not match preset 'small'")


def test_unwritable_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _one_line_error(run_export("--preset", "small", "--random-init", "--seed", "1",
                               "--out", str(blocker / "sub")), "cannot write")


def test_random_init_needs_a_seed(tmp_path):
    _one_line_error(run_export("--preset", "small", "--random-init", "--out", str(tmp_path)), "--seed")


def test_content_encoder_computes_its_dft_basis(package):
    # The fixed 1026 x 1024 DFT basis (4.2 MB) is built in the graph from Range/Mod/Cos/Sin
    # (autovoice_ref.export.dft_basis_subgraph) instead of being stored: SPEC §7's 20 MB budget.
    from autovoice_ref.export import dft_basis_reference
    from autovoice_ref.presets import get_preset
    preset, out = package
    model = onnx.load(str(out / "content_encoder.onnx"))
    big = [(i.name, list(i.dims)) for i in model.graph.initializer if int(np.prod(i.dims)) >= 1026 * 1024]
    assert not big, big
    ops = {n.op_type for n in model.graph.node}
    assert {"Range", "Mod", "Cos", "Sin"} <= ops
    assert os.path.getsize(out / "content_encoder.onnx") < 4_000_000
    # the formula the subgraph evaluates equals the reference model's float32 buffer
    from autovoice_ref.melfront import LogMelFrontEnd
    cfg = get_preset(preset).content
    ref = LogMelFrontEnd(cfg).dft_basis.numpy()
    assert np.max(np.abs(dft_basis_reference(cfg).astype(np.float64) - ref)) <= 1e-12
