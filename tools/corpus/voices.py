"""The corpus' singers: espeak-ng voice variants of our own, written into a private data overlay.

Every singer is US English (`en-us`) plus one variant file defined here. The variants start from
Debian espeak-ng's own variants (their formant tables are quoted below) and differ in formant
frequencies/heights/widths, synthesiser (espeak's wave generator or one of its Klatt modes),
breathiness, tone (bass/mid/treble gains) and consonant speed; a per-singer sox EQ and a
vibrato style (rate, depth) are applied when the notes are sung. All singers share one pitch
line, so every melody note is in reach of `-p` (calibrated per singer at start) and is then
corrected to the exact frequency by sox `bend`; flutter and roughness are 0, so the F0 between
corrections stays flat and the saved F0 track is exact.

Half the singers have female formant tables (f1-f5), half male ones (m1-m7); all sing the same
melodies at the same pitch (110-370 Hz with vibrato), so a speaker classifier cannot tell them
apart by pitch.
"""
from dataclasses import dataclass, field
from typing import Tuple

PITCH_LINE = "pitch 170 260"


@dataclass(frozen=True)
class Singer:
    name: str
    lines: Tuple[str, ...]          # espeak-ng variant lines after "name"
    speed: int = 170                # espeak-ng -s (words per minute): consonant durations
    eq: Tuple[str, ...] = ()        # sox effects applied to every note (timbre)
    vib_rate: float = 5.5           # vibrato rate, Hz
    vib_cents: float = 25.0         # vibrato depth, +- cents
    gender: str = "f"               # which formant family it starts from (documentation only)

    def variant_text(self):
        body = [f"name av_{self.name}", PITCH_LINE, "flutter 0", "roughness 0", "echo 0 0",
                *self.lines]
        return "language variant\n" + "\n".join(body) + "\n"


SINGERS = (
    Singer("amy", (  # f5's formants
        "formant 0 105 80 150", "formant 1 110 80 160", "formant 2 110 70 150",
        "formant 3 110 70 150", "formant 4 115 80 200", "formant 5 115 80 100",
        "formant 6 110 70 150", "formant 7 110 70 100", "formant 8 110 70 150"),
        speed=165, vib_rate=5.6, vib_cents=28),
    Singer("cora", (  # f3's formants, bright
        "formant 0 105 80 150", "formant 1 120 75 150 -50", "formant 2 135 70 150 -250",
        "formant 3 125 80 150", "formant 4 125 80 150", "formant 5 125 80 150",
        "formant 6 120 70 150", "formant 7 110 70 150", "formant 8 110 70 150",
        "tone 600 170 1200 100 2000 180"),
        speed=185, eq=("treble", "+4"), vib_rate=6.2, vib_cents=22),
    Singer("eve", (  # f4's formants through the Klatt synthesiser, breathy
        "klatt 3", "formant 0 120 80 150", "formant 1 115 80 160 -20",
        "formant 2 130 75 150 -200", "formant 3 123 75 150", "formant 4 125 80 150",
        "formant 5 125 80 150", "formant 6 110 80 150", "formant 7 110 75 150",
        "breath 0 4 5 2 3 13 3 2"),
        speed=155, vib_rate=5.0, vib_cents=32),
    Singer("hana", (  # f1's formants, dark
        "formant 0 115 80 150", "formant 1 120 80 180", "formant 2 100 70 150 150",
        "formant 3 115 70 150", "formant 4 110 80 150", "formant 5 110 90 150",
        "formant 6 105 80 150", "formant 7 110 70 150",
        "tone 600 230 1200 120 2000 60"),
        speed=175, eq=("bass", "+4", "treble", "-5"), vib_rate=5.3, vib_cents=20),
    Singer("jade", (  # f2's formants, Klatt, wide bandwidths
        "klatt 4", "formant 0 105 80 170", "formant 1 110 80 180", "formant 2 110 70 170",
        "formant 3 110 70 170", "formant 4 115 80 170", "formant 5 115 80 150",
        "formant 6 110 70 150", "formant 7 110 70 150", "formant 8 110 70 150"),
        speed=180, vib_rate=6.5, vib_cents=35),
    Singer("ben", (  # m3's formants
        "formant 0 100 100 100", "formant 1 96 97 100", "formant 2 96 97 100",
        "formant 3 96 103 100", "formant 4 95 103 100", "formant 5 95 103 100"),
        speed=170, vib_rate=5.4, vib_cents=26, gender="m"),
    Singer("dan", (  # m7's formants: narrow, low-voiced
        "formant 0 100 125 100", "formant 1 100 90 80", "formant 2 100 70 90",
        "formant 3 100 60 90", "formant 4 100 60 90", "formant 5 75 50 90",
        "formant 6 90 50 100", "voicing 155"),
        speed=160, vib_rate=5.8, vib_cents=30, gender="m"),
    Singer("finn", (  # m4's formants, bright and fast
        "formant 0 103 100 100", "formant 1 103 100 100", "formant 2 103 100 100",
        "formant 3 103 100 100", "formant 4 106 100 100", "formant 5 106 100 100",
        "formant 6 106 100 100"),
        speed=190, eq=("treble", "+5"), vib_rate=6.0, vib_cents=18, gender="m"),
    Singer("gus", (  # m2's formants (its echo removed), nasal-sounding
        "formant 0 100 80 120", "formant 1 90 85 120", "formant 2 110 85 120",
        "formant 3 105 90 120", "formant 4 100 90 120", "formant 5 100 90 120",
        "formant 6 100 90 120", "formant 7 100 90 120", "formant 8 100 90 120",
        "tone 600 200 1200 220 2000 120"),
        speed=165, eq=("equalizer", "1200", "1.5q", "+4"), vib_rate=5.2, vib_cents=24, gender="m"),
    Singer("ivan", (  # m6's formants, dark, wide upper formants
        "formant 0 100 90 120", "formant 1 100 90 140", "formant 2 100 70 140",
        "formant 3 100 75 140", "formant 4 100 80 140", "formant 5 100 80 140",
        "tone 600 240 1200 140 2000 70"),
        speed=175, eq=("bass", "+5", "treble", "-3"), vib_rate=5.7, vib_cents=34, gender="m"),
)


def by_name(names=None):
    if not names:
        return list(SINGERS)
    table = {s.name: s for s in SINGERS}
    missing = [n for n in names if n not in table]
    if missing:
        raise ValueError(f"unknown singer(s) {', '.join(missing)} (known: {', '.join(table)})")
    return [table[n] for n in names]
