"""ONNX inference and car adapters (the deployment side of racer)."""
