"""Sings one utterance in one voice with espeak-ng and sox; returns the audio and its F0 track.

The method is scripts/make-example.sh's, in Python, with the signal bookkeeping in numpy and
espeak-ng / sox run through pipes (no temporary files):

  1. every word is said alone by espeak-ng with a flat pitch (SSML prosody range 0%) at the -p
     whose calibrated F0 is nearest the note; leading/trailing silence is trimmed and the word is
     scaled to peak 0.3;
  2. the vowel core is where the 20 ms RMS is within 4 dB of its maximum; the F0 the word really
     has is measured there (YIN, searched within +-4 semitones of the calibrated value);
  3. onset consonants keep their length and go before the beat, the core is stretched with sox
     `tempo` (WSOLA) to fill the note, the decay/final consonants are squeezed to <= TAIL_MAX;
     pieces are joined with 15 ms crossfades;
  4. sox `bend` moves the note from the measured F0 to the note's exact frequency (in the first
     10 ms) and adds the singer's vibrato on notes >= 0.45 s, as piecewise-linear cents at 8
     knots per cycle; the same piecewise-linear curve gives the saved F0 track;
  5. notes and rests are joined, the singer's EQ is applied, the result is normalised to -3 dBFS
     and written as 16-bit PCM at 22050 Hz.

The F0 track has one row per 10 ms (time = i * 0.01 s, i = 0 .. floor(duration / 0.01)), with
F0 = the intended frequency inside every note span and voiced = 1 where the rendering is
periodic at that frequency (normalised autocorrelation >= 0.5 at the known period, level within
35 dB of the loudest frame): consonants, rests and silence are unvoiced.
"""
import io
import math
import subprocess

import numpy as np

RATE = 22050
LEAD = 0.30          # time of the first beat, s
TAIL = 0.25          # silence after the last note, s
TAIL_MAX = 0.12      # longest vowel decay + final consonants kept, s
XF = 0.015           # crossfade between pieces of a note, s
VIB_MIN = 0.45       # notes at least this long get vibrato, s
HOP = 0.01           # F0 track step, s


class RenderError(Exception):
    pass


# ---- tools -------------------------------------------------------------------------------

def run(cmd, env, data=None):
    r = subprocess.run(cmd, input=data, capture_output=True, env=env)
    if r.returncode != 0:
        raise RenderError(f"{' '.join(cmd[:6])}...: exit {r.returncode}: "
                          f"{r.stderr.decode(errors='replace').strip()[:300]}")
    return r.stdout


def parse_wav(b):
    """16-bit mono WAV bytes (espeak-ng --stdout leaves the size fields unset) -> float32."""
    if b[:4] != b"RIFF" or b[8:12] != b"WAVE":
        raise RenderError("espeak-ng did not write a WAV stream")
    i = b.find(b"data", 12)
    if i < 0:
        raise RenderError("WAV stream without a data chunk")
    pcm = b[i + 8:]
    pcm = pcm[:len(pcm) // 2 * 2]
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def espeak(word, voice, speed, p, env):
    ssml = f'<speak><prosody range="0%">{word}</prosody></speak>'
    out = run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(int(p)), "-m", "--stdout", ssml],
              env)
    return parse_wav(out)


SOX_RAW = ["-t", "raw", "-r", str(RATE), "-e", "floating-point", "-b", "32", "-c", "1"]


def sox(x, effects, env):
    """Runs sox effects on a float32 signal at RATE through pipes; no dither, errors only."""
    out = run(["sox", "-D", "-V1", *SOX_RAW, "-", *SOX_RAW, "-", *effects], env,
              np.ascontiguousarray(x, dtype="<f4").tobytes())
    return np.frombuffer(out, dtype="<f4").astype(np.float32)


# ---- analysis ----------------------------------------------------------------------------

