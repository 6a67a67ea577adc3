"""infer: a single-person video → 2D → 3D → smoothed, grounded skeleton in metres.

``python -m infer video=clip.mp4 [overrides]`` (:mod:`infer.__main__`, config
``conf/infer.yaml``). One concept per module: :mod:`infer.video` (reading),
:mod:`infer.detectors` (2D backends, a name → class table), :mod:`infer.tracking` (one
subject over time, gaps), :mod:`infer.intrinsics` (the camera matrix), :mod:`infer.post`
(post-processing), :mod:`infer.writers` (files), :mod:`infer.pipeline` (the stages in
order), :mod:`infer.quiet` (C-library logging kept off stderr).
"""
