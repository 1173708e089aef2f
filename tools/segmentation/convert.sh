#!/usr/bin/env bash
# Re-creates the committed ONNX models and the reference mask from the committed .tflite files.
# Run once by a developer (needs Python 3.11 and the network for pip); building and testing never
# need it. Usage: tools/segmentation/convert.sh [VENV_DIR]   (default /tmp/segvenv)
#
# The .tflite files come from npm @mediapipe/selfie_segmentation@0.1.1675465747 (Apache-2.0):
#   npm pack @mediapipe/selfie_segmentation@0.1.1675465747 && tar xzf *.tgz   (package/*.tflite)
# The test photo is scikit-image's data/astronaut.png (`pip download --no-deps scikit-image`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
models="$root/assets/models/selfie_segmentation"
venv="${1:-/tmp/segvenv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install "numpy<2" tensorflow-cpu==2.13.1 tf2onnx==1.16.1 onnx==1.16.2 \
    "protobuf<4" ai-edge-litert==2.3.0 onnxruntime==1.20.1 pillow
fi
py="$venv/bin/python"
tmp="$(mktemp -d)"
for name in selfie_segmentation selfie_segmentation_landscape; do
  "$py" -m tf2onnx.convert --tflite "$models/$name.tflite" --opset 17 --output "$tmp/$name.raw.onnx"
  "$py" "$here/fix_onnx.py" "$tmp/$name.raw.onnx" "$models/$name.onnx"
done
"$py" "$here/reference_mask.py" "$models" "$root/assets/test"
rm -rf "$tmp"
