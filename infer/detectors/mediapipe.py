"""MediaPipe Pose (BlazePose, ``mediapipe==0.10.21`` solutions API) as a COCO-17 detector.

``model_complexity=1`` is the only pose model inside the mediapipe wheel (0 and 2 are
downloaded on first use), so this backend runs offline. One person per frame (BlazePose
finds one and then tracks it); its 33 landmarks become COCO-17 through
``hpd3d.skeleton.BLAZEPOSE_TO_COCO`` and the landmark visibility becomes the score.

mediapipe's C++ side logs to the process's stderr (absl/glog/TF-Lite) while it imports and
builds its graph; that noise is sent to /dev/null so the user's stderr stays clean.
"""

from __future__ import annotations

import os

import numpy as np

from hpd3d.errors import InputError
from hpd3d.skeleton import BLAZEPOSE_TO_COCO
from infer.quiet import quiet_stderr

_SELECT = BLAZEPOSE_TO_COCO.argmax(1)


def _import_mediapipe():
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_stderr():
        from mediapipe.python.solutions import pose as mp_pose
    return mp_pose


class MediaPipePose:
    name = "mediapipe"
    layout = "coco"

    def __init__(self, model_complexity: int = 1, static_image_mode: bool = False,
                 min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 smooth_landmarks: bool = False, **unknown):
        if unknown:
            raise InputError(None, f"detector=mediapipe: unknown option(s) {sorted(unknown)}")
        if model_complexity != 1:
            raise InputError(None, f"detector.model_complexity={model_complexity}: only 1 ships "
                                   "inside the mediapipe wheel (0 and 2 need a download)")
        mp_pose = _import_mediapipe()
        with quiet_stderr():
            self._pose = mp_pose.Pose(
                static_image_mode=bool(static_image_mode), model_complexity=1,
                smooth_landmarks=bool(smooth_landmarks), enable_segmentation=False,
                min_detection_confidence=float(min_detection_confidence),
                min_tracking_confidence=float(min_tracking_confidence))
        self._found = 0

    @property
    def version(self) -> str:
        import mediapipe

        return str(mediapipe.__version__)

    def reset(self) -> None:
        """Forget the tracked person: the next frame is detected afresh, as by a new
        detector (a new video)."""
        with quiet_stderr():
            self._pose.reset()
        self._found = 0  # its graph logs again when the landmark model first runs

    def detect(self, frame_rgb: np.ndarray, prev=None) -> np.ndarray:
        h, w = frame_rgb.shape[:2]
        if self._found < 2:  # the graph logs when its landmark model first runs
            with quiet_stderr():
                res = self._pose.process(frame_rgb)
        else:
            res = self._pose.process(frame_rgb)
        self._found += res.pose_landmarks is not None
        if res.pose_landmarks is None:
            return np.zeros((0, 17, 3), np.float32)
        lm = res.pose_landmarks.landmark
        a = np.array([(lm[i].x * w, lm[i].y * h, lm[i].visibility) for i in _SELECT], np.float32)
        a[:, 2] = np.clip(a[:, 2], 0.0, 1.0)
        return a[None]

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None
