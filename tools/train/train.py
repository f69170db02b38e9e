#!/usr/bin/env python3
"""Train the reference model's `small` preset on the sung corpus, in time-boxed, resumable slices.

usage: tools/train/train.py --part acoustic|vocoder --corpus DIR --work DIR
                            [--export DIR] [--resume DIR] [--minutes M | --deadline UNIX_TIME]
                            [--max-steps N] [--device cuda|cpu] [--tiny] [--seed N]

Two independent parts (SPEC §2; docs/TRAINING.md), run as two processes side by side on one GPU:
  acoustic  content encoder, pitch encoder, speaker table, flow, posterior and mel projection,
            VITS-style self-reconstruction: each crop's target mel -> posterior q(z|mel);
            loss = 45 * L1(mel_projection(z), mel) + KL(q || flow prior), the KL estimated as
            sum(0.5 u^2 - 0.5 logvar - 0.5) - log|det dFlow/dz| per frame, u = Flow(z | cond).
            The content encoder's input is perturbed (resampled by a random factor in
            [0.8, 1.25], random smooth EQ of +-6 dB), so that content features carry less of
            the singer's formants and pitch, which must then come from the speaker table and the
            pitch encoder; the conditioning is interpolated to the crop's frames either way.
  vocoder   the HiFi-GAN generator on ground-truth mels: LSGAN adversarial + 2 x feature matching
            + 45 x mel L1, against narrowed MPD/MSD discriminators (discriminators.py); bf16
            autocast.

Each slice trains until the deadline, then writes the full state (weights + Adam states) to
--work (kept between slices on one machine) and, with --export, the parts to bring back:
  vocoder   the full state (generator, discriminators, both optimisers; <= 36 MiB) in <= 16 MiB parts
  acoustic  weights only (posterior in bf16, the rest fp32) in <= 16 MiB parts; its Adam state
            (113 MB) stays in --work
plus the loss log NAME.csv. --resume DIR starts from such exported parts when --work has none
(a fresh machine); the acoustic optimiser then restarts with a short warm-up.
"""
import argparse
import csv
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

from autovoice_ref.model import HiFiGANGenerator, SVCModel  # noqa: E402
from autovoice_ref.presets import get_preset  # noqa: E402
import ckpt  # noqa: E402
from data import Corpus, DecoderMel  # noqa: E402
from discriminators import (Discriminators, discriminator_loss, feature_loss,  # noqa: E402
                            generator_adv_loss)

R_GRID = np.exp(np.linspace(math.log(0.8), math.log(1.25), 17))   # includes 1.0


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- content perturbation -------------------------------------------------------------------

def perturb(x, rng, sample_rate=16000):
    """x [B, N] -> [B, round(N / r)]: resampled by one factor r from R_GRID (formants and pitch
    move by r; linear interpolation), then a random smooth EQ per item (4 cosine terms over log
    frequency, +-6 dB at most), then peak-normalised."""
    b, n = x.shape
    r = float(R_GRID[rng.randint(len(R_GRID))])
    n2 = int(round(n / r))
    pos = torch.clamp(torch.arange(n2, device=x.device, dtype=torch.float32) * r, max=n - 1)
    i0 = pos.floor().long()
    i1 = torch.clamp(i0 + 1, max=n - 1)
    w = pos - i0
    y = x[:, i0] * (1 - w) + x[:, i1] * w
    spec = torch.fft.rfft(y, dim=1)
    f = torch.linspace(0, sample_rate / 2, spec.shape[1], device=x.device)
    lf = torch.log2(torch.clamp(f, min=50.0) / 50.0) / math.log2(sample_rate / 2 / 50.0)
    a = torch.as_tensor(rng.uniform(-1.5, 1.5, size=(b, 4)), dtype=torch.float32, device=x.device)
    j = torch.arange(1, 5, device=x.device, dtype=torch.float32)
    g_db = (a[:, :, None] * torch.cos(math.pi * j[None, :, None] * lf[None, None, :])).sum(1)
    y = torch.fft.irfft(spec * (10.0 ** (g_db / 20.0)), n=n2, dim=1)
    return y / torch.clamp(y.abs().amax(dim=1, keepdim=True), min=1e-8), r


# ---- bookkeeping ----------------------------------------------------------------------------

