"""Dense optical flow between consecutive frames (OpenCV's DIS), the motion stream's input.

Frames are turned to grayscale; the flow of frame t is the motion from t-1 to t (the first
frame's is zero), two channels (x, y) in pixels, clipped to ``± bound`` and scaled to
[-1, 1] as two-stream networks take it. Computed in the service's front, on its CPU
threads; the network only sees the result.
"""

from __future__ import annotations

import numpy as np

BOUND = 20.0  # pixels a frame, at the model's input size; beyond it the flow is clipped


def _dis():
    import cv2

    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)


def grayscale(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB -> (T, H, W) uint8 (ITU-R BT.601 luma)."""
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.clip(frames.astype(np.float32) @ weights + 0.5, 0, 255).astype(np.uint8)


def dense_flow(frames: np.ndarray, bound: float = BOUND) -> np.ndarray:
    """(T, H, W, 3) uint8 -> (T, H, W, 2) float16 in [-1, 1]."""
    gray = grayscale(frames)
    out = np.zeros((*gray.shape, 2), dtype=np.float16)
    dis = _dis()
    for t in range(1, len(gray)):
        flow = dis.calc(gray[t - 1], gray[t], None)
        out[t] = np.clip(flow / bound, -1.0, 1.0)
    return out
