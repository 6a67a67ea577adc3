"""Standing and walking with the hands busy: talking, gesturing, phoning, waving, greeting,
looking around (the H36M "directions / discussion / greeting / phoning / waiting" kind of
standing), and carrying things while walking or standing.

Upper-body *activities* are keyframed poses (degrees) of the trunk, neck and arms, held
0.5–1.5 s and blended in 0.3–0.7 s; talking jitters the hands between gesture spots every
0.25–0.5 s, waving swings the forearm at 2–3 Hz. :func:`activity` is shared with the
seated motions (:mod:`.rest`). Standing legs by IK under a pelvis that shifts its weight
(:func:`.daily._standing_pelvis`); carrying reuses the walk / turn-on-the-spot gait of
:mod:`.locomotion` with the arms and trunk replaced by a carrying posture.
"""

from __future__ import annotations

import numpy as np

from . import locomotion
from .daily import _finish, _standing_pelvis
from .track import (ELBOW, NECK, PELVIS, SHOULDER, SIDE_SIGN, SPINE, THORAX, Track, deg, sway,
                    timeline)

STANDING = ("talk", "point", "cross_arms", "hips", "phone", "face", "wave", "handshake",
            "look", "hang")
SEATED = ("talk", "phone", "eat", "lean_fwd", "lean_back", "turn", "lap", "cross_arms", "face")


def _arm(p, s, sh, el):
    p[SHOULDER[s]] = sh
    p[ELBOW[s], 0] = el


def _rest_arms(rng, p, seated):
    for s in (0, 1):
        if seated:
            _arm(p, s, (rng.uniform(20, 40), rng.uniform(5, 15), rng.uniform(-10, 10)),
                 rng.uniform(40, 70))
        else:
            _arm(p, s, (rng.uniform(-5, 10), rng.uniform(5, 12), rng.uniform(-10, 10)),
                 rng.uniform(5, 20))


def _gesture_arm(rng, p, s):
    _arm(p, s, (rng.uniform(10, 55), rng.uniform(5, 35), rng.uniform(-20, 30)),
         rng.uniform(50, 110))


def _key(rng, kind: str, seated: bool) -> np.ndarray:
    """One activity pose (17, 3) degrees (legs and pelvis position untouched)."""
    p = np.zeros((17, 3))
    _rest_arms(rng, p, seated)
    s = int(rng.integers(2))
    toward = SIDE_SIGN[s]                          # +1: the left side
    if kind == "talk":
        for k in ([s] if rng.random() < 0.4 else [0, 1]):
            _gesture_arm(rng, p, k)
    elif kind == "point":
        _arm(p, s, (rng.uniform(70, 110), rng.uniform(0, 40), rng.uniform(0, 20)),
             rng.uniform(0, 15))
        p[THORAX, 2] = toward * rng.uniform(0, 20)
        p[NECK, 2] = toward * rng.uniform(10, 40)
    elif kind == "cross_arms":
        for k in (0, 1):
            _arm(p, k, (rng.uniform(25, 45), -rng.uniform(15, 30), -rng.uniform(10, 30)),
                 rng.uniform(105, 130))
    elif kind == "hips":
        for k in ([s] if rng.random() < 0.4 else [0, 1]):
            _arm(p, k, (rng.uniform(-15, 5), rng.uniform(25, 45), rng.uniform(-40, -20)),
                 rng.uniform(80, 110))
    elif kind == "phone":                          # hand to the ear, head tilted to it
        _arm(p, s, (rng.uniform(30, 55), rng.uniform(20, 45), rng.uniform(10, 40)),
             rng.uniform(132, 148))
        p[NECK, 1] = toward * rng.uniform(0, 12)
    elif kind in ("eat", "face"):                  # hand to the mouth / chin
        _arm(p, s, (rng.uniform(25, 45), rng.uniform(0, 15), -rng.uniform(15, 40)),
             rng.uniform(130, 146))
        p[NECK, 0] = rng.uniform(0, 15)
    elif kind == "wave":
        _arm(p, s, (rng.uniform(10, 40), rng.uniform(100, 150), rng.uniform(40, 80)),
             rng.uniform(20, 40))
    elif kind == "handshake":
        _arm(p, s, (rng.uniform(30, 55), rng.uniform(5, 15), rng.uniform(0, 20)),
             rng.uniform(30, 60))
        p[SPINE, 0] = rng.uniform(3, 10)
    elif kind == "look":
        p[NECK, 2] = toward * rng.uniform(30, 70)
        p[THORAX, 2] = toward * rng.uniform(0, 20)
        p[NECK, 0] = rng.uniform(-15, 15)
    elif kind == "lean_fwd":                       # elbows on the thighs
        p[PELVIS, 0] = rng.uniform(10, 25)
        p[SPINE, 0] = rng.uniform(5, 20)
        p[NECK, 0] = -rng.uniform(5, 25)
        for k in (0, 1):
            _arm(p, k, (rng.uniform(20, 45), rng.uniform(5, 15), rng.uniform(-10, 10)),
                 rng.uniform(70, 100))
    elif kind == "lean_back":
        p[PELVIS, 0] = -rng.uniform(8, 20)
        p[SPINE, 0] = -rng.uniform(0, 8)
        p[NECK, 0] = rng.uniform(0, 15)
        if rng.random() < 0.4:                     # hands behind the head
            for k in (0, 1):
                _arm(p, k, (rng.uniform(140, 165), rng.uniform(60, 90), rng.uniform(30, 60)),
                     rng.uniform(120, 140))
    elif kind == "turn":
        p[SPINE, 2] = toward * rng.uniform(5, 15)
        p[THORAX, 2] = toward * rng.uniform(10, 30)
        p[NECK, 2] = toward * rng.uniform(10, 40)
    return p


