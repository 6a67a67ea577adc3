"""Squat, lunge and jump: feet planted (two-bone IK) while the pelvis follows a path.

The pelvis path is given relative to the feet in the canonical frame (facing −Y, so
"back" is +Y); :func:`.ik.leg_ik` turns it into hip and knee angles. Depths come from a
sagittal chain (:func:`.track.sagittal_chain`): knee flexion and how far the shank leans
forward (ankle dorsiflexion, 10–40° in a flat-footed squat), which fixes where the pelvis
must be; the pelvis' forward tilt is capped so that hip flexion stays within its range.
"""

from __future__ import annotations

import numpy as np

from .ground import G
from .ik import feet, leg_ik, standing_height
from .track import (AUTO, ELBOW, FLIGHT, HIP, KNEE, NECK, PELVIS, SHOULDER, SPINE, THORAX,
                    Track, constant_heading, deg, phases, sagittal_chain, sway, timeline)


def _arms_style(rng, a, s, style=None):
    """Arms for squat-like motions; ``s`` (T,) the 0 → 1 depth profile. In degrees."""
    style = style or rng.choice(["forward", "hips", "head", "hang"])
    for side in (0, 1):
        sh, el = SHOULDER[side], ELBOW[side]
        if style == "forward":
            a[:, sh, 0] += rng.uniform(70, 100) * s
            a[:, sh, 1] += rng.uniform(0, 15) * s
            a[:, el, 0] += rng.uniform(0, 20) * s
        elif style == "hips":
            a[:, sh] += (rng.uniform(-15, 5), rng.uniform(25, 45), rng.uniform(-40, -20))
            a[:, el, 0] += rng.uniform(80, 110)
        elif style == "head":
            a[:, sh] += (rng.uniform(10, 40), rng.uniform(80, 110), rng.uniform(30, 70))
            a[:, el, 0] += rng.uniform(120, 145)
        else:
            a[:, sh, 0] += rng.uniform(0, 25) * s
            a[:, sh, 1] += rng.uniform(3, 12)
            a[:, el, 0] += rng.uniform(5, 25)
    return style


