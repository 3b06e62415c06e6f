#!/usr/bin/env bash
# Sets up (if needed), then runs EVO's main job on the bundled digits model:
# compile it to C, run it on the host, and verify it bit for bit against TFLite Micro.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
MODEL=${1:-examples/digits/digits_int8.tflite}
OUT=${OUT:-build/demo}
EVO=.venv/bin/evo
echo "== evo compile $MODEL -o $OUT"
$EVO compile "$MODEL" -o "$OUT"
echo
echo "== evo run (host, sample image examples/digits/sample.png)"
$EVO run "$MODEL" --input examples/digits/sample.png
echo
echo "== evo verify (EVO's C vs TFLM, sample + 10 random inputs, every tensor)"
$EVO verify "$MODEL" --input examples/digits/sample.npy --random 10 --layers
