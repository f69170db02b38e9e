#!/usr/bin/env bash
# `autovoice build` end to end, with the fixture model package (random weights): plans of one
# model and of a package, their profiles from --shape and from the configuration files, run /
# inspect / convert on plans, and the refusals. Runs from the repository root, where
# config/model_config.yaml is the default configuration.
# usage: test_build.sh AUTOVOICE_BINARY REPO_ROOT MODEL_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 model=$3 tmp=$4
cd "$root" || exit 1
rm -rf "$tmp" && mkdir -p "$tmp"
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }
ref=$root/tests/fixtures/reference/vocoder
ex=$root/examples/example-sung.wav

"$bin" build --help >"$tmp/o" 2>"$tmp/e"
check "--help: usage, examples, exit status" "[ $? -eq 0 ] && grep -q '^usage: autovoice build MODEL.onnx' $tmp/o && grep -q '^examples:' $tmp/o && grep -q '^exit status:' $tmp/o && [ ! -s $tmp/e ]"
"$bin" --help >"$tmp/o"
check "listed in autovoice --help" "grep -q '^  build MODEL.onnx' $tmp/o"

# one model: profiles from config/model_config.yaml (the file is named after a component)
"$bin" build "$model/vocoder.onnx" -o "$tmp/v.plan" >"$tmp/o" 2>"$tmp/e"
check "build a component: one line, the config's profile" "[ $? -eq 0 ] && [ \$(wc -l <$tmp/o) -eq 1 ] && grep -q \"^$model/vocoder.onnx -> $tmp/v.plan: fp32 for cpu x86-64, [0-9]* nodes, [0-9.]* MB of weights, 1 profile (mel_input 1x80x1/1x80x862/1x80x3968); built in [0-9.]* s$\" $tmp/o && [ ! -s $tmp/e ]"
check "written through a temporary file" "[ -s $tmp/v.plan ] && [ ! -e $tmp/v.plan.tmp ]"
mkdir -p "$tmp/o_onnx" "$tmp/o_plan"
"$bin" run "$model/vocoder.onnx" --input "mel_input=$ref/1s/mel_input.npy" --output-dir "$tmp/o_onnx" --threads 2 >/dev/null 2>&1
"$bin" run "$tmp/v.plan" --input "mel_input=$ref/1s/mel_input.npy" --output-dir "$tmp/o_plan" --threads 2 >"$tmp/o" 2>"$tmp/e"
check "run takes the plan: the same output bytes" "[ $? -eq 0 ] && cmp -s $tmp/o_onnx/audio_output.npy $tmp/o_plan/audio_output.npy"
"$bin" build "$model/vocoder.onnx" -o "$tmp/v43.plan" --shape mel_input:1x80x43/1x80x862/1x80x2584 >/dev/null 2>&1
"$bin" run "$tmp/v43.plan" --input "mel_input=$ref/t5/mel_input.npy" --output-dir "$tmp/o_plan" >"$tmp/o" 2>"$tmp/e"
check "a shape outside the profile: exit 1, input, shape and range named" "[ $? -eq 1 ] && grep -q \"input 'mel_input': shape \[1, 80, 5\] is outside the plan's profile, min \[1, 80, 43\] to max \[1, 80, 2584\]\" $tmp/e"
"$bin" inspect "$tmp/v.plan" >"$tmp/o" 2>"$tmp/e"
check "inspect shows the plan: format, builder, target, precision, source, profile" "[ $? -eq 0 ] && grep -q '^plan file: format 1, built by autovoice .* for cpu x86-64 (needs CPU features: none; built on: ' $tmp/o && grep -q '^  precision fp32 ([0-9]* nodes fp32)' $tmp/o && grep -q \"^  built from $model/vocoder.onnx (8[0-9]* bytes, xxh64 [0-9a-f]*) as component vocoder\" $tmp/o && grep -Eq '^    mel_input +min 1x80x1, opt 1x80x862, max 1x80x3968$' $tmp/o"

