"""2D detector backends: one file each, a name → class table (imported on first use).

A per-frame detector: ``det = DETECTORS[name](**cfg)``; ``det.detect(frame_rgb (H, W, 3)
uint8, prev=None) -> (P, 17, 3) float32`` COCO-17 x, y pixels and a score in [0, 1] (P may
be 0; ``prev`` is the previous frame's chosen person, COCO-17 (17, 3), or None);
``det.close()``; class attributes ``name`` and ``layout = "coco"``.

``detector=file`` is not a per-frame detector: :func:`infer.detectors.file.read_2d`
reads 2D already computed (MMPose / OpenPose / COCO JSON, the toolkit's npz).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

# name → "module:Class"; the module is imported only when the name is used, so
# ``--help`` and the file path never import mediapipe or the HRNet code.
_TABLE = {
    "mediapipe": "infer.detectors.mediapipe:MediaPipePose",
    "hrnet": "infer.detectors.hrnet:HRNetDetector",
}


class _LazyTable(Mapping):
    def __init__(self, table: dict[str, str]):
        self._table = dict(table)

    def __getitem__(self, name: str):
        try:
            spec = self._table[name]
        except KeyError:
            raise KeyError(f"unknown detector {name!r}; known: {', '.join(self._table)}, file") from None
        module, cls = spec.split(":")
        return getattr(importlib.import_module(module), cls)

    def __iter__(self):
        return iter(self._table)

    def __len__(self):
        return len(self._table)


DETECTORS = _LazyTable(_TABLE)

__all__ = ["DETECTORS"]
