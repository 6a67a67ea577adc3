"""What a motion generator returns, and the small tools every generator uses.

A :class:`Track` is a motion before it is placed in the world: anatomical joint angles
(radians, :mod:`synth.limits` convention) per frame, the heading (yaw of the body about
world Z; 0 = facing −Y), which foot carries the body in each frame, and the horizontal
velocity while airborne. :func:`synth.motions.ground.place` turns it into a root
trajectory. Generators write poses in degrees with :func:`pose` and move between them with
:func:`timeline` (eased, vectorised over frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# H36M-17 joint indices
PELVIS, R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE = range(7)
SPINE, THORAX, NECK, HEAD = 7, 8, 9, 10
L_SHOULDER, L_ELBOW, L_WRIST, R_SHOULDER, R_ELBOW, R_WRIST = range(11, 17)
# per side (0 = right, 1 = left): hip, knee, ankle, shoulder, elbow
HIP, KNEE, ANKLE = (R_HIP, L_HIP), (R_KNEE, L_KNEE), (R_ANKLE, L_ANKLE)
SHOULDER, ELBOW = (R_SHOULDER, L_SHOULDER), (R_ELBOW, L_ELBOW)
SIDE_SIGN = (-1.0, 1.0)  # x of the right / left side (the body's left is +X)

# contact codes, per frame
AUTO, RIGHT, LEFT, FLIGHT, BODY = -1, 0, 1, 2, 3

_JOINT = {"pelvis": PELVIS, "spine": SPINE, "thorax": THORAX, "neck": NECK,
          "r_hip": R_HIP, "l_hip": L_HIP, "r_knee": R_KNEE, "l_knee": L_KNEE,
          "r_shoulder": R_SHOULDER, "l_shoulder": L_SHOULDER,
          "r_elbow": R_ELBOW, "l_elbow": L_ELBOW}


@dataclass
class Track:
    """A motion in the body's own terms, before root placement.

    ``angles`` (T, 17, 3) radians; ``heading`` (T,) radians; ``contact`` (T,) int8 —
    ``AUTO`` (the lower foot carries the body), ``RIGHT``/``LEFT`` (that foot does),
    ``FLIGHT`` (no foot touches), ``BODY`` (whatever part of the body is lowest rests on
    the floor: a knee, the pelvis, the back, a hand — :data:`.ground.RADIUS`);
    ``flight_velocity`` (T, 2) metres/second in the
    heading frame (forward, left), used in ``FLIGHT`` frames (``None``: keep the velocity
    the body had when it left the ground); ``heel`` (T, 2) metres ≥ 0, how far a carrying
    foot's ankle is raised above flat-footed (a heel rise: standing on the toes), per foot
    (right, left) (``None``: flat); ``base`` (T, 3) a rotation vector (radians, heading
    frame) turning the whole body before its pelvis tilt — lying on the back or side, which
    the pelvis' anatomical range cannot express (``None``: upright). The root's orientation
    is heading · base · pelvis tilt.
    """

    angles: np.ndarray
    heading: np.ndarray
    contact: np.ndarray
    flight_velocity: np.ndarray | None = None
    heel: np.ndarray | None = None
    base: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return int(self.angles.shape[0])


def pose(**joints) -> np.ndarray:
    """A (17, 3) pose in DEGREES: ``pose(r_hip=(30, 0, 0), spine=(10,))``; omitted = 0."""
    p = np.zeros((17, 3))
    for name, v in joints.items():
        v = np.atleast_1d(np.asarray(v, dtype=np.float64))
        p[_JOINT[name], : len(v)] = v
    return p


def side_pose(side: int, **joints) -> np.ndarray:
    """:func:`pose` with ``hip``/``knee``/``shoulder``/``elbow`` on ``side`` (0 right,
    1 left) and ``o_hip`` … on the opposite side."""
    names = {}
    for k, v in joints.items():
        if k.startswith("o_"):
            names[("l_" if side == 0 else "r_") + k[2:]] = v
        elif k in ("hip", "knee", "shoulder", "elbow"):
            names[("r_" if side == 0 else "l_") + k] = v
        else:
            names[k] = v
    return pose(**names)


def smoothstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def timeline(num_frames: int, fps: float, times, values, ease: bool = True) -> np.ndarray:
    """Values at every frame from keys: ``times`` (K,) seconds ascending, ``values``
    (K, ...). Between keys the value moves with a smoothstep ease (zero velocity at each
    key: a pose is reached, then left); before the first key and after the last it holds.
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    t = np.arange(num_frames) / fps
    if len(times) == 1:
        return np.broadcast_to(values[0], (num_frames,) + values.shape[1:]).copy()
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    span = np.maximum(times[i + 1] - times[i], 1e-9)
    u = np.clip((t - times[i]) / span, 0.0, 1.0)
    if ease:
        u = smoothstep(u)
    u = u.reshape((-1,) + (1,) * (values.ndim - 1))
    return values[i] + u * (values[i + 1] - values[i])


