"""ONNX inference and car adapters (the deployment side of racer)."""

from __future__ import annotations
