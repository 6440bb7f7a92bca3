#!/usr/bin/env bash
# Reproduces worker/assistant/model/aisle-assistant.gguf from its seed on a machine with an
# NVIDIA GPU and PyTorch:
#
#   bash worker/assistant/model/recipe/train.sh OUTDIR
#
# Steps: aisle-train-data (Go: synthetic stores, conversations, the BPE vocabulary, token
# files), train.py (PyTorch), slm export (Go: GGUF, Q8_0). Go builds the two programs when it
# is installed; otherwise BIN names a folder holding prebuilt aisle-train-data and slm
# (linux/amd64). SEED, STORES, INVENT and STEPS override the defaults the bundled model was made with;
# TRAIN_ARGS adds train.py flags.
set -euo pipefail
out=${1:?usage: train.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
SEED=${SEED:-1}
STORES=${STORES:-3000}
STEPS=${STEPS:-6500}
INVENT=${INVENT:-60}
mkdir -p "$out"
if [ -z "${BIN:-}" ]; then
  BIN="$out/bin"
  (cd "$root" && go build -o "$BIN/" ./worker/assistant/training/cmd/aisle-train-data ./worker/cmd/slm)
fi
"$BIN/aisle-train-data" -stores "$STORES" -val-stores 60 -seed "$SEED" -invent "$INVENT" -out "$out/data"
python3 "$here/train.py" --data "$out/data" --out "$out/weights" --seed "$SEED" --steps "$STEPS" --compile ${TRAIN_ARGS:-}
"$BIN/slm" export -weights "$out/weights/model.safetensors" -vocab "$out/data/vocab.gguf" -type Q8_0 \
  -name aisle-assistant -o "$out/aisle-assistant.gguf"
echo "train.sh: wrote $out/aisle-assistant.gguf"
