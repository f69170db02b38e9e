"""Lyrics and melodies of the corpus, drawn from one seeded generator.

An utterance is a short phrase of 8-12 sung one-syllable words, one word per note, with an
occasional rest. Melodies walk a major or minor scale (mostly steps, some leaps) in a random key,
inside MIDI 47-65 (B2-F4, 123-349 Hz: an octave and a half); each phrase spans up to an octave
of that range. Tempo 0.36-0.52 s per beat; notes of 0.5-2 beats.

Held-out utterances come from a second random stream (seed + 1) and are checked to share neither
their word sequence nor their melody (pitch sequence) with any training utterance.
"""
import numpy as np

MIDI_LOW, MIDI_HIGH = 47, 65

WORDS = """
soft rain warm light lead me home through night sun moon star sky blue gold green red white
song sing ring bring long strong day way stay play say may grey clay sea see free tree be we
go so slow know glow show low snow road home stone bone hold cold old fold told gold bright
high fly sky my why try cry time line fine mine shine wine dream seem deep keep sleep sweep
heart part start far car are bar dark spark hear near dear clear here year fear one sun run
come some love dove above fire higher hour flower our wind find kind mind ground found sound
round down town crown now how wave gave save brave lake make wake take break rose close those
blow mountain sail tall call fall all small wall calm arm far wide ride side tide guide blue
true new through you moon soon noon tune room bloom
""".split()

SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
BEATS = (0.5, 1.0, 1.5, 2.0)
BEAT_P = (0.2, 0.4, 0.2, 0.2)


def _scale_notes(key, scale):
    steps = SCALES[scale]
    return [m for m in range(MIDI_LOW, MIDI_HIGH + 1) if (m - key) % 12 in steps]


def _melody(rng, n):
    key = int(rng.randint(12))
    scale = "major" if rng.rand() < 0.6 else "minor"
    notes = _scale_notes(key, scale)
    # a window of up to an octave (about 7-8 scale steps) somewhere in the range
    width = int(rng.randint(5, 9))
    lo = int(rng.randint(0, len(notes) - width))
    window = notes[lo:lo + width + 1]
    i = int(rng.randint(len(window)))
    out = []
    for _ in range(n):
        out.append(window[i])
        r = rng.rand()
        step = (rng.choice([-1, 1]) * (1 if r < 0.55 else 2 if r < 0.85 else int(rng.randint(3, 6))))
        i = int(np.clip(i + step, 0, len(window) - 1))
    return out, f"{scale} key {key}"


def make_utterance(rng, uid):
    n = int(rng.randint(8, 13))
    words = [str(w) for w in rng.choice(WORDS, size=n)]
    midi, scale = _melody(rng, n)
    beats = [float(b) for b in rng.choice(BEATS, size=n, p=BEAT_P)]
    beats[-1] = max(beats[-1], 1.5)            # phrases end on a long note
    rests = [0.0] * n                          # rest (beats) after each note
    for k in range(1, n - 1):
        if rng.rand() < 0.12:
            rests[k] = float(rng.choice([0.5, 1.0]))
    return {"id": uid, "words": words, "midi": midi, "beats": beats, "rests": rests,
            "beat_s": round(float(rng.uniform(0.36, 0.52)), 3), "scale": scale}


def make_utterances(seed, n_train, n_test):
    """Training and held-out utterances; deterministic in (seed, n_train, n_test)."""
    rng = np.random.RandomState(seed)
    train = [make_utterance(rng, f"tr{i:03d}") for i in range(n_train)]
    rng_test = np.random.RandomState(seed + 1)
    seen_words = {tuple(u["words"]) for u in train}
    seen_melodies = {tuple(u["midi"]) for u in train}
    test = []
    while len(test) < n_test:
        u = make_utterance(rng_test, f"te{len(test):03d}")
        if tuple(u["words"]) in seen_words or tuple(u["midi"]) in seen_melodies:
            continue
        test.append(u)
    return train, test


def midi_hz(m):
    return 440.0 * 2.0 ** ((m - 69) / 12.0)