class CsvLog:
    def __init__(self, path, fields):
        self.path, self.fields = path, fields
        new = not os.path.exists(path)
        if not new:
            with open(path, newline="") as f:
                old = list(csv.DictReader(f))
                header = old[0].keys() if old else fields
            if list(header) != list(fields):
                # a log from before a field was added: rewrite it with the new header
                # (old rows leave the new field empty)
                with open(path + ".tmp", "w", newline="") as f:
                    w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
                    w.writeheader()
                    w.writerows(old)
                os.replace(path + ".tmp", path)
        self.f = open(path, "a", newline="")
        self.w = csv.DictWriter(self.f, fieldnames=fields, extrasaction="ignore")
        if new:
            self.w.writeheader()

    def row(self, **kw):
        self.w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in kw.items()})
        self.f.flush()


class Averager:
    def __init__(self):
        self.s, self.n = {}, 0

    def add(self, **kw):
        # detached device tensors are summed without a host sync; take() syncs once
        for k, v in kw.items():
            v = v.detach() if torch.is_tensor(v) else v
            self.s[k] = self.s.get(k, 0.0) + v
        self.n += 1

    def take(self):
        out = {k: float(v) / max(self.n, 1) for k, v in self.s.items()}
        bad = [k for k, v in out.items() if not math.isfinite(v)]
        if bad:
            raise RuntimeError(f"non-finite training values: {', '.join(bad)}")
        self.s, self.n = {}, 0
        return out


def seed_all(seed):
    torch.manual_seed(seed)
    return np.random.RandomState(seed)


# ---- acoustic -------------------------------------------------------------------------------

ACOUSTIC_FIELDS = ["step", "seconds", "lr", "loss", "mel_l1", "kl", "grad_norm", "val_recon_l1_t0",
                   "val_conv_l1_t0", "val_conv_l1_t05", "val_src_l1"]


def acoustic_model(preset, singers):
    m = SVCModel(preset, singers)
    del m.vocoder                      # trained by the other part
    for c in m.flow.couplings:         # the flow starts as the identity (as VITS)
        torch.nn.init.zeros_(c.out_proj.weight)
        torch.nn.init.zeros_(c.out_proj.bias)
    return m


FIXED_BUFFERS = ("content_encoder.front.dft_basis", "content_encoder.front.mel_basis")


def slim_acoustic_state(model):
    """Weights only: the posterior (training only) in bf16, the fixed front-end bases left out
    (they are rebuilt from the preset)."""
    sd = model.state_dict()
    return {k: (v.to(torch.bfloat16) if k.startswith("posterior.") else v).cpu()
            for k, v in sd.items() if k not in FIXED_BUFFERS}


def load_slim_acoustic(model, sd):
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in sd.items()}, strict=False)
    missing = [k for k in missing if k not in FIXED_BUFFERS and not k.startswith("vocoder.")]
    if unexpected or missing:
        raise RuntimeError(f"acoustic weights do not match: missing {missing}, unexpected {unexpected}")


def acoustic_forward(model, b, rng, frames):
    x16, r = perturb(b["audio16"], rng)
    content = model.content_encoder(x16)
    pitch = model.pitch_encoder(b["f0"], b["voiced"])
    spk = model.speaker_table(b["speaker"])
    cond = model.conditioning(content, pitch, spk, frames)
    mel = b["mel"]
    mask = torch.ones(mel.shape[0], 1, frames, device=mel.device)
    mean, logvar = model.posterior(mel, mask)
    z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
    mel_hat = model.mel_projection(z)
    mel_l1 = F.l1_loss(mel_hat, mel)
    u, logdet = model.flow(z, mask, cond)
    count = mel.shape[0] * frames
    kl = ((0.5 * u ** 2 - 0.5 * logvar - 0.5).sum() - logdet.sum()) / count
    return mel_l1, kl


@torch.no_grad()
def acoustic_validate(model, corpus, pairs, temps=(0.0, 0.5)):
    """Mean L1 to ground-truth mels over fixed (source, target) pairs of one utterance:
    reconstruction (source speaker), conversion (target speaker) and the source itself."""
    model.eval()
    def tname(t):
        return "t" + f"{t:g}".replace(".", "")     # 0 -> t0, 0.5 -> t05
    out = {f"val_conv_l1_{tname(t)}": 0.0 for t in temps}
    out["val_recon_l1_t0"] = 0.0
    out["val_src_l1"] = 0.0
    g = torch.Generator(device="cpu").manual_seed(1234)
    for a, bi in pairs:
        s = corpus.whole(a)
        t = corpus.whole(bi)
        T = s["mel"].shape[2]
        x16 = s["audio16"] / torch.clamp(s["audio16"].abs().max(), min=1e-8)
        content = model.content_encoder(x16)
        pitch = model.pitch_encoder(s["f0"], s["voiced"])
        mask = torch.ones(1, 1, T, device=x16.device)
        n = min(T, t["mel"].shape[2])
        noise = torch.randn(1, model.preset.latent_dim, T, generator=g).to(x16.device)
        for spk, key, target in ((t["speaker"], "conv", t["mel"]), (s["speaker"], "recon", s["mel"])):
            cond = model.conditioning(content, pitch, model.speaker_table(spk), T)
            for temp in temps:
                k = f"val_{key}_l1_{tname(temp)}"
                if k not in out:
                    continue
                mel = model.mel_projection(model.flow.inverse(noise * temp, mask, cond))
                out[k] += float(F.l1_loss(mel[..., :n], target[..., :n])) / len(pairs)
        out["val_src_l1"] += float(F.l1_loss(s["mel"][..., :n], t["mel"][..., :n])) / len(pairs)
    model.train()
    return out


