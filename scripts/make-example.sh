#!/usr/bin/env bash
# Makes the bundled example input, examples/example-sung.wav: a short sung
# melody with lyrics (about 7 s), built from espeak-ng (the voice) and sox
# (timing, pitch correction, vibrato) only.  See examples/README.md.
#
#   scripts/make-example.sh [OUT.wav]     default: examples/example-sung.wav
#
# Also writes the intended notes next to OUT, as OUT minus .wav plus
# .notes.csv: onset_s,duration_s,freq_hz,note,syllable,vowel_onset_s, where
# [onset_s, onset_s + duration_s) is the span of the file the syllable fills
# (onset consonants first) and vowel_onset_s is its beat, where the vowel
# starts.  The times are those of the rendered file, to the sample.
#
# How each note is made:
#   1. espeak-ng says the word alone with a flat pitch (SSML prosody range 0%)
#      at the -p value whose measured F0 (table CAL below) is nearest the note.
#   2. sox finds the word's vowel core (where its 20 ms RMS is within 4 dB of
#      the loudest), keeps the onset consonants at their spoken length,
#      squeezes the vowel decay and final consonants to at most TAIL_MAX, and
#      stretches the core with WSOLA (`tempo`) to fill the rest of the note;
#      the pieces are joined with 15 ms crossfades.  The onset consonants go
#      before the beat, so each vowel starts on its beat, as a singer does.
#   3. sox `bend` removes the remaining pitch error (at most ~15 cents, the
#      step of espeak-ng's -p) and, on notes of 0.5 s or longer, adds a sine
#      vibrato (5.5 Hz, +-25 cents) that fades in after the vowel starts.
#   4. The notes and rests are joined, normalised to -3 dBFS and written as
#      mono 16-bit PCM at 22050 Hz, without dither.
# The result is deterministic: the same espeak-ng and sox give the same bytes
# (the committed file was made with Debian's espeak-ng 1.51 and sox 14.4.2).
# Set MAKE_EXAMPLE_KEEP_TMP=1 to keep the intermediate files.
set -euo pipefail
export LC_ALL=C

die() { echo "make-example: $*" >&2; exit 1; }
for tool in espeak-ng sox awk; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "'$tool' not found; install it (Debian: sudo apt-get install espeak-ng sox, or scripts/install-deps.sh)"
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/examples/example-sung.wav}
case "$out" in *.wav) ;; *) die "OUT must end in .wav: $out" ;; esac
csv=${out%.wav}.notes.csv

# ---- the song -------------------------------------------------------------
VOICE=en-us+f5      # espeak-ng voice: US English, female variant 5
SPEED=175           # espeak-ng words per minute, for the consonants
RATE=22050          # sample rate of espeak-ng and of the output
BEAT=0.54           # seconds per quarter note (about 111 bpm)
LEAD=0.30           # time of the first beat, seconds (its consonants come before)
TAIL=0.25           # silence after the last note, seconds
VIB_HZ=5.5          # vibrato rate
VIB_CENTS=25        # vibrato depth, +- cents
VIB_MIN=0.5         # notes at least this long get vibrato, seconds
TAIL_MAX=0.12       # longest vowel decay + final consonants kept, seconds
XF=0.015            # crossfade between the pieces of a note, seconds

# word  note  beats   (word "-" is a rest).  Original lyric:
#   "Soft rain and warm light, / lead me home through the night"
# D major, an octave from D3 to D4: up the D major arpeggio, down the scale.
SONG='
soft    D3  1
rain    F#3 1
and     A3  0.5
warm    D4  1.5
light   A3  1.5
-       -   0.5
lead    B3  1
me      A3  0.5
home    G3  1.5
through F#3 0.5
the     E3  0.5
night   D3  2
'

# Median F0 (Hz) of a flat-pitched vowel from `espeak-ng -v en-us+f5 -p P`
# with SSML <prosody range="0%">, P = 0..99, measured with espeak-ng 1.51
# (Debian) by autocorrelation.  Used to pick P and the residual correction.
CAL='
108.0 109.2 110.3 111.5 112.7 113.9 115.1 116.2 117.4 118.6
119.8 121.0 122.1 123.3 124.5 125.7 126.8 128.0 129.2 130.4
131.5 133.9 135.1 136.2 137.5 139.8 141.0 142.2 143.4 145.7
146.9 148.1 150.4 151.6 154.0 155.2 156.4 158.7 159.9 162.2
163.4 165.8 168.2 169.3 171.7 172.8 175.2 177.6 178.7 181.1
183.5 185.8 188.2 189.3 191.7 194.1 196.4 198.8 201.2 203.5
205.8 208.2 210.6 213.0 215.3 218.8 221.2 223.5 225.9 229.5
231.8 234.2 237.7 240.0 243.6 245.9 249.5 251.9 255.5 257.8
261.3 264.9 267.3 270.8 274.4 277.9 281.4 285.0 288.5 291.9
295.4 299.0 302.6 306.2 311.0 314.5 317.9 322.4 326.0 329.7
'

