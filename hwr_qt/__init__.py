"""hwr-qt: recognise handwritten digits as they are drawn.

The pipeline runs one way: ``ink`` (vector strokes) -> ``raster`` (28x28 model input,
via the numpy-only ``preprocess``) -> ``recognizer`` (ONNX Runtime) -> ``ui`` / ``cli``.
Importing this package pulls in neither Qt nor ONNX Runtime, and never TensorFlow; it
does switch ONNX Runtime's telemetry off before anything can load it (``privacy``).
"""

from hwr_qt.privacy import disable_telemetry

disable_telemetry()

__version__ = "0.1.0"