def validation_pairs(corpus, count, rng):
    by_utt = {}
    for i, r in enumerate(corpus.items):
        by_utt.setdefault(r["utterance"], []).append(i)
    utts = sorted(u for u, v in by_utt.items() if len(v) > 1)
    pairs = []
    for k in range(count):
        u = utts[rng.randint(len(utts))]
        a, b = rng.choice(by_utt[u], size=2, replace=False)
        pairs.append((int(a), int(b)))
    return pairs


def train_acoustic(a, preset, corpus, device, deadline):
    rng = seed_all(a.seed)
    model = acoustic_model(preset, corpus.singers).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.8, 0.99), eps=1e-9, weight_decay=0.0)
    state = {"step": 0, "seconds": 0.0, "slices": 0}
    warm_from = 0
    if ckpt.exists(a.work, "acoustic"):
        ck = ckpt.load_parts(a.work, "acoustic")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = ck["state"]
        log(f"acoustic: resumed from {a.work} at step {state['step']}")
    elif a.resume and ckpt.exists(a.resume, "acoustic"):
        ck = ckpt.load_parts(a.resume, "acoustic")
        load_slim_acoustic(model, ck["model"])
        state = ck["state"]
        warm_from = state["step"]
        log(f"acoustic: resumed weights from {a.resume} at step {state['step']} (fresh optimiser)")
        if os.path.exists(os.path.join(a.resume, "acoustic.csv")):
            shutil.copy(os.path.join(a.resume, "acoustic.csv"), os.path.join(a.work, "acoustic.csv"))
    n_params = sum(p.numel() for p in model.parameters())
    log(f"acoustic: {n_params} parameters, {len(corpus)} renderings, {corpus.hours:.2f} h")
    csvlog = CsvLog(os.path.join(a.work, "acoustic.csv"), ACOUSTIC_FIELDS)
    pairs = validation_pairs(corpus, 4 if a.tiny else 8, np.random.RandomState(7))
    avg = Averager()
    t_start = time.time()
    last_save = t_start
    step0 = state["step"]
    model.train()
    while True:
        now = time.time()
        if now >= deadline or (a.max_steps and state["step"] - step0 >= a.max_steps):
            break
        step = state["step"]
        lr = a.lr * min(1.0, (step - warm_from + 1) / a.warmup)
        for gparam in opt.param_groups:
            gparam["lr"] = lr
        idx, st = corpus.sample_starts(rng, a.batch, a.frames)
        b = corpus.crops(idx, st, a.frames)
        mel_l1, kl = acoustic_forward(model, b, rng, a.frames)
        loss = 45.0 * mel_l1 + a.kl_weight * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        state["step"] += 1
        avg.add(loss=loss, mel_l1=mel_l1, kl=kl, grad_norm=gn)
        if state["step"] % a.log_every == 0:
            row = avg.take()
            seconds = state["seconds"] + time.time() - t_start
            if state["step"] % (a.log_every * a.val_every) == 0:
                row.update(acoustic_validate(model, corpus, pairs))
            csvlog.row(step=state["step"], seconds=seconds, lr=lr, **row)
            if state["step"] % (a.log_every * 4) == 0 or "val_src_l1" in row:
                log("acoustic: " + " ".join(f"{k} {v:.4g}" for k, v in
                                            [("step", state["step"]), *row.items()]))
        if time.time() - last_save > a.save_minutes * 60:
            _save_acoustic(a, model, opt, state, t_start, export=False)
            last_save = time.time()
    _save_acoustic(a, model, opt, state, t_start, export=True, slice_done=True)