# Other versions work, but give other bytes (and, for espeak-ng, maybe a
# pitch table that is off: the bend then corrects only part of the error).
espeak_version=$(espeak-ng --version 2>/dev/null | sed -n 's/.*text-to-speech: *\([0-9][0-9.]*\).*/\1/p')
sox_version=$(sox --version 2>/dev/null | sed -n 's/.*SoX v*\([0-9][0-9.]*\).*/\1/p')
[ "$espeak_version" = 1.51 ] && [ "$sox_version" = 14.4.2 ] ||
  echo "make-example: warning: espeak-ng '$espeak_version' / sox '$sox_version' are not 1.51 / 14.4.2, which made the committed file; the output will differ from it" >&2

# ---- helpers --------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/make-example.XXXXXX")
if [ -n "${MAKE_EXAMPLE_KEEP_TMP:-}" ]; then
  echo "make-example: keeping $tmp" >&2
else
  trap 'rm -rf "$tmp"' EXIT
fi

# All intermediates are 32-bit float WAV; -D: never dither; -V1: errors only.
SOX=(sox -D -V1)
F32=(-e floating-point -b 32)
dur() { sox --i -D "$1"; }          # length in seconds
samples() { sox --i -s "$1"; }      # length in samples
calc() { awk "BEGIN { $1 }"; }      # calc 'printf "%.6f", 1/3'

# note name (C4 = middle C, A4 = 440 Hz) -> frequency in Hz
note_hz() {
  awk -v n="$1" 'BEGIN {
    split("C C# D D# E F F# G G# A A# B", names, " ")
    name = substr(n, 1, length(n) - 1); oct = substr(n, length(n)) + 0
    for (i = 1; i <= 12; i++) if (names[i] == name) semi = i - 1
    midi = 12 * (oct + 1) + semi
    printf "%.3f", 440 * exp(log(2) * (midi - 69) / 12)
  }'
}

# frequency -> "P cents": the nearest espeak-ng -p and the correction left
pick_pitch() {
  printf '%s\n' "$CAL" | awk -v f="$1" '
    { for (i = 1; i <= NF; i++) cal[n++] = $i }
    END {
      best = -1
      for (p = 0; p < n; p++) {
        c = 1200 * log(f / cal[p]) / log(2); a = c < 0 ? -c : c
        if (best < 0 || a < besta) { best = p; besta = a; bestc = c }
      }
      printf "%d %.2f", best, bestc
    }'
}

# bend arguments: correction over the first 10 ms, then a sine vibrato from
# vib_start to note_end - 0.06 s, depth faded in over 0.15 s and out at the end
bend_args() {  # corr_cents note_len vib_start
  awk -v corr="$1" -v len="$2" -v vs="$3" -v rate="$VIB_HZ" -v depth="$VIB_CENTS" -v minlen="$VIB_MIN" '
    # sox rejects a bend of 0 cents: skip those, keeping the time they cover
    function bend(gap, cents, span) {
      if (cents > -0.0005 && cents < 0.0005) { pending += gap + span; return }
      printf "%s%.4f,%.3f,%.4f", (nb++ ? " " : ""), pending + gap, cents, span
      pending = 0
    }
    BEGIN {
      bend(0, corr, 0.010)
      ve = len - 0.06
      if (len + 1e-9 < minlen || ve - vs < 0.2) ve = -1   # no vibrato
      step = 1 / (rate * 8)                    # 8 bends per vibrato cycle
      pi = atan2(0, -1); t = vs; prev = 0; gap = vs - 0.010
      while (t + step <= ve + 1e-9) {
        t2 = t + step
        env = (t2 - vs) / 0.15; if (env > 1) env = 1
        tail = (ve - t2) / 0.10; if (tail < env) env = tail; if (env < 0) env = 0
        cur = depth * env * sin(2 * pi * rate * (t2 - vs))
        bend(gap, cur - prev, step)
        prev = cur; gap = 0; t = t2
      }
      bend(0, -prev, 0.010)
      if (nb == 0) printf "0,0.001,0.010"      # sox needs at least one bend
    }'
}

