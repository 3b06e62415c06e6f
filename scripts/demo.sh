#!/usr/bin/env bash
# Sets up (if needed), then runs EVO's main job on the bundled digits model: compile it to C,
# run it on the host, verify it bit for bit against TFLite Micro, then build it for a Cortex-M4F
# board and run it under QEMU, next to the host run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
MODEL=${1:-examples/digits/digits_int8.tflite}
BOARD=${BOARD:-qemu-mps2-an386}
OUT=${OUT:-build/demo}
EVO=.venv/bin/evo
echo "== evo compile $MODEL -o $OUT"
$EVO compile "$MODEL" -o "$OUT"
echo
echo "== evo run on the host (input: examples/digits/sample.png)"
$EVO run "$MODEL" --input examples/digits/sample.png
echo
echo "== evo verify: EVO's C vs TFLM, sample + 10 random inputs, every tensor"
$EVO verify "$MODEL" --input examples/digits/sample.npy --random 10 --layers
echo
echo "== evo run on $BOARD under QEMU (same input)"
$EVO run "$MODEL" --board "$BOARD" --input examples/digits/sample.png
echo
echo "== evo profile on $BOARD"
$EVO profile "$MODEL" --board "$BOARD"