def _save_acoustic(a, model, opt, state, t_start, export, slice_done=False):
    st = dict(state, seconds=state["seconds"] + time.time() - t_start)
    if slice_done:
        st["slices"] = state.get("slices", 0) + 1
    size = ckpt.save_parts({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": st},
                           a.work, "acoustic")
    msg = f"acoustic: step {st['step']}, {st['seconds']:.0f} s trained; full state {size / 2**20:.1f} MiB in {a.work}"
    if export and a.export:
        s2 = ckpt.save_parts({"model": slim_acoustic_state(model), "state": st, "singers": model.speakers},
                             a.export, "acoustic")
        shutil.copy(os.path.join(a.work, "acoustic.csv"), os.path.join(a.export, "acoustic.csv"))
        msg += f"; weights {s2 / 2**20:.1f} MiB in {a.export}"
    log(msg)


# ---- vocoder --------------------------------------------------------------------------------

VOCODER_FIELDS = ["step", "seconds", "d_loss", "g_adv", "g_fm", "mel_l1", "g_grad_norm", "lr"]


def train_vocoder(a, preset, corpus, device, deadline):
    rng = seed_all(a.seed + 1)
    gen = HiFiGANGenerator(preset).to(device)
    disc = Discriminators(div=8).to(device)
    opt_g = torch.optim.AdamW(gen.parameters(), lr=a.lr, betas=(0.8, 0.99), eps=1e-9, weight_decay=0.0)
    opt_d = torch.optim.AdamW(disc.parameters(), lr=a.lr, betas=(0.8, 0.99), eps=1e-9, weight_decay=0.0)
    state = {"step": 0, "seconds": 0.0, "slices": 0}
    src = a.work if ckpt.exists(a.work, "vocoder") else (
        a.resume if a.resume and ckpt.exists(a.resume, "vocoder") else None)
    if src:
        ck = ckpt.load_parts(src, "vocoder")
        gen.load_state_dict(ck["generator"])
        disc.load_state_dict(ck["discriminators"])
        if "opt_g" in ck:
            opt_g.load_state_dict(ck["opt_g"])
            opt_d.load_state_dict(ck["opt_d"])
        state = ck["state"]
        if "opt_g" not in ck:
            # fresh Adam states take full-size steps at once (m / sqrt(v) ~ +-1 per weight):
            # warm the learning rate up from zero again (calls 6 and 7 of TRAINING.md diverged
            # without this)
            state["warm_from"] = state["step"]
        log(f"vocoder: resumed from {src} at step {state['step']}"
            f"{'' if 'opt_g' in ck else ' (fresh optimisers)'}")
        if src != a.work and os.path.exists(os.path.join(src, "vocoder.csv")):
            shutil.copy(os.path.join(src, "vocoder.csv"), os.path.join(a.work, "vocoder.csv"))
    ng = sum(p.numel() for p in gen.parameters())
    nd = sum(p.numel() for p in disc.parameters())
    log(f"vocoder: generator {ng} + discriminators {nd} parameters; full state "
        f"~{(ng + nd) * 12 / 2**20:.1f} MiB")
    mel_fn = DecoderMel(preset.mel).to(device)
    csvlog = CsvLog(os.path.join(a.work, "vocoder.csv"), VOCODER_FIELDS)
    use_bf16 = device.type == "cuda" and a.voc_precision == "bf16"
    ac = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_bf16 else \
        (lambda: torch.autocast("cpu", enabled=False))
    avg = Averager()
    t_start = time.time()
    last_save = t_start
    step0 = state["step"]
    seg_frames = a.segment // preset.hop_length
    if a.lr_decay != 1.0 and "decay_from" not in state:
        state["decay_from"] = state["step"]
    while True:
        if time.time() >= deadline or (a.max_steps and state["step"] - step0 >= a.max_steps):
            break
        lr = vocoder_lr(a, state)
        for opt in (opt_g, opt_d):
            for gparam in opt.param_groups:
                gparam["lr"] = lr
        idx, st = corpus.sample_starts(rng, a.batch, seg_frames)
        b = corpus.crops(idx, st, seg_frames)
        y = b["audio"].unsqueeze(1)
        with ac():
            y_hat = gen(b["mel"])
        # discriminators
        with ac():
            real, _ = disc(y)
            fake, _ = disc(y_hat.detach())
            d_loss = discriminator_loss(real, fake)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        # generator
        mel_l1 = F.l1_loss(mel_fn(y_hat.float().squeeze(1)), mel_fn(y.squeeze(1)))
        with ac():
            real, real_f = disc(y)
            fake, fake_f = disc(y_hat)
            g_adv = generator_adv_loss(fake)
            g_fm = feature_loss(real_f, fake_f)
        g_loss = g_adv + g_fm + 45.0 * mel_l1
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(gen.parameters(), 1000.0)
        opt_g.step()
        state["step"] += 1
        avg.add(d_loss=d_loss, g_adv=g_adv, g_fm=g_fm, mel_l1=mel_l1, g_grad_norm=gn)
        if state["step"] % a.log_every == 0:
            row = avg.take()
            csvlog.row(step=state["step"], seconds=state["seconds"] + time.time() - t_start, lr=lr, **row)
            if state["step"] % (a.log_every * 4) == 0:
                log("vocoder: " + " ".join(f"{k} {v:.4g}" for k, v in [("step", state["step"]), *row.items()]))
        if time.time() - last_save > a.save_minutes * 60:
            _save_vocoder(a, gen, disc, opt_g, opt_d, state, t_start, export=False)
            last_save = time.time()
    _save_vocoder(a, gen, disc, opt_g, opt_d, state, t_start, export=True, slice_done=True)


def vocoder_lr(a, state):
    """The learning rate of both vocoder optimisers at state["step"]: a.lr, times
    a.lr_decay per 1000 steps after state["decay_from"] (set when decay was first asked for, so
    the schedule continues across slices), ramped up linearly over a.warmup steps after
    state["warm_from"] (a resume with fresh optimisers)."""
    step = state["step"]
    lr = a.lr
    if "decay_from" in state and a.lr_decay != 1.0:
        lr *= a.lr_decay ** (max(0, step - state["decay_from"]) / 1000.0)
    if "warm_from" in state:
        lr *= min(1.0, (step - state["warm_from"] + 1) / a.warmup)
    return lr


def _save_vocoder(a, gen, disc, opt_g, opt_d, state, t_start, export, slice_done=False):
    st = dict(state, seconds=state["seconds"] + time.time() - t_start)
    if slice_done:
        st["slices"] = state.get("slices", 0) + 1
    full = {"generator": gen.state_dict(), "discriminators": disc.state_dict(),
            "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "state": st}
    size = ckpt.save_parts(full, a.work, "vocoder")
    msg = f"vocoder: step {st['step']}, {st['seconds']:.0f} s trained; full state {size / 2**20:.2f} MiB"
    if export and a.export:
        ckpt.save_parts(full, a.export, "vocoder")
        shutil.copy(os.path.join(a.work, "vocoder.csv"), os.path.join(a.export, "vocoder.csv"))
        msg += f" (also in {a.export})"
    log(msg)


# ---- main -----------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--part", choices=["acoustic", "vocoder"], required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--export")
    ap.add_argument("--resume")
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--deadline", type=float, help="stop training at this UNIX time")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes for a CPU test")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--frames", type=int, help="acoustic crop, decoder frames")
    ap.add_argument("--segment", type=int, help="vocoder crop, samples")
    ap.add_argument("--lr", type=float)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--voc-precision", choices=["bf16", "fp32"], default="bf16",
                    help="vocoder on a GPU: bf16 autocast (default) or fp32 (TF32 products)")
    ap.add_argument("--lr-decay", type=float, default=1.0,
                    help="vocoder: multiply the learning rate by this per 1000 steps")
    ap.add_argument("--kl-weight", type=float, default=1.0)
    ap.add_argument("--clip", type=float, default=1000.0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--val-every", type=int, default=10, help="validate every N log rows")
    ap.add_argument("--save-minutes", type=float, default=3.0)
    a = ap.parse_args(argv)
    if a.part == "acoustic":
        a.batch = a.batch or (2 if a.tiny else 32)
        a.frames = a.frames or (48 if a.tiny else 256)
        a.lr = a.lr or 3e-4
    else:
        a.batch = a.batch or (2 if a.tiny else 32)
        a.segment = a.segment or (2048 if a.tiny else 8192)
        a.lr = a.lr or 2e-4
    if a.tiny:
        a.log_every = min(a.log_every, 2)
        a.val_every = min(a.val_every, 2)
    deadline = a.deadline or (time.time() + 60 * a.minutes if a.minutes else float("inf"))
    if deadline == float("inf") and not a.max_steps:
        ap.error("give --minutes, --deadline or --max-steps")
    os.makedirs(a.work, exist_ok=True)
    if a.export:
        os.makedirs(a.export, exist_ok=True)
    device = torch.device(a.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    else:
        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    preset = get_preset("small")
    t0 = time.time()
    corpus = Corpus(a.corpus, preset, "train", device, limit=None)
    log(f"{a.part}: corpus loaded in {time.time() - t0:.1f} s on {device}"
        f"{' (' + torch.cuda.get_device_name(device) + ')' if device.type == 'cuda' else ''}")
    if a.part == "acoustic":
        train_acoustic(a, preset, corpus, device, deadline)
    else:
        train_vocoder(a, preset, corpus, device, deadline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