# --shape replaces the configuration's profile; --component for a file of another name
cp "$model/vocoder.onnx" "$tmp/voc.onnx"
"$bin" build "$tmp/voc.onnx" --shape mel_input:1x80x5/1x80x50/1x80x100 >"$tmp/o" 2>"$tmp/e"
check "--shape; -o defaults to MODEL.plan" "[ $? -eq 0 ] && [ -s $tmp/voc.plan ] && grep -q '1 profile (mel_input 1x80x5/1x80x50/1x80x100)' $tmp/o"
"$bin" build "$tmp/voc.onnx" -o "$tmp/noprof.plan" >"$tmp/o" 2>"$tmp/e"
check "a model not named after a component: no profile" "[ $? -eq 0 ] && grep -q ', 0 profiles; built in' $tmp/o"
"$bin" build "$tmp/voc.onnx" -o "$tmp/comp.plan" --component vocoder >"$tmp/o" 2>"$tmp/e"
check "--component takes the configuration's profile" "[ $? -eq 0 ] && grep -q '1 profile (mel_input 1x80x1/1x80x862/1x80x3968)' $tmp/o"
"$bin" run "$tmp/noprof.plan" --input "mel_input=$ref/t5/mel_input.npy" --output-dir "$tmp/o_plan" >/dev/null 2>&1
check "no profile: any length runs" "[ $? -eq 0 ]"

