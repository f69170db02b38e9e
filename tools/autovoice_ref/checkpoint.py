"""Reference-model checkpoints: one torch.save'd dict with format tag, preset and speakers."""
import torch

from .model import SVCModel
from .presets import get_preset

FORMAT = "autovoice-reference-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    pass


def save_checkpoint(path, model, extra=None):
    torch.save({"format": FORMAT, "version": VERSION, "preset": model.preset.name,
                "speakers": list(model.speakers), "model": model.state_dict(),
                "extra": extra or {}}, path)


def load_checkpoint(path, preset_name):
    """Loads a checkpoint into a fresh SVCModel of `preset_name` (weight norm in place).
    Raises CheckpointError with a one-line reason on any mismatch."""
    try:
        ck = torch.load(path, map_location="cpu")
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except Exception as e:  # torch raises many types for a corrupt file
        detail = (str(e).strip().splitlines() or [""])[0][:160]
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: {detail})") from None
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an autovoice reference checkpoint")
    if ck.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {ck.get('version')}, expected {VERSION}")
    if ck.get("preset") != preset_name:
        raise CheckpointError(f"{path}: checkpoint is for preset '{ck.get('preset')}', not '{preset_name}'")
    model = SVCModel(get_preset(preset_name), ck["speakers"])
    try:
        model.load_state_dict(ck["model"], strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise CheckpointError(f"{path}: weights do not match preset '{preset_name}': "
                              f"{' '.join(l.strip() for l in first[:3])}") from None
    return model
