"""Shared CLI helpers: makes `bitfalcon` importable from tools/ scripts."""
from __future__ import annotations

import os
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TOOLS)
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
SHARED_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))
DEFAULT_TEACHER = os.path.join(SHARED_DATA, "teacher", "yolov8n_coco.npz")