def squat(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    dur = T / fps
    stance = float(body.length("hip_width")) * rng.uniform(1.0, 1.9)
    z_top = standing_height(body, stance, deg(rng.uniform(0, 6)))
    knee, tilt = rng.uniform(105, 140), rng.uniform(15, 38)
    back, up = sagittal_chain(body, knee, tilt, stance)
    lean = min(rng.uniform(15, 45), 118 - (knee - tilt))
    # repetitions: down, hold, up, rest
    durs, vals = [], []
    while not durs or sum(durs) + 2.4 < dur * 0.95:
        depth = rng.uniform(0.85, 1.0)
        durs += [rng.uniform(0.6, 1.2), rng.uniform(0, 0.5), rng.uniform(0.5, 1.1),
                 rng.uniform(0.1, 0.5)]
        vals += [depth, depth, 0.0, 0.0]
    times = phases(durs, dur, rng)
    s = timeline(T, fps, times, [0.0] + vals)
    pelvis = np.stack([np.zeros(T), back * s, z_top + (up - z_top) * s], axis=-1)
    a = np.zeros((T, 17, 3))
    a[:, PELVIS, 0] = lean * s
    a[:, SPINE, 0] = rng.uniform(0, 15) * s
    a[:, THORAX, 0] = rng.uniform(-10, 5) * s
    a[:, NECK, 0] = -rng.uniform(0.3, 0.8) * (a[:, PELVIS, 0] + a[:, SPINE, 0] + a[:, THORAX, 0])
    _arms_style(rng, a, s)
    a += sway(rng, T, fps, 3.0)
    a = deg(a)
    legs = leg_ik(body, pelvis, a[:, PELVIS], feet(body, stance, T),
                  knee_out=deg(rng.uniform(0, 25)))
    for j in HIP + KNEE:
        a[:, j] = legs[:, j]
    return Track(a, constant_heading(rng, T), np.full(T, AUTO, np.int8))


def _reach_z(body, dx: float, dy: float, bend_deg: float, heel: float = 0.0) -> float:
    """Pelvis height at which a leg reaches an ankle ``dx``, ``dy`` away horizontally."""
    l1, l2 = float(body.length("thigh")), float(body.length("shank"))
    b = np.radians(bend_deg)
    reach2 = l1 * l1 + l2 * l2 + 2 * l1 * l2 * np.cos(b)
    return float(body.ankle_height) + heel + float(np.sqrt(max(reach2 - dx * dx - dy * dy, 1e-4)))


def lunge(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    """Forward lunge (the lead foot steps out) or reverse lunge (the other steps back)."""
    dur = T / fps
    lead = int(rng.integers(2))
    forward = rng.random() < 0.5
    l1, l2 = float(body.length("thigh")), float(body.length("shank"))
    hw = float(body.length("hip_width"))
    stance = hw * rng.uniform(0.9, 1.3)
    dx = (stance - hw) / 2
    # bottom of the lunge, relative to the front ankle (y = 0)
    y_p, z_p = sagittal_chain(body, rng.uniform(75, 100), rng.uniform(0, 20))
    e, kb = np.radians(rng.uniform(0, 15)), np.radians(rng.uniform(75, 100))  # back thigh, knee
    z_knee = z_p - l1 * np.cos(e)
    if z_knee < 0.1:            # keep the back knee off the floor: a shallower lunge
        z_p, z_knee = z_p + 0.1 - z_knee, 0.1
    heel_max = rng.uniform(0.06, 0.14)  # the back heel rises; its ankle at most this high
    kb = min(kb, np.arccos(np.clip((z_knee - float(body.ankle_height) - heel_max) / l2, -1, 1)) - e)
    y_back = y_p + l1 * np.sin(e) + l2 * np.sin(e + kb)
    z_back = max(z_knee - l2 * np.cos(e + kb), float(body.ankle_height))
    heel_bottom = z_back - float(body.ankle_height)
    z_top = min(_reach_z(body, dx, y_p, 10), _reach_z(body, dx, y_back - y_p, 10))
    z_stand = _reach_z(body, dx, 0, rng.uniform(0, 5))
    times = phases([rng.uniform(0.5, 0.9), rng.uniform(0.5, 1.0), rng.uniform(0, 0.4),
                    rng.uniform(0.5, 1.0), rng.uniform(0.5, 0.9)], dur, rng)
    # feet: the moving one arcs between its two spots
    y_start = y_back if forward else 0.0
    mover, y_from, y_to = (lead, y_back, 0.0) if forward else (1 - lead, 0.0, y_back)
    ft = feet(body, stance, T, y=(y_start, y_start))
    y_move = timeline(T, fps, times[[0, 1, 4, 5]], [y_from, y_to, y_to, y_from])
    ft[:, mover, 1] = y_move
    t = np.arange(T) / fps
    swing = rng.uniform(0.05, 0.12)
    for a0, a1 in ((times[0], times[1]), (times[4], times[5])):
        u = np.clip((t - a0) / max(a1 - a0, 1e-6), 0, 1)
        ft[:, mover, 2] += swing * np.sin(np.pi * u)
    trail = 1 - lead
    heel = np.zeros((T, 2))
    heel[:, trail] = timeline(T, fps, times, [0, 0.3 * heel_bottom, heel_bottom, heel_bottom,
                                              0.3 * heel_bottom, 0])
    ft[:, trail, 2] += heel[:, trail]
    y_c = y_start  # standing: the pelvis over the feet
    pelvis = np.zeros((T, 3))
    pelvis[:, 1] = timeline(T, fps, times, [y_c, y_p, y_p, y_p, y_p, y_c])
    # the pelvis settles to the top height by mid-step, so the stepping leg can reach its
    # spot all the way down (it would be out of reach just before landing otherwise)
    tz = np.concatenate([times[:1], [(times[0] + times[1]) / 2], times[1:5],
                         [(times[4] + times[5]) / 2], times[5:]])
    pelvis[:, 2] = timeline(T, fps, tz, [z_stand, z_top, z_top, z_p, z_p, z_top, z_top, z_stand])
    s = timeline(T, fps, times, [0, 0.3, 1, 1, 0.3, 0])
    a = np.zeros((T, 17, 3))
    a[:, PELVIS, 0] = rng.uniform(-10, 5) * s   # a forward tilt would extend the back hip further
    a[:, PELVIS, 2] = (1 if lead == 1 else -1) * rng.uniform(0, 10) * s  # lead side back a bit
    a[:, SPINE, 0] = rng.uniform(-5, 10) * s
    a[:, THORAX, 2] = rng.uniform(-10, 10) * s
    _arms_style(rng, a, s, style=rng.choice(["hips", "hang", "forward"]))
    a += sway(rng, T, fps, 3.0)
    a = deg(a)
    legs = leg_ik(body, pelvis, a[:, PELVIS], ft, knee_out=deg(rng.uniform(0, 10)))
    for j in HIP + KNEE:
        a[:, j] = legs[:, j]
    return Track(a, constant_heading(rng, T), np.full(T, AUTO, np.int8), heel=heel)


def jump(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    """Countermovement jump, straight up or forward (broad jump): crouch, push off, fly
    (ballistic: 8–40 cm of rise), land and absorb, recover."""
    dur = T / fps
    rise = rng.uniform(0.08, 0.40)
    t_fly = np.sqrt(8 * rise / G)
    dist = 0.0 if rng.random() < 0.5 else rng.uniform(0.3, 1.1)
    others = [rng.uniform(0.1, 0.4), rng.uniform(0.3, 0.6), rng.uniform(0.15, 0.3)]
    after = [rng.uniform(0.2, 0.4), rng.uniform(0.3, 0.7)]
    avail = dur - t_fly - 2.0 / fps
    squeeze = min(1.0, avail / (sum(others) + sum(after)))
    d = [x * squeeze for x in others] + [t_fly] + [x * squeeze for x in after]
    times = phases(d, dur, rng, pad="end" if squeeze < 1 else "both")
    t_off, t_land = times[3], times[4]
    stance = float(body.length("hip_width")) * rng.uniform(1.0, 1.6)
    z_stand = standing_height(body, stance, deg(rng.uniform(0, 5)))
    heel_off = rng.uniform(0.05, 0.10)
    z_off = standing_height(body, stance, 0.0) - 1e-3 + heel_off
    yc, zc = sagittal_chain(body, rng.uniform(60, 100), rng.uniform(10, 30), stance)
    ya, za = sagittal_chain(body, rng.uniform(40, 90), rng.uniform(10, 30), stance)
    land_knee = rng.uniform(8, 25)
    yl, zl = sagittal_chain(body, land_knee, land_knee / 2, stance)
    heel_land = rng.uniform(0.02, 0.06)
    # pelvis relative to the feet: before take-off and after landing (separate foot spots)
    pel = np.zeros((T, 3))
    pel[:, 1] = timeline(T, fps, times, [0, yc, 0, 0, yl, ya, 0])
    pel[:, 2] = timeline(T, fps, times, [z_stand, zc, z_off, z_off, zl + heel_land, za, z_stand])
    heel = np.zeros((T, 2))
    heel[:] = timeline(T, fps, times, [0, 0, heel_off, heel_off, heel_land, 0, 0])[:, None]
    ft = feet(body, stance, T)
    ft[..., 2] += heel
    lean_c, lean_a = rng.uniform(20, 45), rng.uniform(10, 35)
    a = np.zeros((T, 17, 3))
    a[:, PELVIS, 0] = timeline(T, fps, times, [0, min(lean_c, 118 - 80), rng.uniform(0, 10),
                                               rng.uniform(0, 10), 5, lean_a, 0])
    a[:, SPINE, 0] = timeline(T, fps, times, [0, rng.uniform(5, 20), 0, 0, 5, rng.uniform(5, 15), 0])
    a[:, NECK, 0] = -0.5 * a[:, PELVIS, 0]
    arm_back, arm_up = -rng.uniform(30, 60), rng.uniform(100, 170)
    fly_arm, land_arm = rng.uniform(40, 100), rng.uniform(30, 70)
    for s in (0, 1):
        a[:, SHOULDER[s], 0] = timeline(T, fps, times, [0, arm_back, arm_up, fly_arm, land_arm,
                                                        land_arm * 0.5, 0])
        a[:, SHOULDER[s], 1] = rng.uniform(5, 20)
        a[:, ELBOW[s], 0] = timeline(T, fps, times, [10, rng.uniform(10, 30), 5, 20,
                                                     rng.uniform(20, 50), 20, 10])
    a += sway(rng, T, fps, 2.0)
    a = deg(a)
    legs = leg_ik(body, pel, a[:, PELVIS], ft, knee_out=deg(rng.uniform(0, 15)))
    # in the air: from the take-off pose through a tuck to the landing pose
    f_off, f_land = int(np.floor(t_off * fps)), int(np.ceil(t_land * fps))
    f_off, f_land = min(max(f_off, 0), T - 1), min(max(f_land, f_off + 1), T - 1)
    tuck_hip, tuck_knee = deg(rng.uniform(15, 55)), deg(rng.uniform(30, 90))
    air = slice(f_off + 1, f_land)
    n = f_land - f_off
    for j in HIP + KNEE:
        a[:, j] = legs[:, j]
    if n > 1:
        u = np.arange(1, n) / n
        bump = np.sin(np.pi * u)[:, None]
        for s in (0, 1):
            for j, extra in ((HIP[s], tuck_hip), (KNEE[s], tuck_knee)):
                a[air, j] = (1 - u[:, None]) * legs[f_off, j] + u[:, None] * legs[f_land, j]
                a[air, j, 0] += extra * bump[:, 0]
    contact = np.full(T, AUTO, np.int8)
    contact[air] = FLIGHT
    vel = np.zeros((T, 2))
    vel[:, 0] = dist / t_fly
    return Track(a, constant_heading(rng, T), contact, flight_velocity=vel, heel=heel)