# fp32 tactics per layer with a timing cache (oneDNN fp32 runs on any x86-64)
shape=mel_input:1x80x20/1x80x87/1x80x300
"$bin" build "$model/vocoder.onnx" -o "$tmp/tac.plan" --tactics --timing-cache "$tmp/v.timing" --shape $shape --threads 2 >"$tmp/o" 2>"$tmp/e"
check "--tactics: every layer timed both ways, the cache made" "[ $? -eq 0 ] && [ ! -s $tmp/e ] && grep -q \"^  timing cache $tmp/v.timing: not there yet, made by this build$\" $tmp/o && grep -Eq '^    /vocoder/conv_pre/Conv +Conv 80->[0-9]+ k7 +SGEMM +[0-9.]+ ms +[0-9.]+ MB, oneDNN +[0-9.]+ ms +[0-9.]+ MB: (oneDNN|SGEMM)$' $tmp/o && grep -Eq '^  tactics: ([0-9]+) convolutions, [0-9]+ oneDNN, [0-9]+ im2col \+ SGEMM; [1-9][0-9]* timed, 0 from the timing cache, [0-9]+ the same as a layer above; ' $tmp/o && grep -q \"^  timing cache $tmp/v.timing: 0 of [0-9]* layers reused; written with [0-9]* layers$\" $tmp/o && grep -q 'fp32 for cpu x86-64' $tmp/o"
check "the timing cache: versioned header, one line per layer signature" "sed -n 1p $tmp/v.timing | grep -qx 'autovoice-timing-cache 1' && sed -n 2p $tmp/v.timing | grep -q '^library ' && sed -n 3p $tmp/v.timing | grep -q '^onednn [0-9]*\.[0-9]*\.[0-9]*$' && sed -n 4p $tmp/v.timing | grep -q '^cpu [0-9a-f]\{16\} ' && grep -Eq '^layer Conv:n1:c80:o[0-9]+:g1:in87:k7:s1:d1:pb3:pe3:out87:b1:fp32:t2 gemm [0-9]+ [0-9]+ onednn [0-9]+ [0-9]+$' $tmp/v.timing"
n_layers=$(sed -n 's/^  tactics: \([0-9]*\) convolutions.*/\1/p' "$tmp/o")
grep -E '^    /' "$tmp/o" | sed 's/ .*: \(oneDNN\|SGEMM\).*/ \1/' >"$tmp/choice1"
cp "$tmp/v.timing" "$tmp/v1.timing"
"$bin" build "$model/vocoder.onnx" -o "$tmp/tac2.plan" --tactics --timing-cache "$tmp/v.timing" --shape $shape --threads 2 >"$tmp/o" 2>"$tmp/e"
grep -E '^    /' "$tmp/o" | sed 's/ .*: \(oneDNN\|SGEMM\).*/ \1/' >"$tmp/choice2"
check "--timing-cache again: all $n_layers timings reused, none timed, the same choices and plan bytes" "[ $? -eq 0 ] && grep -q \"; 0 timed, $n_layers from the timing cache, 0 the same\" $tmp/o && grep -q \"^  timing cache $tmp/v.timing: $n_layers of $n_layers layers reused, nothing new to write$\" $tmp/o && cmp -s $tmp/choice1 $tmp/choice2 && cmp -s $tmp/tac.plan $tmp/tac2.plan && cmp -s $tmp/v.timing $tmp/v1.timing"
sed 's/^library .*/library 0.0.9/' "$tmp/v1.timing" >"$tmp/stale.timing"
"$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --tactics --timing-cache "$tmp/stale.timing" --shape $shape --threads 2 >"$tmp/o" 2>"$tmp/e"
check "a timing cache of another library version: ignored with a note, timed again, replaced" "[ $? -eq 0 ] && grep -q \"^  timing cache $tmp/stale.timing ignored (measured with autovoice 0.0.9; this is autovoice \" $tmp/o && grep -q '; [1-9][0-9]* timed, 0 from the timing cache' $tmp/o && [ \"\$(sed -n 2p $tmp/stale.timing)\" = \"\$(sed -n 2p $tmp/v1.timing)\" ]"
sed 's/^cpu \([0-9a-f]*\) .*/cpu \1 Some Other CPU/' "$tmp/v1.timing" >"$tmp/other.timing"
"$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --tactics --timing-cache "$tmp/other.timing" --shape $shape --threads 2 >"$tmp/o" 2>"$tmp/e"
check "a timing cache of another CPU: ignored with a note" "[ $? -eq 0 ] && grep -q 'ignored (measured on another CPU (Some Other CPU))' $tmp/o"
rm -f "$tmp/x.plan"
sed '5s/ gemm / gemn /' "$tmp/v1.timing" >"$tmp/bad.timing"
"$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --tactics --timing-cache "$tmp/bad.timing" --shape $shape --threads 2 >"$tmp/o" 2>"$tmp/e"
check "a corrupt timing cache: exit 1, file:line named, nothing written" "[ $? -eq 1 ] && grep -q \"$tmp/bad.timing:5: malformed line 'layer \" $tmp/e && grep -q 'give another --timing-cache' $tmp/e && [ ! -e $tmp/x.plan ] && sed -n 5p $tmp/bad.timing | grep -q gemn"
"$bin" build "$model/vocoder.onnx" -o "$tmp/ws.plan" --onednn --workspace 300k --shape $shape --threads 2 >"$tmp/o" 2>"$tmp/e"
check "--onednn --workspace: layers whose oneDNN scratch exceeds it keep SGEMM, said" "[ $? -eq 0 ] && grep -q '^  fp32 convolutions through oneDNN (not timed): [0-9]* of [0-9]*' $tmp/o && grep -q '^  workspace: at most 307200 bytes of scratch per layer (--workspace); ' $tmp/o"
"$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --timing-cache "$tmp/v.timing" >"$tmp/o" 2>"$tmp/e"
check "--timing-cache without --tactics: usage error" "[ $? -eq 2 ] && grep -q -- '--timing-cache goes with --tactics' $tmp/e"
"$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --workspace 64M >"$tmp/o" 2>"$tmp/e"
check "--workspace without --tactics/--onednn: usage error" "[ $? -eq 2 ] && grep -q -- '--workspace bounds the fp32 tactic choice' $tmp/e"
"$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --tactics --workspace 12X >"$tmp/o" 2>"$tmp/e"
check "a bad --workspace: usage error" "[ $? -eq 2 ] && grep -q \"bad --workspace '12X'\" $tmp/e"

