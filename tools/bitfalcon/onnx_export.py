"""The fp32 teacher as Ultralytics' ONNX export computes it: the network plus the Detect decode
(DFL, dist2bbox xywh, sigmoid), output [B, 4 + nc, N]. tools/export_onnx.py exports it;
tools/import_onnx.py verifies an imported graph against it. Needs torch.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Tuple

if TYPE_CHECKING:
    from .yolo import YOLOv8Bit


def build_wrapper(npz: str) -> Tuple[type, "YOLOv8Bit"]:
    """(the export module class, taking (teacher, size, dynamic=False); the teacher of `npz`)."""
    import torch
    import torch.nn as nn
    from .yolo import build_teacher

    class YOLOv8Export(nn.Module):
        """The teacher plus Ultralytics' Detect decode (DFL, dist2bbox xywh, sigmoid)."""

        def __init__(self, model, size: int, dynamic: bool = False):
            super().__init__()
            self.model = model
            self.dynamic = dynamic
            self.reg_max = model.reg_max
            anchors, strides = [], []
            for s in (8, 16, 32):
                n = size // s
                ys, xs = torch.meshgrid(torch.arange(n, dtype=torch.float32) + 0.5,
                                        torch.arange(n, dtype=torch.float32) + 0.5, indexing="ij")
                anchors.append(torch.stack((xs.reshape(-1), ys.reshape(-1)), 0))
                strides.append(torch.full((1, n * n), float(s)))
            self.register_buffer("anchors", torch.cat(anchors, 1).unsqueeze(0))   # [1, 2, N]
            self.register_buffer("strides", torch.cat(strides, 1).unsqueeze(0))   # [1, 1, N]
            self.register_buffer("bins", torch.arange(self.reg_max, dtype=torch.float32).view(1, 1, self.reg_max, 1))

        def make_anchors(self, levels):
            """Anchors [1, 2, N] and strides [1, 1, N] from the feature maps' own shapes."""
            anchors, strides = [], []
            for (bx, _), s in zip(levels, (8, 16, 32)):
                h, w = bx.shape[2], bx.shape[3]
                ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32) + 0.5,
                                        torch.arange(w, dtype=torch.float32) + 0.5, indexing="ij")
                anchors.append(torch.stack((xs.reshape(-1), ys.reshape(-1)), 0))
                strides.append(torch.ones_like(xs).reshape(1, -1) * float(s))
            return torch.cat(anchors, 1).unsqueeze(0), torch.cat(strides, 1).unsqueeze(0)

        def forward(self, images):
            levels = self.model(images)
            b = images.shape[0]
            box = torch.cat([bx.reshape(b, 4 * self.reg_max, -1) for bx, _ in levels], 2)   # [B, 64, N]
            cls = torch.cat([c.reshape(b, c.shape[1], -1) for _, c in levels], 2)           # [B, nc, N]
            # DFL: [B, 4, 16, N] softmax over the bins, expectation = distance in cells
            d = box.view(b, 4, self.reg_max, -1).softmax(2)
            d = (d * self.bins).sum(2)                                                       # [B, 4, N]
            lt, rb = d[:, :2], d[:, 2:]
            anchors, strides = self.make_anchors(levels) if self.dynamic else (self.anchors, self.strides)
            x1y1 = anchors - lt
            x2y2 = anchors + rb
            xywh = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * strides
            return torch.cat((xywh, cls.sigmoid()), 1)

    return YOLOv8Export, build_teacher(npz)
