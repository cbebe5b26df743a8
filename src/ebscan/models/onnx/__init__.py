"""Export to ONNX, for inference with ONNX Runtime (:mod:`ebscan.models.onnx.export`)."""