# refusals
"$bin" build "$tmp/voc.onnx" -o "$tmp/x.plan" --precision fp16 >"$tmp/o" 2>"$tmp/e"
check "--precision fp16: not on the CPU, exit 1, nothing written" "[ $? -eq 1 ] && grep -q 'fp16 is not implemented on the CPU' $tmp/e && [ ! -e $tmp/x.plan ] && [ ! -s $tmp/o ]"
"$bin" build "$tmp/voc.onnx" -o "$tmp/x.plan" --precision bf16 --tactics >"$tmp/o" 2>"$tmp/e"
check "--tactics is for fp32: usage error" "[ $? -eq 2 ] && grep -q -- '--tactics and --onednn are for fp32' $tmp/e"
"$bin" build "$tmp/voc.onnx" -o "$tmp/x.plan" --calib-method median >"$tmp/o" 2>"$tmp/e"
check "unknown --calib-method: usage error" "[ $? -eq 2 ] && grep -q \"unknown --calib-method 'median'\" $tmp/e"
"$bin" build "$tmp/voc.onnx" -o "$tmp/x.plan" --precision fp64 >"$tmp/o" 2>"$tmp/e"
check "unknown precision: usage error" "[ $? -eq 2 ] && grep -q \"unknown --precision 'fp64'\" $tmp/e"
"$bin" build "$tmp/voc.onnx" -o "$tmp/x.plan" --shape mel_input:1x80x5/1x80x50 >"$tmp/o" 2>"$tmp/e"
check "malformed --shape: usage error" "[ $? -eq 2 ] && grep -q 'want NAME:MIN/OPT/MAX' $tmp/e"
"$bin" build "$tmp/voc.onnx" -o "$tmp/x.plan" --shape mel_input:1x64x5/1x64x50/1x64x100 >"$tmp/o" 2>"$tmp/e"
check "a profile against a fixed dimension: exit 1" "[ $? -eq 1 ] && grep -q 'the model fixes dimension 1 at 80' $tmp/e && [ ! -e $tmp/x.plan ]"
"$bin" build "$tmp/voc.onnx" -o "$tmp/x.plan" --shape mel:1x80x5/1x80x50/1x80x100 >"$tmp/o" 2>"$tmp/e"
check "a profile for no input: the inputs listed" "[ $? -eq 1 ] && grep -q \"profile for 'mel' (given): the model has no such input (inputs: mel_input)\" $tmp/e"
"$bin" build "$tmp/voc.onnx" -o "$tmp/x.plan" --config config/model_config.yaml >"$tmp/o" 2>"$tmp/e"
check "--config without a component: usage error" "[ $? -eq 2 ] && grep -q -- '--config needs --component' $tmp/e"
"$bin" build "$tmp/missing.onnx" >"$tmp/o" 2>"$tmp/e"
check "a missing model: exit 1" "[ $? -eq 1 ] && grep -q 'missing.onnx' $tmp/e"
"$bin" build "$tmp/v.plan" -o "$tmp/x.plan" >"$tmp/o" 2>"$tmp/e"
check "a plan is not a source" "[ $? -eq 1 ] && grep -q 'is a plan already' $tmp/e"
"$bin" build "$tmp/voc.onnx" -o "$tmp/voc.onnx" >"$tmp/o" 2>"$tmp/e"
check "the output may not be the source" "[ $? -eq 1 ] && grep -q 'is the source model itself' $tmp/e && cmp -s $tmp/voc.onnx $model/vocoder.onnx"
"$bin" build >"$tmp/o" 2>"$tmp/e"
check "nothing to build: usage error" "[ $? -eq 2 ] && grep -q '^usage: autovoice build' $tmp/e"
"$bin" build "$tmp/voc.onnx" --package "$model" >"$tmp/o" 2>"$tmp/e"
check "a model and --package: usage error" "[ $? -eq 2 ]"
head -c 5000 "$tmp/v.plan" >"$tmp/cut.plan"
"$bin" run "$tmp/cut.plan" --input "mel_input=$ref/1s/mel_input.npy" >"$tmp/o" 2>"$tmp/e"
check "a truncated plan: exit 1, truncated, how to rebuild" "[ $? -eq 1 ] && grep -q 'cut.plan: truncated plan (5000 of [0-9]* bytes); rebuild it with .autovoice build' $tmp/e"
cp "$tmp/v.plan" "$tmp/flip.plan"
printf '\x01' | dd of="$tmp/flip.plan" bs=1 seek=300000 conv=notrunc 2>/dev/null
"$bin" inspect "$tmp/flip.plan" >"$tmp/o" 2>"$tmp/e"
check "a damaged plan: exit 1, checksum" "[ $? -eq 1 ] && grep -q 'flip.plan: corrupt plan (checksum ' $tmp/e"
printf 'not a plan' >"$tmp/text.plan"
"$bin" inspect "$tmp/text.plan" >"$tmp/o" 2>"$tmp/e"
check "a .plan that is no plan: wrong magic" "[ $? -eq 1 ] && grep -q 'text.plan: not an autovoice plan (wrong magic)' $tmp/e"