# stretch IN.wav's span [from, to) to `target` seconds with WSOLA (sox tempo)
# and write OUT.wav, plus `more` seconds of what follows the span (stretched
# alike) for a crossfade.  tempo fades out over its last ~30 ms, so up to
# 0.05 s more is stretched along and cut off; tempo takes factors 0.1..100,
# so large stretches are done in equal steps of at least 0.25.
stretch() {  # IN from to target more OUT
  local f extra
  f=$(calc "print ($3 - $2) / $4")
  extra=$(calc "e = $(dur "$1") - $3; if (e > $5 * $f + 0.05) e = $5 * $f + 0.05; print e")
  read -r -a tempos < <(awk -v f="$f" 'BEGIN {
    k = 1; while (f ^ (1 / k) < 0.25) k++
    for (j = 0; j < k; j++) printf "tempo %.6f 30 10 8 ", f ^ (1 / k) }'; echo)
  "${SOX[@]}" "$1" "${F32[@]}" "$6" trim "$2" "=$(calc "print $3 + $extra")" "${tempos[@]}" \
    pad 0 0.05 trim 0 "$(calc "print $4 + $5")"
}

# ---- pass 1: say every word, find its vowel ------------------------------
# Per sung note k (rests excluded from these arrays):
#   W[k] word  NOTE[k]  HZ[k]  P[k] espeak-ng -p  CORR[k] cents left
#   BEAT_AT[k] the beat (seconds) its vowel starts on, BEATS[k] its length
#   L[k] word length, A[k] vowel-core start, B[k] core end (seconds in word)
W=(); NOTE=(); HZ=(); P=(); CORR=(); BEAT_AT=(); BEATS=(); L=(); A=(); B=()
cum=0                                     # beats since the first note
rest_after=()                             # 1 when a rest follows note k
k=0
while read -r word note beats; do
  [ -n "${word:-}" ] || continue
  if [ "$word" = "-" ]; then
    [ $k -gt 0 ] && rest_after[k-1]=1
    cum=$(calc "print $cum + $beats"); continue
  fi
  id=$(printf '%02d' $((k + 1)))
  W[k]=$word; NOTE[k]=$note; HZ[k]=$(note_hz "$note"); rest_after[k]=0
  BEAT_AT[k]=$(calc "printf \"%.6f\", $LEAD + $cum * $BEAT"); BEATS[k]=$beats
  cum=$(calc "print $cum + $beats")
  read -r pp cc < <(pick_pitch "${HZ[k]}"; echo)
  P[k]=$pp; CORR[k]=$cc

  # the word alone, flat pitch, leading/trailing silence trimmed, peak -10 dBFS
  # (sox works in 32-bit integers: leave headroom for the later effects)
  printf '<speak><prosody range="0%%">%s</prosody></speak>\n' "$word" > "$tmp/$id.xml"
  espeak-ng -v "$VOICE" -s $SPEED -p "${P[k]}" -m -f "$tmp/$id.xml" -w "$tmp/$id-say.wav"
  "${SOX[@]}" "$tmp/$id-say.wav" "${F32[@]}" "$tmp/$id-word.wav" \
    silence 1 0.003 -50d reverse silence 1 0.003 -50d reverse norm -10
  L[k]=$(dur "$tmp/$id-word.wav")

  # vowel core [A, B): where the 20 ms RMS is within 4 dB of its maximum
  pk=$(sox "$tmp/$id-word.wav" -n stats -w 0.02 2>&1 | awk '/RMS Pk dB/ {print $4}')
  th=$(calc "printf \"%.2f\", $pk - 4")
  "${SOX[@]}" "$tmp/$id-word.wav" "$tmp/$id-x.wav" silence 1 0.02 "${th}d"
  "${SOX[@]}" "$tmp/$id-word.wav" "$tmp/$id-y.wav" reverse silence 1 0.02 "${th}d"
  A[k]=$(calc "printf \"%.6f\", ${L[k]} - $(dur "$tmp/$id-x.wav")")
  B[k]=$(dur "$tmp/$id-y.wav")
  k=$((k + 1))
done <<< "$SONG"
notes=$k
song_end=$(calc "printf \"%.6f\", $LEAD + $cum * $BEAT")

