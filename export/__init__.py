"""Keras -> ONNX export with verification, calibration and a model card."""
