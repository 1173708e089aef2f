# fix_onnx.py RAW.onnx OUT.onnx: replace MediaPipe's custom TFL_Convolution2DTransposeBias (left by
# tf2onnx 1.16.1 --opset 17) with ONNX ConvTranspose. Checked by reference_mask.py: the output
# equals LiteRT's within 1e-4. (docs: ../shared/docs/deps.md Appendix A)
import sys, onnx, numpy as np
from onnx import numpy_helper, helper
src, dst = sys.argv[1], sys.argv[2]
m = onnx.load(src); g = m.graph
inits = {i.name: i for i in g.initializer}
prod = {o: n for n in g.node for o in n.output}
new_nodes = []
for n in g.node:
    if n.op_type != 'TFL_Convolution2DTransposeBias':
        new_nodes.append(n); continue
    x, w, b = n.input
    t = prod[x]; assert t.op_type == 'Transpose'
    assert list([a.ints for a in t.attribute if a.name == 'perm'][0]) == [0, 2, 3, 1]
    nchw = t.input[0]                                   # feed the NCHW tensor before tf2onnx's transpose
    W = numpy_helper.to_array(inits[w])                 # [cout, kh, kw, cin]
    cout, kh, kw, cin = W.shape
    g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(W.transpose(3, 0, 1, 2)).astype(np.float32), w + '_ct'))
    g.initializer.append(numpy_helper.from_array(numpy_helper.to_array(inits[b]).astype(np.float32).reshape(cout), b + '_ct'))
    new_nodes += [helper.make_node('ConvTranspose', [nchw, w + '_ct', b + '_ct'], [n.output[0] + '_nchw'],
                                   kernel_shape=[kh, kw], strides=[kh, kw], name=n.name + '_ct'),
                  helper.make_node('Transpose', [n.output[0] + '_nchw'], [n.output[0]], perm=[0, 2, 3, 1],
                                   name=n.name + '_to_nhwc')]
del g.node[:]; g.node.extend(new_nodes)
# Drop initializers nothing reads any more (the custom op's fp16 weights).
used = {i for n in g.node for i in n.input}
keep = [i for i in g.initializer if i.name in used]
del g.initializer[:]; g.initializer.extend(keep)
onnx.checker.check_model(m)
onnx.save(onnx.shape_inference.infer_shapes(m), dst)
