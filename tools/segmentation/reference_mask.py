# reference_mask.py MODELS_DIR TEST_DIR: runs the original .tflite models with the model's own
# runtime (LiteRT, PyPI ai-edge-litert) on TEST_DIR/astronaut.png and writes the reference masks
# TEST_DIR/astronaut_mask_{general,landscape}.png (person probability × 255, at model size).
# Also checks that the converted ONNX files give the same output (onnxruntime).
#
# Pre-processing, shared with crates/segment (src/input.rs): the whole picture is stretched to the
# model size with a triangle (bilinear, antialiased) filter in 8-bit sRGB, then scaled to 0..1.
import sys, numpy as np
from PIL import Image
from ai_edge_litert.interpreter import Interpreter
import onnxruntime
models, test = sys.argv[1], sys.argv[2]
photo = Image.open(f"{test}/astronaut.png").convert("RGB")
for variant, name, (w, h) in [("general", "selfie_segmentation", (256, 256)),
                              ("landscape", "selfie_segmentation_landscape", (256, 144))]:
    x = np.asarray(photo.resize((w, h), Image.BILINEAR), dtype=np.float32)[None] / 255.0
    it = Interpreter(model_path=f"{models}/{name}.tflite")
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    y = it.get_tensor(it.get_output_details()[0]["index"])[0, :, :, 0]
    Image.fromarray(np.round(y * 255).clip(0, 255).astype(np.uint8), "L").save(
        f"{test}/astronaut_mask_{variant}.png")
    sess = onnxruntime.InferenceSession(f"{models}/{name}.onnx", providers=["CPUExecutionProvider"])
    z = sess.run(None, {sess.get_inputs()[0].name: x})[0][0, :, :, 0]
    diff = float(np.abs(z - y).max())
    print(f"{variant}: {w}x{h}, person fraction {float((y > 0.5).mean()):.3f}, max |onnx - litert| {diff:.2e}")
    assert diff < 1e-3, diff
