"""Everyday motions with the feet planted: sit down / stand up, bend and pick up, arm
raises and reaches. Legs by IK (:mod:`.ik`) under a pelvis that follows a path; trunk and
arms by keyframes (degrees, eased)."""

from __future__ import annotations

import numpy as np

from .ik import feet, leg_ik, standing_height
from .track import (AUTO, ELBOW, HIP, KNEE, NECK, PELVIS, SHOULDER, SIDE_SIGN, SPINE, THORAX,
                    Track, constant_heading, deg, phases, sagittal_chain, sway, timeline)


def _finish(rng, body, T, a_deg, pelvis, stance, knee_out_deg=(0, 15), ft=None) -> Track:
    a = deg(a_deg)
    ft = feet(body, stance, T) if ft is None else ft
    legs = leg_ik(body, pelvis, a[:, PELVIS], ft, knee_out=deg(rng.uniform(*knee_out_deg)))
    for j in HIP + KNEE:
        a[:, j] = legs[:, j]
    return Track(a, constant_heading(rng, T), np.full(T, AUTO, np.int8))


def sit_stand(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    """Sit down onto an (invisible) seat, stand up from it, or both."""
    dur = T / fps
    variant = rng.choice(["down_up", "down", "up"])
    stance = float(body.length("hip_width")) * rng.uniform(1.0, 1.6)
    knee, tilt = rng.uniform(80, 105), rng.uniform(-10, 12)
    y_s, z_s = sagittal_chain(body, knee, tilt, stance)
    thigh = knee - tilt
    seat_tilt = min(rng.uniform(-15, 10), 116 - thigh)
    lean = min(rng.uniform(25, 50), 116 - 0.8 * thigh)
    z_up = standing_height(body, stance, deg(rng.uniform(0, 5)))
    move = lambda: rng.uniform(0.8, 1.5)  # noqa: E731
    if variant == "down_up":
        times = phases([move(), rng.uniform(0.3, 1.2), move()], dur, rng)
        s = timeline(T, fps, times, [0, 1, 1, 0])
    elif variant == "down":
        times = phases([move()], dur, rng, pad="both")
        s = timeline(T, fps, times, [0, 1])
    else:
        times = phases([move()], dur, rng, pad="both")
        s = timeline(T, fps, times, [1, 0])
    bump = 4 * s * (1 - s)              # leaning forward while the pelvis travels
    pelvis = np.stack([np.zeros(T), y_s * s, z_up + (z_s - z_up) * s], axis=-1)
    a = np.zeros((T, 17, 3))
    a[:, PELVIS, 0] = seat_tilt * s + lean * bump
    a[:, SPINE, 0] = rng.uniform(0, 15) * s + rng.uniform(5, 20) * bump
    a[:, THORAX, 0] = rng.uniform(-5, 15) * s
    a[:, NECK, 0] = -0.4 * (a[:, PELVIS, 0] + a[:, SPINE, 0])
    style = rng.choice(["thighs", "hang", "cross", "push"])
    for side in (0, 1):
        sh, el = SHOULDER[side], ELBOW[side]
        if style == "thighs":
            a[:, sh, 0] = rng.uniform(20, 45) * s
            a[:, el, 0] = rng.uniform(20, 60) * s + 5
        elif style == "cross":
            a[:, sh] = (rng.uniform(25, 50), -rng.uniform(15, 30), -rng.uniform(10, 30))
            a[:, el, 0] = rng.uniform(100, 130)
        elif style == "push":
            a[:, sh, 0] = rng.uniform(20, 60) * bump + rng.uniform(0, 20) * s
            a[:, sh, 1] = rng.uniform(5, 20)
            a[:, el, 0] = rng.uniform(10, 40) * bump + 10
        else:
            a[:, sh, 0] = rng.uniform(0, 15) * s
            a[:, sh, 1] = rng.uniform(3, 10)
            a[:, el, 0] = rng.uniform(5, 30)
    a += sway(rng, T, fps, 3.0)
    return _finish(rng, body, T, a, pelvis, stance)


def pick_up(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    """Bend down (stooping on nearly straight legs, or squatting), grasp, come back up
    holding the object."""
    dur = T / fps
    stance = float(body.length("hip_width")) * rng.uniform(1.0, 1.8)
    z_up = standing_height(body, stance, deg(rng.uniform(0, 5)))
    if rng.random() < 0.5:  # stoop
        knee, tilt = rng.uniform(5, 35), rng.uniform(-10, 5)
        lean, spine, thorax = rng.uniform(50, 85), rng.uniform(15, 40), rng.uniform(10, 30)
    else:                   # squat
        knee, tilt = rng.uniform(70, 120), rng.uniform(15, 35)
        lean, spine, thorax = rng.uniform(25, 50), rng.uniform(10, 30), rng.uniform(0, 20)
    y_b, z_b = sagittal_chain(body, knee, tilt, stance)
    lean = min(lean, 116 - (knee - tilt))
    times = phases([rng.uniform(0.7, 1.3), rng.uniform(0.2, 0.6), rng.uniform(0.7, 1.3)], dur, rng)
    s = timeline(T, fps, times, [0, 1, 1, 0])
    hold = timeline(T, fps, times, [0, 0, 1, 1])     # object in hand from the grasp on
    pelvis = np.stack([np.zeros(T), y_b * s, z_up + (z_b - z_up) * s], axis=-1)
    a = np.zeros((T, 17, 3))
    twist = rng.uniform(-20, 20)
    a[:, PELVIS, 0] = lean * s
    a[:, SPINE] = np.array([spine, rng.uniform(-10, 10), twist * 0.4]) * s[:, None]
    a[:, THORAX] = np.array([thorax, 0, twist * 0.6]) * s[:, None]
    a[:, NECK, 0] = -min(rng.uniform(0.2, 0.6) * (lean + spine + thorax), 45) * s
    trunk = lean + spine + thorax
    hands = rng.choice([0, 1, 2])                     # right, left, both
    carry_sh, carry_el = rng.uniform(10, 35), rng.uniform(40, 95)
    for side in (0, 1):
        sh, el = SHOULDER[side], ELBOW[side]
        if hands in (side, 2):
            a[:, sh, 0] = (min(trunk * rng.uniform(0.7, 1.0) + rng.uniform(0, 20), 170) * s
                           + carry_sh * hold * (1 - s))
            a[:, sh, 1] = rng.uniform(0, 15) * s
            a[:, el, 0] = rng.uniform(0, 20) * s + carry_el * hold * (1 - s)
        else:
            a[:, sh, 0] = rng.uniform(10, 40) * s
            a[:, sh, 1] = rng.uniform(5, 25) * s
            a[:, el, 0] = rng.uniform(5, 40) * s + 5
    a += sway(rng, T, fps, 2.0)
    return _finish(rng, body, T, a, pelvis, stance)


def _standing_pelvis(rng, body, T, fps, stance, times, shift_keys):
    """Pelvis positions with small weight shifts (x, y offsets at ``times``)."""
    z = standing_height(body, stance, deg(rng.uniform(0, 8)))
    p = np.zeros((T, 3))
    p[:, :2] = timeline(T, fps, times, shift_keys)
    p[:, 2] = z - 0.5 * np.linalg.norm(p[:, :2], axis=-1) ** 2 / z  # stay within reach
    return p


def arm_raise(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    """Raises to the front or side, one arm or both, up to overhead; then back down."""
    dur = T / fps
    stance = float(body.length("hip_width")) * rng.uniform(0.9, 1.5)
    keys_t, keys_a = [0.0], [np.zeros((17, 3))]
    t = rng.uniform(0, 0.4)
    while t < dur:
        kind = rng.choice(["front", "side"])
        arms = [int(rng.integers(2))] if rng.random() < 0.4 else [0, 1]
        up = np.zeros((17, 3))
        for s in arms:
            if kind == "front":
                up[SHOULDER[s]] = (rng.uniform(60, 175), rng.uniform(-10, 20), rng.uniform(-20, 30))
            else:
                abd = rng.uniform(60, 170)
                twist = rng.uniform(0, 30) + max(abd - 90, 0) * 0.5  # turn out above horizontal
                up[SHOULDER[s]] = (rng.uniform(-10, 30), abd, twist)
            up[ELBOW[s], 0] = rng.uniform(0, 30)
        up[SPINE, 0] = -rng.uniform(0, 8) * (up[list(SHOULDER), :2].max() > 140)
        t_up = t + rng.uniform(0.4, 1.0)
        t_hold = t_up + rng.uniform(0, 0.5)
        keys_t += [t, t_up, t_hold]
        keys_a += [keys_a[-1] * 0, up, up]
        t = t_hold + rng.uniform(0.4, 1.0)
        keys_t.append(t)
        keys_a.append(np.zeros((17, 3)))
        t += rng.uniform(0, 0.3)
    times = np.array(keys_t)
    a = timeline(T, fps, times, np.array(keys_a))
    for s in (0, 1):
        a[:, SHOULDER[s], 1] += rng.uniform(2, 10)
        a[:, ELBOW[s], 0] += rng.uniform(0, 10)
    a += sway(rng, T, fps, 3.0)
    n = 4
    st = np.linspace(0, dur, n)
    pelvis = _standing_pelvis(rng, body, T, fps, stance, st, rng.uniform(-0.03, 0.03, (n, 2)))
    return _finish(rng, body, T, a, pelvis, stance, knee_out_deg=(0, 10))


def reach(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    """Reaching with one arm or both towards random targets, the trunk turning and leaning
    towards them and the weight shifting."""
    dur = T / fps
    stance = float(body.length("hip_width")) * rng.uniform(1.0, 1.8)
    keys_t, keys_a, keys_p = [0.0], [np.zeros((17, 3))], [np.zeros(2)]
    t = rng.uniform(0, 0.3)
    while t < dur:
        arms = [int(rng.integers(2))] if rng.random() < 0.7 else [0, 1]
        p = np.zeros((17, 3))
        for s in arms:
            p[SHOULDER[s]] = (rng.uniform(-30, 150), rng.uniform(-25, 110), rng.uniform(-40, 60))
            p[ELBOW[s], 0] = rng.uniform(0, 60)
        s = arms[0] if len(arms) == 1 else None
        toward = 0.0 if s is None else SIDE_SIGN[s]   # +1: reaching on the left side
        fwd = np.clip(p[list(SHOULDER), 0].max() / 90, 0, 1)
        p[SPINE] = (rng.uniform(0, 25) * fwd, toward * rng.uniform(0, 12), toward * rng.uniform(0, 15))
        p[THORAX] = (rng.uniform(0, 15) * fwd, toward * rng.uniform(0, 10), toward * rng.uniform(0, 25))
        p[PELVIS] = (rng.uniform(0, 20) * fwd, 0, toward * rng.uniform(0, 15))
        p[NECK] = (rng.uniform(-20, 20), 0, toward * rng.uniform(0, 40))
        shift = np.array([toward * rng.uniform(0, 0.06), -rng.uniform(0, 0.05) * fwd])
        t_go = t + rng.uniform(0.4, 1.0)
        t_hold = t_go + rng.uniform(0.1, 0.5)
        keys_t += [t_go, t_hold]
        keys_a += [p, p]
        keys_p += [shift, shift]
        t = t_hold
        if rng.random() < 0.5:   # back to neutral before the next reach
            t += rng.uniform(0.4, 1.0)
            keys_t.append(t)
            keys_a.append(np.zeros((17, 3)))
            keys_p.append(np.zeros(2))
    times = np.array(keys_t)
    a = timeline(T, fps, times, np.array(keys_a))
    for s in (0, 1):
        a[:, SHOULDER[s], 1] += rng.uniform(2, 10)
        a[:, ELBOW[s], 0] += rng.uniform(0, 15)
    a += sway(rng, T, fps, 2.0)
    pelvis = _standing_pelvis(rng, body, T, fps, stance, times, np.array(keys_p))
    return _finish(rng, body, T, a, pelvis, stance, knee_out_deg=(0, 10))
