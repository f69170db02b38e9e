"""Training checkpoints as one torch.save'd dict, written in parts of at most 16 MiB.

NAME.pt.000, NAME.pt.001, ... hold consecutive byte ranges of the serialised dict (the lent GPU
machine returns files of at most 16 MiB, at most 8 of them: no separate index file is written).
torch.save's zip format ends in a central directory and checks a CRC-32 per record, so a missing,
truncated or mixed part makes the load fail instead of giving wrong weights. Parts are written
under temporary names and renamed together at the end.
"""
import io
import os

import torch

PART_BYTES = 16 * 1024 * 1024


class CheckpointPartsError(Exception):
    pass


def _part(directory, name, i):
    return os.path.join(directory, f"{name}.pt.{i:03d}")


def save_parts(obj, directory, name, part_bytes=PART_BYTES):
    """Writes obj; returns its serialised size in bytes."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    os.makedirs(directory, exist_ok=True)
    count = max(1, (len(data) + part_bytes - 1) // part_bytes)
    for i in range(count):
        with open(_part(directory, name, i) + ".tmp", "wb") as f:
            f.write(data[i * part_bytes:(i + 1) * part_bytes])
    for i in range(count):
        os.replace(_part(directory, name, i) + ".tmp", _part(directory, name, i))
    i = count                      # parts left over from a larger earlier save
    while os.path.exists(_part(directory, name, i)):
        os.remove(_part(directory, name, i))
        i += 1
    return len(data)


def exists(directory, name):
    return os.path.exists(_part(directory, name, 0))


def load_parts(directory, name, map_location="cpu"):
    data = bytearray()
    i = 0
    while os.path.exists(_part(directory, name, i)):
        with open(_part(directory, name, i), "rb") as f:
            data += f.read()
        i += 1
    if not i:
        raise CheckpointPartsError(f"{_part(directory, name, 0)}: no such file")
    try:
        return torch.load(io.BytesIO(bytes(data)), map_location=map_location)
    except Exception as e:  # torch raises many types for a corrupt stream
        raise CheckpointPartsError(f"{directory}/{name}.pt.*: {i} part(s) do not make a readable "
                                   f"checkpoint ({type(e).__name__}: {str(e)[:120]})") from None
