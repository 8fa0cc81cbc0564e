"""Writes the small ONNX models that seed the fuzz_onnx corpus (tests/fuzz/corpus/fuzz_onnx/).
Run with Debian's python3 (python3-onnx); the outputs are committed, a few hundred bytes each."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "fuzz_onnx")
os.makedirs(out, exist_ok=True)
f32 = TensorProto.FLOAT


def model(name, nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]), os.path.join(out, name + ".onnx"))


rng = np.random.default_rng(0)
w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
b = numpy_helper.from_array(np.zeros(4, np.float32), "b")
model("conv_relu", [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2]),
                    helper.make_node("Relu", ["c"], ["y"])],
      [helper.make_tensor_value_info("x", f32, [1, 3, 8, 8])], [helper.make_tensor_value_info("y", f32, None)],
      [w, b])
model("flatten_idiom", [helper.make_node("Shape", ["x"], ["s"]),
                        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
                        helper.make_node("Unsqueeze", ["n", "ax"], ["nu"]),
                        helper.make_node("Concat", ["nu", "minus1"], ["shape"], axis=0),
                        helper.make_node("Reshape", ["x", "shape"], ["y"])],
      [helper.make_tensor_value_info("x", f32, ["batch", 2, 3])], [helper.make_tensor_value_info("y", f32, None)],
      [numpy_helper.from_array(np.array(0, np.int64), "zero"), numpy_helper.from_array(np.array([0], np.int64), "ax"),
       numpy_helper.from_array(np.array([-1], np.int64), "minus1")])
model("bn_pool_gemm", [helper.make_node("BatchNormalization", ["x", "s", "bb", "m", "v"], ["n"], epsilon=1e-3),
                       helper.make_node("MaxPool", ["n"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
                       helper.make_node("GlobalAveragePool", ["p"], ["g"]),
                       helper.make_node("Flatten", ["g"], ["f"]),
                       helper.make_node("Gemm", ["f", "fw"], ["y"], transB=1)],
      [helper.make_tensor_value_info("x", f32, [1, 2, 4, 4])], [helper.make_tensor_value_info("y", f32, [1, 3])],
      [numpy_helper.from_array(np.ones(2, np.float32), n) for n in ("s", "v")]
      + [numpy_helper.from_array(np.zeros(2, np.float32), n) for n in ("bb", "m")]
      + [numpy_helper.from_array(np.ones((3, 2), np.float32), "fw")])
model("resize_softmax", [helper.make_node("Resize", ["x", "", "sc"], ["r"], mode="linear"),
                         helper.make_node("Softmax", ["r"], ["y"], axis=-1)],
      [helper.make_tensor_value_info("x", f32, [1, 1, 2, 2])], [helper.make_tensor_value_info("y", f32, None)],
      [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "sc")])