def activity(rng, T: int, fps: float, kinds, seated: bool = False) -> np.ndarray:
    """(T, 17, 3) degrees of trunk, neck and arm motion: a random sequence of ``kinds``."""
    dur = T / fps
    p0 = np.zeros((17, 3))
    _rest_arms(rng, p0, seated)
    times, keys = [0.0], [p0]
    t = rng.uniform(0, 0.4)
    while t < dur:
        kind = rng.choice(kinds)
        k = _key(rng, kind, seated)
        t += rng.uniform(0.3, 0.7)
        times.append(t)
        keys.append(k)
        end = t + rng.uniform(0.5, 1.5)
        if kind == "talk":                         # the hands keep moving while talking
            while t < end:
                t += rng.uniform(0.25, 0.5)
                k = k.copy()
                for s in (0, 1):
                    if k[ELBOW[s], 0] > 45:
                        k[SHOULDER[s]] += rng.uniform(-12, 12, 3)
                        k[ELBOW[s], 0] += rng.uniform(-20, 20)
                times.append(t)
                keys.append(k)
        elif kind == "wave":                       # forearm swings at 2–3 Hz
            s = int(np.argmax(k[list(SHOULDER), 1]))
            half, swing = rng.uniform(0.17, 0.25), rng.uniform(25, 45)
            while t < end:
                t += half
                k = k.copy()
                k[ELBOW[s], 0] += swing
                swing = -swing
                times.append(t)
                keys.append(k)
        else:
            t = end
            times.append(t)
            keys.append(k)
    return timeline(T, fps, np.array(times), np.array(keys))


def gesture(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    """Standing while talking, gesturing, pointing, phoning, waving, greeting or looking
    around, shifting the weight now and then."""
    dur = T / fps
    stance = float(body.length("hip_width")) * rng.uniform(0.9, 1.7)
    a = activity(rng, T, fps, STANDING)
    a += sway(rng, T, fps, 2.5)
    n = max(2, int(dur / rng.uniform(0.8, 2.0)) + 1)
    st = np.linspace(0, dur, n)
    shift = np.zeros((n, 2))
    shift[:, 0] = rng.uniform(-0.05, 0.05, n)      # the weight from foot to foot
    shift[:, 1] = rng.uniform(-0.02, 0.02, n)
    pelvis = _standing_pelvis(rng, body, T, fps, stance, st, shift)
    return _finish(rng, body, T, a, pelvis, stance, knee_out_deg=(0, 10))


CARRY = ("front", "bag", "shoulder")


def _carry_pose(rng, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """(17, 3) degrees replacing the trunk and arms, and (17, 3) 0/1: which angles the
    gait's own swing keeps (scaled down)."""
    p = np.zeros((17, 3))
    keep = np.zeros((17, 3))
    s = int(rng.integers(2))
    away = -SIDE_SIGN[s]                           # +1: leaning to the left
    if variant == "front":                         # both hands hold a box in front
        sh = (rng.uniform(25, 55), rng.uniform(5, 20), -rng.uniform(15, 35))
        el = rng.uniform(70, 100)
        for k in (0, 1):
            _arm(p, k, sh, el + rng.uniform(-5, 5))
        p[SPINE, 0] = -rng.uniform(2, 8)           # leaning back against the load
        p[THORAX, 0] = -rng.uniform(0, 5)
        p[NECK, 0] = rng.uniform(0, 15)
    elif variant == "bag":                         # one hand carries a bag at the side
        _arm(p, s, (rng.uniform(-5, 5), rng.uniform(3, 12), rng.uniform(-10, 10)),
             rng.uniform(0, 10))
        _arm(p, 1 - s, (rng.uniform(0, 15), rng.uniform(10, 30), rng.uniform(-10, 10)),
             rng.uniform(10, 30))
        keep[SHOULDER[1 - s], 0] = keep[ELBOW[1 - s], 0] = 1
        p[SPINE, 1] = away * rng.uniform(3, 10)
        p[THORAX, 1] = away * rng.uniform(3, 10)
        p[NECK, 1] = -away * rng.uniform(0, 8)
    else:                                          # an object held on the shoulder
        _arm(p, s, (rng.uniform(60, 100), rng.uniform(50, 85), rng.uniform(50, 85)),
             rng.uniform(125, 145))
        _arm(p, 1 - s, (rng.uniform(0, 15), rng.uniform(5, 20), rng.uniform(-10, 10)),
             rng.uniform(10, 40))
        keep[SHOULDER[1 - s], 0] = keep[ELBOW[1 - s], 0] = 1
        p[NECK, 1] = away * rng.uniform(5, 15)
        p[THORAX, 1] = away * rng.uniform(0, 6)
    return p, keep


def carry(rng: np.random.Generator, body, T: int, fps: float, variant: str | None = None
          ) -> Track:
    """Walking (or turning on the spot) while carrying: a box in both hands in front, a bag
    in one hand at the side (trunk leaning away from it), or a load on one shoulder."""
    variant = variant or rng.choice(CARRY)
    gait = locomotion.walk if rng.random() < 0.75 else locomotion.turn
    track = gait(rng, body, T, fps)
    p, keep = _carry_pose(rng, variant)
    a = track.angles
    up = [SPINE, THORAX, NECK, SHOULDER[0], SHOULDER[1], ELBOW[0], ELBOW[1]]
    gait_up = a[:, up].copy()
    a[:, up] = deg(p[up])[None] + gait_up * keep[up] * rng.uniform(0.2, 0.5)
    a[:, [SPINE, THORAX], 2] += 0.3 * gait_up[:, :2, 2]   # the trunk's counter-rotation, damped
    a[:, up] += deg(sway(rng, T, fps, 2.0))[:, up]
    track.angles = a
    return track

