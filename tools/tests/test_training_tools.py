"""tools/corpus, tools/train and tools/eval: the pieces that run without a GPU, at tiny sizes."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOOLS, "train"))
sys.path.insert(0, os.path.join(TOOLS, "eval"))

import ckpt  # noqa: E402
import evaluate  # noqa: E402
import features  # noqa: E402

HAVE_TOOLS = shutil.which("espeak-ng") and shutil.which("sox")


def test_checkpoint_parts_round_trip_and_limit(tmp_path):
    obj = {"w": torch.arange(300_000, dtype=torch.float32), "s": {"step": 7}}
    n = ckpt.save_parts(obj, str(tmp_path), "x", part_bytes=400_000)
    parts = sorted(p.name for p in tmp_path.iterdir())
    assert len(parts) == -(-n // 400_000) >= 3
    assert all(p.stat().st_size <= 400_000 for p in tmp_path.iterdir())
    back = ckpt.load_parts(str(tmp_path), "x")
    assert torch.equal(back["w"], obj["w"]) and back["s"] == {"step": 7}
    # a missing middle part is refused, not silently loaded
    os.remove(tmp_path / "x.pt.001")
    with pytest.raises(ckpt.CheckpointPartsError):
        ckpt.load_parts(str(tmp_path), "x")


def test_engine_noise_port_is_standard_normal():
    z = evaluate.rng_normal(0, np.arange(200_000))
    assert abs(float(z.mean())) < 0.01 and abs(float(z.std()) - 1) < 0.01
    assert np.array_equal(z[:10], evaluate.rng_normal(0, np.arange(10)))
    assert not np.array_equal(z[:10], evaluate.rng_normal(1, np.arange(10)))


def test_mcd_and_speaker_vector_basics():
    sr = 22050
    t = np.arange(sr) / sr
    a = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 660 * t)
    b = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 2200 * t)
    assert features.mcd_dtw(a, sr, a, sr) < 1e-9
    assert features.mcd_dtw(a, sr, b, sr) > 0.5
    assert features.speaker_vector(a, sr).shape == (38,)


@pytest.mark.skipif(not HAVE_TOOLS, reason="espeak-ng and sox are not installed")
def test_corpus_and_one_training_step_each(tmp_path):
    corpus = tmp_path / "corpus"
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "corpus", "make_corpus.py"), "--out",
                        str(corpus), "--train", "1", "--test", "1", "--singers", "amy,ben", "--jobs", "2"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for split, u in (("train", "tr000"), ("test", "te000")):
        for s in ("amy", "ben"):
            x, sr = features.read_wav(str(corpus / split / s / f"{u}.wav"))
            f0 = np.loadtxt(corpus / split / s / f"{u}.f0.csv", delimiter=",", skiprows=1)
            assert sr == 22050 and len(f0) == int(len(x) / sr / 0.01 + 1e-9) + 1
            voiced = f0[:, 2] > 0
            assert 0.5 < voiced.mean() < 0.95
            assert np.all((f0[voiced, 1] > 110) & (f0[voiced, 1] < 380))
    for part in ("acoustic", "vocoder"):
        r = subprocess.run([sys.executable, os.path.join(TOOLS, "train", "train.py"), "--part", part,
                            "--corpus", str(corpus), "--work", str(tmp_path / "work"), "--export",
                            str(tmp_path / "out"), "--tiny", "--max-steps", "2", "--device", "cpu"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert ckpt.exists(str(tmp_path / "out"), part)
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "train", "assemble.py"), "--parts",
                        str(tmp_path / "out"), "--out", str(tmp_path / "m.ckpt")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    from autovoice_ref.checkpoint import load_checkpoint
    assert load_checkpoint(str(tmp_path / "m.ckpt"), "small").speakers == ["amy", "ben"]
