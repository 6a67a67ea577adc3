"""The camera matrix used to place the skeleton: from the user, the file, or a default.

Precedence: ``camera.focal_px`` (pixels) > ``camera.fov_deg`` (field of view along the
image's longer side) > the file's metadata (a 35 mm-equivalent focal length: EXIF for
images, QuickTime ``focal_length.35mm_equivalent`` for phone videos; converted on the
diagonal, 43.27 mm, as the 35 mm-equivalent is defined) > :data:`DEFAULT_FOV_DEG`.
The principal point is the image centre unless ``camera.cx`` / ``camera.cy`` say otherwise.
"""

from __future__ import annotations

import math

import numpy as np

from hpd3d.errors import InputError

DEFAULT_FOV_DEG = 60.0  # along the longer side: a typical phone main camera is 60-70°
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)


def intrinsics(width: int, height: int, *, focal_px=None, fov_deg=None, focal_35mm=None,
               cx=None, cy=None, default_fov_deg: float = DEFAULT_FOV_DEG
               ) -> tuple[np.ndarray, str]:
    """``(K (3, 3) float64, where the focal length came from)``."""
    if focal_px is not None:
        f = float(focal_px)
        if not (math.isfinite(f) and f > 0):
            raise InputError(None, f"camera.focal_px={focal_px}: need a positive number of pixels")
        src = "camera.focal_px"
    elif fov_deg is not None:
        fov = float(fov_deg)
        if not 1.0 <= fov <= 179.0:
            raise InputError(None, f"camera.fov_deg={fov_deg}: need 1-179 degrees")
        f = max(width, height) / 2.0 / math.tan(math.radians(fov) / 2.0)
        src = "camera.fov_deg"
    elif focal_35mm:
        f = float(focal_35mm) * math.hypot(width, height) / FULL_FRAME_DIAGONAL_MM
        src = f"metadata ({float(focal_35mm):g} mm 35 mm-equivalent)"
    else:
        f = max(width, height) / 2.0 / math.tan(math.radians(default_fov_deg) / 2.0)
        src = f"default field of view {default_fov_deg:g}° along the longer side"
    K = np.array([[f, 0.0, width / 2.0 if cx is None else float(cx)],
                  [0.0, f, height / 2.0 if cy is None else float(cy)],
                  [0.0, 0.0, 1.0]])
    return K, src