def phases(durations, total: float, rng: np.random.Generator, pad: str = "both") -> np.ndarray:
    """Key times (K + 1,) for phases of ``durations`` seconds fitted to ``total`` seconds:
    squeezed uniformly when too long, else the slack is an idle hold at the start and/or
    end (``pad``: "both" random split, "end", "start")."""
    d = np.asarray(durations, dtype=np.float64)
    s = d.sum()
    if s > total:
        d = d * (total / s)
        start = 0.0
    else:
        slack = total - s
        start = {"both": rng.uniform(0.0, 1.0), "end": 0.0, "start": 1.0}[pad] * slack
    return start + np.concatenate([[0.0], np.cumsum(d)])


def constant_heading(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    return np.full(num_frames, rng.uniform(0.0, 2.0 * np.pi))


def heading_path(rng: np.random.Generator, num_frames: int, fps: float,
                 kind: str | None = None) -> np.ndarray:
    """A heading track: ``straight``, ``curved`` (constant turn rate 10–45°/s) or
    ``turn`` (45–180° within 0.6–1.5 s somewhere in the clip); random kind when None."""
    kind = kind or rng.choice(["straight", "curved", "turn"])
    h0 = rng.uniform(0.0, 2.0 * np.pi)
    t = np.arange(num_frames) / fps
    sign = rng.choice([-1.0, 1.0])
    if kind == "straight":
        return h0 + np.radians(rng.uniform(-3, 3)) * t
    if kind == "curved":
        return h0 + sign * np.radians(rng.uniform(10, 45)) * t
    dur = rng.uniform(0.6, 1.5)
    t0 = rng.uniform(0.0, max(t[-1] - dur, 0.0))
    return h0 + sign * np.radians(rng.uniform(45, 180)) * smoothstep((t - t0) / dur)


def deg(a) -> np.ndarray:
    return np.radians(np.asarray(a, dtype=np.float64))


def sway(rng: np.random.Generator, num_frames: int, fps: float, amp_deg: float = 4.0,
         joints=(7, 8, 9, 11, 12, 14, 15)) -> np.ndarray:
    """Small random drift (T, 17, 3) degrees of the upper body: keyframes every 0.5–1.2 s,
    uniform within ±``amp_deg`` (elbows only flex), eased in between."""
    dur = max(num_frames / fps, 1e-3)
    times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.5, 1.2, size=int(dur / 0.5) + 2))])
    times = times[: np.searchsorted(times, dur) + 1]
    vals = np.zeros((len(times), 17, 3))
    j = list(joints)
    vals[:, j] = rng.uniform(-amp_deg, amp_deg, size=(len(times), len(j), 3))
    for e in (12, 15):
        if e in j:
            vals[:, e, 0] = np.abs(vals[:, e, 0]) * 2
    return timeline(num_frames, fps, times, vals)


def sagittal_chain(body, knee: float, shank_tilt: float, stance_width: float | None = None
                   ) -> tuple[float, float]:
    """Pelvis (back, up) from a flat foot's ankle when the knee is bent ``knee`` and the shank
    leans forward ``shank_tilt`` (degrees): back = −l2 sin β + l1 sin(k − β), up = ankle
    height + l2 cos β + l1 cos(k − β). The thigh then points ``k − β`` forward of straight
    down (a squat's hip flexion is that plus the pelvis' forward tilt). With feet
    ``stance_width`` apart (wider than the hips) the legs lean sideways and the pelvis is
    correspondingly lower."""
    l1, l2 = float(body.length("thigh")), float(body.length("shank"))
    k, b = np.radians(knee), np.radians(shank_tilt)
    back = -l2 * np.sin(b) + l1 * np.sin(k - b)
    up = l2 * np.cos(b) + l1 * np.cos(k - b)
    if stance_width is not None:
        dx = (stance_width - float(body.length("hip_width"))) / 2
        up = np.sqrt(max(up * up - dx * dx, 1e-4))
    return float(back), float(body.ankle_height) + float(up)
