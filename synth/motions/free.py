"""Free random motion within the joint limits: random keyframe poses, slerped.

Keyframes every 0.4–1.0 s are drawn uniformly within a randomly shrunk copy of the limits
(:func:`synth.limits.sample`, ``scale`` 0.3–0.8 about the neutral pose), every joint
slerps (scipy ``Slerp``, eased in time) from key to key, and the result is projected back
into the limits (a slerp between two poses inside the limits can leave them slightly).
The heading wanders by up to ±60° per key; the lower foot carries the body.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from .. import limits
from .track import AUTO, Track, smoothstep, timeline


def free(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    dur = T / fps
    gaps = rng.uniform(0.4, 1.0, size=int(dur / 0.4) + 2)
    times = np.concatenate([[0.0], np.cumsum(gaps)])
    times = times[: np.searchsorted(times, dur) + 1]
    K = len(times)
    keys = limits.sample(rng, K, limits.ROTATING, scale=rng.uniform(0.3, 0.8))
    mats = limits.to_matrix(keys)                              # (K, 17, 3, 3)
    t = np.arange(T) / fps
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, K - 2)
    u = smoothstep((t - times[i]) / (times[i + 1] - times[i]))
    eased = times[i] + u * (times[i + 1] - times[i])
    out = np.empty((T, 17, 3, 3))
    for j in range(17):
        if j in limits.LEAVES:
            out[:, j] = np.eye(3)
            continue
        out[:, j] = Slerp(times, Rotation.from_matrix(mats[:, j]))(eased).as_matrix()
    angles = limits.clip(limits.from_matrix(out))
    heading = timeline(T, fps, times, rng.uniform(0, 2 * np.pi)
                       + np.cumsum(np.radians(rng.uniform(-60, 60, size=K))))
    return Track(angles, heading, np.full(T, AUTO, np.int8))