def yin_track(x, sr, f_lo, f_hi, hop=0.01, threshold=0.15):
    """Per-frame F0 (Hz, 0 = none) by YIN over frames of 2 periods of f_lo; numpy only."""
    tau_min = max(2, int(sr / f_hi))
    tau_max = int(math.ceil(sr / f_lo)) + 1
    w = tau_max
    n_hop = int(round(hop * sr))
    out = []
    for c in range(0, len(x) - w - tau_max, n_hop):
        f = x[c:c + w + tau_max].astype(np.float64)
        if np.max(np.abs(f)) < 1e-4:
            out.append(0.0)
            continue
        # difference function d(tau) = sum_j (f[j] - f[j + tau])^2 over j < w
        e0 = np.sum(f[:w] ** 2)
        cs = np.concatenate([[0.0], np.cumsum(f ** 2)])
        et = cs[np.arange(tau_max) + w] - cs[np.arange(tau_max)]
        n = 1 << int(math.ceil(math.log2(len(f) + w)))
        ac = np.fft.irfft(np.fft.rfft(f, n) * np.conj(np.fft.rfft(f[:w], n)), n)[:tau_max]
        d = e0 + et - 2 * ac
        d[0] = 0
        cm = np.ones_like(d)
        csum = np.cumsum(d[1:])
        cm[1:] = d[1:] * np.arange(1, tau_max) / np.maximum(csum, 1e-12)
        cand = np.where(cm[tau_min:tau_max - 1] < threshold)[0]
        if len(cand) == 0:
            out.append(0.0)
            continue
        t = cand[0] + tau_min
        while t + 1 < tau_max - 1 and cm[t + 1] < cm[t]:
            t += 1
        a, b, cc = d[t - 1], d[t], d[t + 1]
        den = a - 2 * b + cc
        shift = 0.5 * (a - cc) / den if den > 0 else 0.0
        out.append(sr / (t + shift))
    return np.array(out)


def median_f0(x, sr, f_lo, f_hi):
    f = yin_track(x, sr, f_lo, f_hi)
    f = f[f > 0]
    return float(np.median(f)) if len(f) else 0.0