# a package: every component, profiles from config/model_config.yaml (model.yaml has none)
mkdir -p "$tmp/pkg"
cp "$model"/* "$tmp/pkg/"
"$bin" build --package "$tmp/pkg" >"$tmp/o" 2>"$tmp/e"
check "--package builds every component" "[ $? -eq 0 ] && grep -q \"^$tmp/pkg: profiles from config/model_config.yaml$\" $tmp/o && grep -q \"^$tmp/pkg: 5 plans built$\" $tmp/o && [ \$(ls $tmp/pkg/*.plan | wc -l) -eq 5 ] && ! ls $tmp/pkg/*.tmp >/dev/null 2>&1"
check "--package: the flow decoder's three profiles" "grep -q 'flow_decoder.plan: .*3 profiles (latent_input 1x192x1/1x192x862/1x192x3968, mask 1x1x1/1x1x862/1x1x3968, conditioning 1x704x1/1x704x862/1x704x3968)' $tmp/o"
"$bin" convert "$ex" -o "$tmp/onnx.wav" --model "$model" --speaker tenor --seed 7 --quiet
"$bin" convert "$ex" -o "$tmp/plans.wav" --model "$tmp/pkg" --speaker tenor --seed 7 --quiet
check "convert with the package's plans: the same samples" "[ -s $tmp/plans.wav ] && cmp -s $tmp/onnx.wav $tmp/plans.wav"
# a tensorrt block in model.yaml wins over the project file; --config wins over both
cat >>"$tmp/pkg/model.yaml" <<'EOF'
tensorrt:
  voice_conversion:
    dynamic_shapes:
      vocoder:
        mel_input: {min: [1, 80, 1], opt: [1, 80, 100], max: [1, 80, 5000]}
EOF
"$bin" build --package "$tmp/pkg" >"$tmp/o" 2>"$tmp/e"
check "model.yaml's tensorrt block" "[ $? -eq 0 ] && grep -q \"^$tmp/pkg: profiles from $tmp/pkg/model.yaml$\" $tmp/o && grep -q 'vocoder.plan: .*(mel_input 1x80x1/1x80x100/1x80x5000)' $tmp/o && grep -q 'flow_decoder.plan: .*0 profiles' $tmp/o"
printf 'tensorrt:\n  voice_conversion:\n    workspace_mb: 64\n' >"$tmp/plain.yaml"
"$bin" build --package "$tmp/pkg" --config "$tmp/plain.yaml" >"$tmp/o" 2>"$tmp/e"
check "--config overrides both" "[ $? -eq 0 ] && grep -q \"profiles from $tmp/plain.yaml\" $tmp/o && grep -q 'vocoder.plan: .*0 profiles' $tmp/o"
printf 'tensorrt:\n  voice_conversion:\n    workspace_mb: -3\n' >"$tmp/broken.yaml"
"$bin" build --package "$tmp/pkg" --config "$tmp/broken.yaml" >"$tmp/o" 2>"$tmp/e"
check "a broken configuration: exit 1, file:line:column" "[ $? -eq 1 ] && grep -q 'broken.yaml:3:' $tmp/e"
"$bin" build --package "$tmp/pkg" -o "$tmp/x.plan" >"$tmp/o" 2>"$tmp/e"
check "--package takes no -o" "[ $? -eq 2 ]"
"$bin" build --package "$tmp/nowhere" >"$tmp/o" 2>"$tmp/e"
check "a missing package: exit 1" "[ $? -eq 1 ] && grep -q 'nowhere/model.yaml' $tmp/e"

# reduced precision (oneDNN; CPUs with AVX512-BF16 / VNNI): the vocoder at a short profile, the
# report on stdout, the CPU features the plan needs, a plan that runs
flags=$(grep -m1 '^flags' /proc/cpuinfo)
if [[ $flags == *avx512_bf16* && $flags == *avx512_vnni* ]]; then
  "$bin" build "$model/vocoder.onnx" -o "$tmp/bf16.plan" --precision bf16 --shape $shape --threads 2 >"$tmp/o" 2>"$tmp/e"
  check "bf16: done, the layers and the accuracy report" "[ $? -eq 0 ] && [ ! -s $tmp/e ] && grep -q '^  layers ([0-9]* oneDNN convolutions):$' $tmp/o && grep -Eq '^    /vocoder/resblocks.0/convs1.0/Conv +Conv [0-9]+->[0-9]+ k3 +bf16' $tmp/o && grep -Eq '^    /vocoder/conv_pre/Conv +Conv 80->[0-9]+ k7 +fp32 +kept \(keep_precision: first_conv\)$' $tmp/o && grep -q '^  precision: 0 int8, [0-9]* bf16, 6 fp32 convolutions' $tmp/o && grep -q '^  accuracy against the float32 model on 1 batch of synthetic inputs' $tmp/o && grep -q \"^$model/vocoder.onnx -> $tmp/bf16.plan: bf16 for cpu x86-64\" $tmp/o"
  snr=$(awk '$1 == "audio_output" {print $NF}' "$tmp/o")
  check "bf16: SNR against fp32 >= 35 dB (got $snr)" "awk -v s=$snr 'BEGIN {exit !(s >= 35)}'"
  "$bin" inspect "$tmp/bf16.plan" >"$tmp/o" 2>"$tmp/e"
  check "bf16: the plan needs avx512_bf16, nodes per precision" "[ $? -eq 0 ] && grep -q 'needs CPU features: avx512f avx512bw avx512dq avx512vl avx512_bf16;' $tmp/o && grep -q '^  precision bf16 ([0-9]* nodes fp32, [0-9]* nodes bf16)' $tmp/o"
  "$bin" run "$tmp/bf16.plan" --input "mel_input=$ref/1s/mel_input.npy" --output-dir "$tmp/o_plan" --threads 2 >"$tmp/o" 2>"$tmp/e"
  check "bf16: the plan runs" "[ $? -eq 0 ] && [ -s $tmp/o_plan/audio_output.npy ]"

  # the end-to-end bound: the content encoder's spectrum front end in bf16 misses 35 dB, so the
  # build puts the leading convolutions back in fp32 until the output meets it
  "$bin" build "$model/content_encoder.onnx" -o "$tmp/ce.plan" --precision bf16 --threads 2 >"$tmp/o" 2>"$tmp/e"
  rc=$?
  snr=$(awk '$1 == "content_features" {print $NF}' "$tmp/o")
  check "bf16 end to end: below 35 dB, the front end back in fp32, then >= 35 dB (got $snr)" "[ $rc -eq 0 ] && grep -q 'below the bound of 35 dB: finding the fewest leading convolutions' $tmp/o && grep -Eq '^    /content_encoder/front/Conv +Conv 1->[0-9]+ k[0-9]+ +fp32 +kept \(end to end\)$' $tmp/o && grep -q '^  end to end: [0-9]* convolutions\? back in fp32: worst output' $tmp/o && awk -v s=$snr 'BEGIN {exit !(s >= 35)}'"
  "$bin" build "$model/content_encoder.onnx" -o "$tmp/ce.plan" --precision bf16 --threads 2 --min-output-snr off >"$tmp/o" 2>"$tmp/e"
  check "bf16 --min-output-snr off: no end-to-end check, every convolution bf16" "[ $? -eq 0 ] && ! grep -q 'end to end' $tmp/o && grep -q '^  precision: 0 int8, 4 bf16, 0 fp32 convolutions' $tmp/o"
  "$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --precision bf16 --shape $shape --threads 2 --min-output-snr 0 >"$tmp/o" 2>"$tmp/e"
  check "--min-output-snr 0: a usage error" "[ $? -eq 2 ] && grep -q \"bad --min-output-snr '0'\" $tmp/e"

  # int8 from an .npz (deflated, key COMPONENT/INPUT), with a calibration cache
  (cd "$ref/1s" && /usr/bin/python3 -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED); z.write('mel_input.npy', 'vocoder/mel_input.npy'); z.close()" "$tmp/calib.npz")
  "$bin" build "$model/vocoder.onnx" -o "$tmp/int8.plan" --precision int8 --shape $shape --calib "$tmp/calib.npz" --calib-cache "$tmp/v.calib" --threads 2 >"$tmp/o" 2>"$tmp/e"
  check "int8: calibrated from the .npz, the cache written, int8 and kept bf16 layers" "[ $? -eq 0 ] && grep -q \"^  calibration: [0-9]* tensors, entropy, 2 passes over $tmp/calib.npz (1 batch)\" $tmp/o && grep -q \"^  calibration cache written: $tmp/v.calib$\" $tmp/o && grep -Eq '^    /vocoder/resblocks.0/convs1.0/Conv +Conv [0-9]+->[0-9]+ k3 +(int8 +int8 SNR|bf16 +int8 SNR [0-9.]+ dB <)' $tmp/o && grep -Eq '^    /vocoder/ups.0/ConvTranspose +ConvTranspose [0-9]+->[0-9]+ k16 +bf16 +kept \(keep_precision: upsamplers\)$' $tmp/o && grep -q '^  precision: [1-9][0-9]* int8, ' $tmp/o"
  snr=$(awk '$1 == "audio_output" {print $NF}' "$tmp/o")
  check "int8: SNR against fp32 >= 25 dB (got $snr)" "awk -v s=$snr 'BEGIN {exit !(s >= 25)}'"
  check "int8: the cache is TensorRT's text format, the tensors by their ONNX names" "head -1 $tmp/v.calib | grep -q '^TRT-8601-EntropyCalibration2$' && sed -n 2p $tmp/v.calib | grep -q '^__autovoice_fingerprint_[0-9a-f]\{16\}: 3f800000$' && grep -q '^/vocoder/ups.0/ConvTranspose_output_0: [0-9a-f]\{8\}$' $tmp/v.calib && ! grep -q '#cl' $tmp/v.calib"
  "$bin" inspect "$tmp/int8.plan" >"$tmp/o" 2>"$tmp/e"
  check "int8: the plan needs avx512_vnni" "[ $? -eq 0 ] && grep -q 'needs CPU features: .*avx512_vnni' $tmp/o && grep -q 'nodes int8)' $tmp/o"
  "$bin" run "$tmp/int8.plan" --input "mel_input=$ref/1s/mel_input.npy" --output-dir "$tmp/o_plan" --threads 2 >"$tmp/o" 2>"$tmp/e"
  check "int8: the plan runs" "[ $? -eq 0 ] && [ -s $tmp/o_plan/audio_output.npy ]"
  "$bin" build "$model/vocoder.onnx" -o "$tmp/int8b.plan" --precision int8 --shape $shape --calib "$tmp/calib.npz" --calib-cache "$tmp/v.calib" --threads 2 >"$tmp/o" 2>"$tmp/e"
  check "int8: a matching cache skips calibration" "[ $? -eq 0 ] && grep -q \"^  calibration: [0-9]* tensors from the cache $tmp/v.calib$\" $tmp/o"
  "$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --precision int8 --shape $shape --calib "$tmp/calib.npz" --calib-method minmax --calib-cache "$tmp/v.calib" >"$tmp/o" 2>"$tmp/e"
  check "int8: a cache made with other settings is refused, nothing written" "[ $? -eq 1 ] && grep -q 'made for another model or other calibration settings' $tmp/e && grep -q 'give another --calib-cache' $tmp/e && [ ! -e $tmp/x.plan ]"
  "$bin" build "$model/vocoder.onnx" -o "$tmp/mm.plan" --precision int8 --shape $shape --calib-method minmax --int8-min-snr 60 >"$tmp/o" 2>"$tmp/e"
  check "int8: synthetic inputs, minmax, a strict SNR bound keeps layers bf16" "[ $? -eq 0 ] && grep -q '^  calibration: [0-9]* tensors, minmax, 1 pass over synthetic inputs' $tmp/o && grep -q 'int8 SNR [0-9.]* dB < 60 dB' $tmp/o"
  "$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --precision int8 --calib "$tmp/missing.npz" >"$tmp/o" 2>"$tmp/e"
  check "int8: a missing --calib file: exit 1, named" "[ $? -eq 1 ] && grep -q 'missing.npz' $tmp/e"
  (cd "$ref/1s" && /usr/bin/python3 -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], 'w'); z.write('mel_input.npy', 'content/input_audio.npy'); z.close()" "$tmp/other.npz")
  "$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --precision int8 --shape $shape --calib "$tmp/other.npz" >"$tmp/o" 2>"$tmp/e"
  check "int8: an .npz without the input: the key named" "[ $? -eq 1 ] && grep -q \"no array for input 'mel_input' (key vocoder/mel_input)\" $tmp/e && [ ! -e $tmp/x.plan ]"

  # int8 calibrated from audio files through the package's conversion pipeline
  mkdir -p "$tmp/audio" "$tmp/noaudio"
  /usr/bin/python3 - "$tmp/audio" <<'PY'
import math, struct, sys, wave
for name, rate, seconds, f0 in (("a.wav", 22050, 1.0, 220.0), ("b.wav", 16000, 0.8, 330.0)):
    with wave.open(sys.argv[1] + "/" + name, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate)
        n = int(rate * seconds)
        w.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * f0 * (1 + 0.1 * i / n) * i / rate))) for i in range(n)))
PY
  echo "not audio" >"$tmp/audio/notes.txt"
  echo "not audio" >"$tmp/noaudio/notes.txt"
  "$bin" build "$model/vocoder.onnx" -o "$tmp/int8a.plan" --precision int8 --shape $shape --calib "$tmp/audio" --calib-cache "$tmp/a.calib" --threads 2 >"$tmp/o" 2>"$tmp/e"
  check "int8 from an audio directory: 2 files, 2 batches, the cache and the plan written" "[ $? -eq 0 ] && [ ! -s $tmp/e ] && grep -q \"^  calibration data: 2 audio files in $tmp/audio (2 batches): the vocoder inputs of the float32 conversion pipeline of $model (\" $tmp/o && grep -q \"^  calibration: [0-9]* tensors, entropy, 2 passes over 2 audio files in $tmp/audio (2 batches) in \" $tmp/o && grep -q \"^  calibration cache written: $tmp/a.calib$\" $tmp/o && [ -s $tmp/a.calib ] && [ -s $tmp/int8a.plan ] && grep -q '^  accuracy against the float32 model on 2 batches of 2 audio files' $tmp/o"
  "$bin" build "$model/vocoder.onnx" -o "$tmp/int8b.plan" --precision int8 --shape $shape --calib "$tmp/audio" --calib-cache "$tmp/a.calib" --threads 2 >"$tmp/o" 2>"$tmp/e"
  check "int8 from audio again: the same inputs, the cache matches" "[ $? -eq 0 ] && grep -q \"^  calibration: [0-9]* tensors from the cache $tmp/a.calib$\" $tmp/o"
  printf 'tensorrt:\n  voice_conversion:\n    int8_calibration: {data: %s, batches: 1}\n' "$tmp/audio" >"$tmp/audio.yaml"
  "$bin" build "$model/vocoder.onnx" -o "$tmp/int8c.plan" --precision int8 --shape $shape --config "$tmp/audio.yaml" --threads 2 >"$tmp/o" 2>"$tmp/e"
  check "int8_calibration.data names an audio directory; batches: 1 stops after one" "[ $? -eq 0 ] && grep -q \"^  calibration data: 1 audio file in $tmp/audio (1 batch): \" $tmp/o"
  "$bin" build "$model/vocoder.onnx" -o "$tmp/x.plan" --precision int8 --shape $shape --calib "$tmp/noaudio" >"$tmp/o" 2>"$tmp/e"
  check "a directory without audio: exit 1, the directory named, nothing written" "[ $? -eq 1 ] && grep -q \"$tmp/noaudio: no audio files to calibrate with\" $tmp/e && [ ! -e $tmp/x.plan ]"
  "$bin" build "$tmp/voc.onnx" -o "$tmp/x.plan" --component vocoder --precision int8 --shape $shape --calib "$tmp/audio" >"$tmp/o" 2>"$tmp/e"
  check "audio calibration of a model outside a package: exit 1, said" "[ $? -eq 1 ] && grep -q \"runs the model package the ONNX file is in, and $tmp has no model.yaml\" $tmp/e"
else
  echo "skip reduced-precision builds: this CPU lacks AVX512-BF16 or AVX512-VNNI"
fi

echo "test_build: $fails failure(s)"
[ $fails -eq 0 ]
