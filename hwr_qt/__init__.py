"""hwr-qt: recognise handwritten digits as they are drawn.

The pipeline runs one way: ``ink`` (vector strokes) -> ``raster`` (28x28 model input,
via the numpy-only ``preprocess``) -> ``recognizer`` (ONNX Runtime) -> ``ui`` / ``cli``.
Importing this package pulls in neither Qt nor ONNX Runtime, and never TensorFlow.
"""

__version__ = "0.1.0"