def rms_frames(x, win, hop):
    n = max(1, 1 + (len(x) - win) // hop)
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    xp = np.pad(x, (0, max(0, idx.max() + 1 - len(x))))
    return np.sqrt(np.mean(xp[idx] ** 2, axis=1) + 1e-20)


def trim_silence(x, db=-45.0):
    thr = np.max(np.abs(x)) * 10 ** (db / 20)
    loud = np.where(np.abs(x) > thr)[0]
    if len(loud) == 0:
        raise RenderError("espeak-ng produced silence")
    return x[loud[0]:loud[-1] + 1]


def vowel_core(x):
    """(a, b) in samples: first/last 20 ms window (5 ms hop) within 4 dB of the loudest."""
    win, hop = int(0.02 * RATE), int(0.005 * RATE)
    r = 20 * np.log10(rms_frames(x, win, hop))
    ok = np.where(r >= r.max() - 4.0)[0]
    return int(ok[0] * hop), int(min(len(x), ok[-1] * hop + win))


# ---- pitch calibration --------------------------------------------------------------------

def calibrate(voice, speed, env, points=range(0, 100, 9)):
    """F0 (Hz) of a flat sung 'ah' at several -p values: [(p, hz)], increasing in hz."""
    table = []
    for p in sorted(set(points) | {99}):
        x = trim_silence(espeak("aah", voice, speed, p, env))
        a, b = vowel_core(x)
        hz = median_f0(x[a:b], RATE, 40.0, 900.0)
        if hz > 0:
            table.append((p, hz))
    table.sort(key=lambda t: t[0])
    hz = [h for _, h in table]
    if len(table) < 4 or any(h2 <= h1 for h1, h2 in zip(hz, hz[1:])):
        raise RenderError(f"{voice}: pitch calibration is not monotonic: {table}")
    return table


def pick_p(table, hz):
    """The integer -p whose interpolated (log-F0) calibration is nearest hz, and that F0."""
    ps = np.array([p for p, _ in table], dtype=np.float64)
    lf = np.log(np.array([h for _, h in table]))
    grid = np.arange(0, 100)
    lg = np.interp(grid, ps, lf)
    i = int(np.argmin(np.abs(lg - math.log(hz))))
    return int(grid[i]), float(math.exp(lg[i]))


# ---- one note ------------------------------------------------------------------------------

def stretch(x, frm, to, target, more, env):
    """x[frm:to] stretched (sox tempo, WSOLA) to `target` samples, plus `more` samples of what
    follows, stretched alike. tempo fades its last ~30 ms, so 0.05 s extra goes along and is cut."""
    f = (to - frm) / target
    extra = min(len(x) - to, int(more * f + 0.05 * RATE))
    k = 1
    while f ** (1.0 / k) < 0.25:
        k += 1
    eff = []
    for _ in range(k):
        eff += ["tempo", f"{f ** (1.0 / k):.6f}", "30", "10", "8"]
    y = sox(x[frm:to + extra], eff, env)
    need = target + more
    return np.pad(y, (0, max(0, need - len(y))))[:need]


def xfade_join(parts_at, n):
    """Sum of (offset, signal) pieces into n samples (pieces already carry their fades)."""
    out = np.zeros(n, dtype=np.float64)
    for off, sig in parts_at:
        m = min(len(sig), n - off)
        if m > 0:
            out[off:off + m] += sig[:m]
    return out


def half_sine_fade(n, rising):
    t = (np.arange(n) + 0.5) / max(n, 1)
    f = np.sin(0.5 * np.pi * t)
    return f if rising else f[::-1]


def bend_plan(corr_cents, length, vib_start, rate, depth):
    """sox bend triples (delay, cents, duration) and the segments (start, cents, duration) in
    absolute note time that make the same piecewise-linear cents curve."""
    segs = []
    segs.append((0.0, corr_cents, 0.010))
    ve = length - 0.06
    if length + 1e-9 >= VIB_MIN and ve - vib_start >= 0.2:
        step = 1.0 / (rate * 8)
        t, prev = vib_start, 0.0
        while t + step <= ve + 1e-9:
            t2 = t + step
            env = min(1.0, (t2 - vib_start) / 0.15, (ve - t2) / 0.10)
            env = max(env, 0.0)
            cur = depth * env * math.sin(2 * math.pi * rate * (t2 - vib_start))
            segs.append((t, cur - prev, step))
            prev, t = cur, t2
        segs.append((t, -prev, 0.010))
    # sox rejects a bend of 0 cents: drop those; delays are relative to the previous bend's end
    triples, kept, end = [], [], 0.0
    for s, c, d in segs:
        if abs(c) < 0.0005:
            continue
        triples.append(f"{s - end:.4f},{c:.3f},{d:.4f}")
        kept.append((s, c, d))
        end = s + d
    if not triples:
        triples = ["0,0.001,0.010"]
    return triples, kept


def cents_curve(segs, t):
    c = np.zeros_like(t)
    for s, cents, d in segs:
        c += cents * np.clip((t - s) / d, 0.0, 1.0)
    return c


# ---- one utterance -------------------------------------------------------------------------

def render_utterance(utt, singer, table, env):
    """-> (audio float32 at RATE, peak -3 dBFS; f0 [frames] Hz; voiced [frames] bool; info)."""
    voice = f"en-us+av_{singer.name}"
    beat = utt["beat_s"]
    words, midi, beats, rests = utt["words"], utt["midi"], utt["beats"], utt["rests"]
    n = len(words)
    hz = [440.0 * 2.0 ** ((m - 69) / 12.0) for m in midi]
    beat_at, cum = [], 0.0
    for k in range(n):
        beat_at.append(LEAD + cum * beat)
        cum += beats[k] + rests[k]
    song_end = LEAD + (cum - rests[-1]) * beat

    # pass 1: the words
    W = []
    for k in range(n):
        p, cal_hz = pick_p(table, hz[k])
        x = trim_silence(espeak(words[k], voice, singer.speed, p, env))
        x = (0.3 / np.max(np.abs(x)) * x).astype(np.float32)
        a, b = vowel_core(x)
        f_meas = median_f0(x[a:b], RATE, cal_hz * 2 ** (-4 / 12), cal_hz * 2 ** (4 / 12))
        if f_meas <= 0:
            f_meas = cal_hz
        # the onset consonants sound before the beat, inside the previous note (or the rest):
        # keep them to at most half the previous note (the lead-in for the first), cutting
        # their start
        room = LEAD if k == 0 else (beat_at[k] - beat_at[k - 1] - (rests[k - 1] * beat)) * 0.5
        if rests[k - 1] > 0 and k > 0:
            room = max(room, rests[k - 1] * beat)
        cut = max(0, a - int(room * RATE))
        if cut:
            x, a, b = x[cut:], a - cut, b - cut
            x[:int(0.005 * RATE)] *= half_sine_fade(int(0.005 * RATE), rising=True).astype(np.float32)
        W.append({"x": x, "a": a, "b": b, "p": p, "f": f_meas})

    # pass 2: the notes
    total = int(round((song_end + TAIL) * RATE))
    pieces, spans = [], []
    pos = 0
    for k in range(n):
        w = W[k]
        start = int(round((beat_at[k]) * RATE)) - w["a"]
        if k == n - 1:
            stop = int(round(song_end * RATE))
        elif rests[k] > 0:
            stop = int(round((beat_at[k] + beats[k] * beat) * RATE))
        else:
            stop = int(round(beat_at[k + 1] * RATE)) - W[k + 1]["a"]
        start = max(start, pos)
        ln = stop - start
        if ln < int(0.08 * RATE):
            raise RenderError(f"{utt['id']}/{singer.name}: note {k} too short ({ln} samples)")
        x, a, b, L = w["x"], w["a"], w["b"], len(w["x"])
        tail = min(L - b, int(TAIL_MAX * RATE))
        core = ln - a - tail
        xf = int(XF * RATE)
        xa = max(1, min(xf, a))
        parts = []
        onset = x[:a + xa].astype(np.float64)
        onset[a:] *= half_sine_fade(len(onset) - a, rising=False)
        parts.append((0, onset))
        if core >= int(0.04 * RATE):
            c = stretch(x, a, b, core, xf, env).astype(np.float64)
            c[:xa] *= half_sine_fade(xa, rising=True)
            c[-xf:] *= half_sine_fade(xf, rising=False)
            parts.append((a, c))
            if tail > 0:
                t = stretch(x, b, L, tail, 0, env).astype(np.float64)
                t[:min(xf, len(t))] *= half_sine_fade(min(xf, len(t)), rising=True)
                parts.append((a + core, t))
        else:
            c = stretch(x, a, L, ln - a, 0, env).astype(np.float64)
            c[:xa] *= half_sine_fade(xa, rising=True)
            parts.append((a, c))
        note = xfade_join(parts, ln + int(0.05 * RATE))[:ln]
        corr = 1200 * math.log2(hz[k] / w["f"])
        length = ln / RATE
        triples, segs = bend_plan(corr, length, a / RATE + 0.12, singer.vib_rate, singer.vib_cents)
        y = sox(note.astype(np.float32), ["bend", "-f", "80", "-o", "32", *triples], env)
        y = np.pad(y, (0, max(0, ln - len(y))))[:ln].astype(np.float64)
        fade_out = 0.15 if k == n - 1 else 0.012
        fi, fo = int(0.005 * RATE), int(fade_out * RATE)
        y[:fi] *= half_sine_fade(fi, rising=True)
        y[-fo:] *= half_sine_fade(fo, rising=False)
        pieces.append((start, y))
        spans.append((start, stop, w["f"], segs))
        pos = stop
    audio = xfade_join(pieces, total).astype(np.float32)
    if singer.eq:
        audio = sox(audio, list(singer.eq), env)[:total]
        audio = np.pad(audio, (0, total - len(audio)))
    audio = audio / max(np.max(np.abs(audio)), 1e-9) * 10 ** (-3 / 20)
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
    audio = pcm.astype(np.float32) / 32768.0

    # the F0 track
    frames = int(math.floor(total / RATE / HOP + 1e-9)) + 1
    times = np.arange(frames) * HOP
    f0 = np.zeros(frames)
    for start, stop, f_word, segs in spans:
        t0, t1 = start / RATE, stop / RATE
        m = (times >= t0) & (times < t1)
        f0[m] = f_word * 2.0 ** (cents_curve(segs, times[m] - t0) / 1200.0)
    voiced = periodic_at(audio, times, f0)
    return pcm, f0, voiced, {"notes": n, "duration": total / RATE}


def periodic_at(x, times, f0, min_nacf=0.5, range_db=35.0):
    """Frames periodic at their known F0: normalised autocorrelation at the (rounded) period over
    a 30 ms window >= min_nacf, and 30 ms RMS within range_db of the loudest frame."""
    win = int(0.03 * RATE)
    half = win // 2
    xp = np.pad(x.astype(np.float64), (half + 600, half + 600))
    rms = np.array([np.sqrt(np.mean(xp[int(t * RATE) + 600:int(t * RATE) + 600 + win] ** 2))
                    for t in times])
    floor = rms.max() * 10 ** (-range_db / 20)
    out = np.zeros(len(times), dtype=bool)
    for i, (t, f) in enumerate(zip(times, f0)):
        if f <= 0 or rms[i] < floor:
            continue
        T = int(round(RATE / f))
        c = int(t * RATE) + 600
        a = xp[c - half:c - half + win]
        b = xp[c - half + T:c - half + T + win]
        den = math.sqrt(float(np.dot(a, a) * np.dot(b, b))) + 1e-20
        out[i] = float(np.dot(a, b)) / den >= min_nacf
    return out