# ---- pass 2: build the notes ----------------------------------------------
# Like a singer, put each vowel on its beat: the word's onset consonants come
# before the beat, at the end of the previous note (or in the rest).  Note k
# thus sounds from BEAT_AT[k] - A[k] until the next note's consonants begin
# (or its beats end, before a rest or at the end of the song).  Boundaries are
# rounded to samples once, so the notes and gaps tile the file exactly.
at() { calc "printf \"%d\", $1 * $RATE + 0.5"; }     # seconds -> sample index
printf 'onset_s,duration_s,freq_hz,note,syllable,vowel_onset_s\n' > "$tmp/notes.csv"
parts=()
pos=0                                     # samples written so far
for ((k = 0; k < notes; k++)); do
  id=$(printf '%02d' $((k + 1)))
  start=$(at "$(calc "print ${BEAT_AT[k]} - ${A[k]}")")
  if [ $k -eq $((notes - 1)) ]; then
    stop=$(at "$song_end")
  elif [ "${rest_after[k]}" = 1 ]; then   # the note ends with its beats
    stop=$(at "$(calc "print ${BEAT_AT[k]} + ${BEATS[k]} * $BEAT")")
  else
    stop=$(at "$(calc "print ${BEAT_AT[k+1]} - ${A[k+1]}")")
  fi
  [ "$start" -ge "$pos" ] || die "note $id starts before the previous one ends; increase LEAD or the beat"
  if [ "$start" -gt "$pos" ]; then        # silence (lead-in or rest)
    "${SOX[@]}" -r $RATE -c 1 -n "${F32[@]}" "$tmp/$id-gap.wav" trim 0 "$((start - pos))s"
    parts+=("$tmp/$id-gap.wav")
  fi
  n=$((stop - start)); len=$(calc "printf \"%.6f\", $n / $RATE")
  a=${A[k]}; b=${B[k]}; Lw=${L[k]}

  # Fit onset + core + tail into the note: the onset keeps its spoken length,
  # the tail (vowel decay and final consonants) is squeezed to at most
  # TAIL_MAX s, and the core is stretched to fill the rest.  If the note is
  # too short even for that, everything after the onset is squeezed instead.
  read -r c_to c_len t_len < <(awk -v L="$Lw" -v a="$a" -v b="$b" -v len="$len" -v tm="$TAIL_MAX" 'BEGIN {
    tail = L - b; if (tail > tm) tail = tm
    core = len - a - tail
    if (core >= 0.04) printf "%.6f %.6f %.6f", b, core, tail
    else              printf "%.6f %.6f 0", L, len - a }'; echo)

  # Overlap the three pieces by XF s and crossfade them (the audio on both
  # sides of each join is the same stretch of the word), make the note
  # exactly n samples, correct its pitch, add vibrato, fade its ends.
  xa=$(calc "x = $XF; if (x > $a) x = $a; if (x < 0.001) x = 0.001; print x")
  "${SOX[@]}" "$tmp/$id-word.wav" "$tmp/$id-on.wav" trim 0 "$(calc "print $a + $xa")" fade h 0 -0 "$xa"
  stretch "$tmp/$id-word.wav" "$a" "$c_to" "$c_len" "$XF" "$tmp/$id-c.wav"
  "${SOX[@]}" "$tmp/$id-c.wav" "$tmp/$id-core.wav" fade h "$xa" -0 "$XF" pad "$a"
  if calc "exit !($t_len > 0)"; then
    stretch "$tmp/$id-word.wav" "$c_to" "$Lw" "$t_len" 0 "$tmp/$id-t.wav"
    "${SOX[@]}" "$tmp/$id-t.wav" "$tmp/$id-off.wav" fade h "$XF" pad "$(calc "print $a + $c_len")"
  else
    "${SOX[@]}" -r $RATE -c 1 -n "${F32[@]}" "$tmp/$id-off.wav" trim 0 1s
  fi
  fade_out=0.012; [ $k -eq $((notes - 1)) ] && fade_out=0.15
  read -r -a bends < <(bend_args "${CORR[k]}" "$len" "$(calc "print $a + 0.12")"; echo)
  "${SOX[@]}" -m -v 1 "$tmp/$id-on.wav" -v 1 "$tmp/$id-core.wav" -v 1 "$tmp/$id-off.wav" \
    "${F32[@]}" "$tmp/$id.wav" \
    pad 0 0.05 trim 0 "${n}s" bend -f 80 -o 32 "${bends[@]}" fade h 0.005 -0 "$fade_out"
  [ "$(samples "$tmp/$id.wav")" -eq "$n" ] || die "note $id: length $(samples "$tmp/$id.wav") != $n samples"
  parts+=("$tmp/$id.wav")

  printf '%.4f,%.4f,%.3f,%s,%s,%.4f\n' "$(calc "print $start / $RATE")" "$len" "${HZ[k]}" \
    "${NOTE[k]}" "${W[k]}" "$(calc "print $start / $RATE + $a")" >> "$tmp/notes.csv"
  pos=$stop
done

"${SOX[@]}" -r $RATE -c 1 -n "${F32[@]}" "$tmp/tail.wav" trim 0 "$(at "$TAIL")s"
parts+=("$tmp/tail.wav")

# ---- join, normalise, write -----------------------------------------------
mkdir -p "$(dirname "$out")"
"${SOX[@]}" "${parts[@]}" -r $RATE -c 1 -e signed-integer -b 16 "$tmp/out.wav" norm -3
mv -f "$tmp/out.wav" "$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
cp "$tmp/notes.csv" "$csv.tmp.$$" && mv -f "$csv.tmp.$$" "$csv"
echo "make-example: wrote $out ($(dur "$out") s) and $csv"
