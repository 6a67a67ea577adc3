"""Front and side kicks: one leg stands (IK keeps its foot planted under a pelvis that
shifts over it), the other chambers, extends and recoils through keyframed angles.

The kicking leg blends from its own planted-foot IK solution (standing) into the kick
keyframes and back, so it leaves and returns to its spot on the floor. Arms hold a guard.
Front kick: hip flexion 60–110° with the knee snapping straight, the pelvis tilting back to
add height. Side kick: the pelvis turns towards the standing side and tips up on the
kicking side, the trunk leans away, the hip abducts and turns in as the knee extends.
"""

from __future__ import annotations

import numpy as np

from .ik import feet, leg_ik, standing_height
from .track import (AUTO, ELBOW, HIP, KNEE, NECK, PELVIS, SHOULDER, SIDE_SIGN, SPINE, THORAX,
                    Track, constant_heading, deg, phases, sway, timeline)


def _kick(rng, body, T, fps, kick_pose, trunk_pose, n_max=2):
    """Shared timing and blending; ``kick_pose(rng) -> (chamber hip, chamber knee, extended
    hip, extended knee)`` in degrees, ``trunk_pose(rng, side) -> (pelvis, spine)`` at full
    extension."""
    dur = T / fps
    side = int(rng.integers(2))
    stand = 1 - side
    hw = float(body.length("hip_width"))
    stance = hw * rng.uniform(1.0, 1.5)
    l1, l2 = float(body.length("thigh")), float(body.length("shank"))
    bend = np.radians(rng.uniform(5, 20))
    reach = np.sqrt(l1 * l1 + l2 * l2 + 2 * l1 * l2 * np.cos(bend))
    shift = SIDE_SIGN[stand] * rng.uniform(0.6, 1.0) * stance / 2
    dx = stance / 2 - abs(shift) - hw / 2
    z_kick = float(body.ankle_height) + np.sqrt(max(reach * reach - dx * dx, 1e-4))
    z_stand = standing_height(body, stance, np.radians(3.0))
    n = 1 if dur < 3.0 else int(rng.integers(1, n_max + 1))
    # per kick: shift, chamber, extend, hold, recoil, down, unshift
    durs = []
    for _ in range(n):
        durs += [rng.uniform(0.2, 0.4), rng.uniform(0.2, 0.4), rng.uniform(0.1, 0.25),
                 rng.uniform(0, 0.15), rng.uniform(0.15, 0.3), rng.uniform(0.2, 0.4),
                 rng.uniform(0.2, 0.4)]
    times = phases(durs, dur, rng)
    w_keys, x_keys, z_keys, e_keys = [1.0], [0.0], [z_stand], [0.0]
    hip_keys, knee_keys, pel_keys, spine_keys = [np.zeros(3)], [0.0], [np.zeros(3)], [np.zeros(3)]
    for _ in range(n):
        ch_hip, ch_knee, ex_hip, ex_knee = kick_pose(rng)
        pel, spine = trunk_pose(rng, side)
        w_keys += [1, 0, 0, 0, 0, 1, 1]
        x_keys += [shift] * 6 + [0.0]
        z_keys += [z_kick] * 6 + [z_stand]
        e_keys += [0.2, 0.6, 1, 1, 0.6, 0.2, 0]   # effort: trunk and pelvis follow it
        hip_keys += [np.zeros(3), ch_hip, ex_hip, ex_hip, ch_hip, np.zeros(3), np.zeros(3)]
        knee_keys += [0.0, ch_knee, ex_knee, ex_knee, ch_knee, 0.0, 0.0]
        pel_keys += [pel] * 7
        spine_keys += [spine] * 7
    w = timeline(T, fps, times, w_keys)
    effort = timeline(T, fps, times, e_keys)
    pelvis = np.zeros((T, 3))
    pelvis[:, 0] = timeline(T, fps, times, x_keys)
    pelvis[:, 2] = timeline(T, fps, times, z_keys)
    a = np.zeros((T, 17, 3))
    a[:, PELVIS] = timeline(T, fps, times, pel_keys) * effort[:, None]
    a[:, SPINE] = timeline(T, fps, times, spine_keys) * effort[:, None]
    a[:, THORAX, 0] = -0.3 * a[:, SPINE, 0]
    a[:, NECK, 0] = -0.5 * (a[:, PELVIS, 0] + a[:, SPINE, 0])
    a[:, NECK, 1] = -0.6 * (a[:, PELVIS, 1] + a[:, SPINE, 1])
    g = timeline(T, fps, times[[0, 1, -2, -1]], [0, 1, 1, 0])   # guard up, then down at the end
    for s in (0, 1):
        a[:, SHOULDER[s]] = np.array([rng.uniform(20, 55), rng.uniform(10, 30),
                                      rng.uniform(-20, 10)]) * g[:, None]
        a[:, ELBOW[s], 0] = rng.uniform(90, 130) * g
    a += sway(rng, T, fps, 2.0)
    a = deg(a)
    ik = leg_ik(body, pelvis, a[:, PELVIS], feet(body, stance, T),
                knee_out=deg(rng.uniform(0, 10)))
    for j in HIP + KNEE:
        a[:, j] = ik[:, j]
    keyed_hip = deg(timeline(T, fps, times, hip_keys))
    keyed_knee = deg(timeline(T, fps, times, knee_keys))
    wk = w[:, None]
    a[:, HIP[side]] = wk * ik[:, HIP[side]] + (1 - wk) * keyed_hip
    a[:, KNEE[side], 0] = w * ik[:, KNEE[side], 0] + (1 - w) * keyed_knee
    return Track(a, constant_heading(rng, T), np.full(T, AUTO, np.int8))


def front_kick(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    def kick(r):
        ch = np.array([r.uniform(60, 100), r.uniform(-5, 10), r.uniform(-10, 10)])
        ex = np.array([r.uniform(60, 110), ch[1], ch[2]])
        return ch, r.uniform(90, 130), ex, r.uniform(0, 15)

    def trunk(r, side):
        return (np.array([-r.uniform(5, 20), 0, 0]),
                np.array([-r.uniform(0, 15), 0, r.uniform(-10, 10)]))

    return _kick(rng, body, T, fps, kick, trunk)


def side_kick(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    def kick(r):
        ch = np.array([r.uniform(50, 90), r.uniform(20, 35), -r.uniform(10, 30)])
        ex = np.array([r.uniform(5, 35), r.uniform(35, 50), -r.uniform(10, 35)])
        return ch, r.uniform(90, 130), ex, r.uniform(0, 10)

    def trunk(r, side):
        sign = 1.0 if side == 0 else -1.0   # kicking right: tip the right side up, lean left
        pel = np.array([r.uniform(-5, 10), sign * r.uniform(10, 30), sign * r.uniform(20, 45)])
        spine = np.array([r.uniform(-5, 10), sign * r.uniform(5, 25), sign * r.uniform(0, 15)])
        return pel, spine

    return _kick(rng, body, T, fps, kick, trunk)
