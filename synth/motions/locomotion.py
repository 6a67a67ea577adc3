"""Walk, run and turn on the spot: periodic gait curves driven by a phase.

Sagittal hip/knee curves follow the textbook gait kinematics (Winter 2009; Perry &
Burnfield 2010; Novacheck 1998 for running): periodic cubic splines through key points of
the gait cycle (phase 0 = heel strike of that leg), the left leg half a cycle behind the
right. The body's path emerges from the feet (:mod:`.ground`): the stance foot never
slides, so speed = stride / cycle time follows from the cadence and the hip amplitude.
Heading tracks (straight, curved, turn) steer it. Running adds a flight phase: each
foot's stance lasts ``duty`` < ½ of the cycle and both feet are airborne in between.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

from .track import (AUTO, ELBOW, FLIGHT, HIP, KNEE, LEFT, NECK, PELVIS, RIGHT, SHOULDER, SPINE,
                    THORAX, Track, deg, heading_path, smoothstep)


def periodic(phase: np.ndarray, keys) -> np.ndarray:
    """Periodic cubic spline through ``keys`` [(phase in [0, 1), value), …] at ``phase``."""
    keys = sorted(keys)
    x = np.array([k[0] for k in keys] + [1.0 + keys[0][0]])
    y = np.array([k[1] for k in keys] + [keys[0][1]])
    return CubicSpline(x, y, bc_type="periodic")(np.mod(phase - x[0], 1.0) + x[0])


def _phases(rng, T, fps, freq):
    t = np.arange(T) / fps
    right = np.mod(rng.uniform(0, 1) + freq * t, 1.0)
    return right, np.mod(right + 0.5, 1.0)


def _trunk_and_arms(rng, a, ph, *, lean, pelvis_rot, obliquity, arm_amp, arm_flex, arm_abd,
                    elbow0, elbow_amp, bounce_neck=0.0):
    c = [np.cos(2 * np.pi * p) for p in ph]
    a[:, PELVIS, 0] = lean
    a[:, PELVIS, 1] = obliquity * np.sin(2 * np.pi * ph[0])
    a[:, PELVIS, 2] = pelvis_rot * c[0]
    a[:, SPINE, 0] = rng.uniform(-3, 6)
    a[:, SPINE, 2] = -0.4 * pelvis_rot * c[0]
    a[:, THORAX, 0] = rng.uniform(-5, 5)
    a[:, THORAX, 2] = -rng.uniform(0.4, 0.9) * pelvis_rot * c[0]
    a[:, NECK, 0] = rng.uniform(-10, 10) - 0.5 * lean + bounce_neck * c[0]
    a[:, NECK, 2] = rng.uniform(-8, 8)
    for s in (0, 1):
        a[:, SHOULDER[s], 0] = arm_flex - arm_amp * c[s]
        a[:, SHOULDER[s], 1] = arm_abd
        a[:, SHOULDER[s], 2] = rng.uniform(-10, 15)
        a[:, ELBOW[s], 0] = elbow0 + elbow_amp * (1 - c[s]) / 2


def _heel(phase, rise_from, toe_off, height):
    """Heel rise of a stance foot: up from ``rise_from`` to ``toe_off`` (phases), down after."""
    up = smoothstep((phase - rise_from) / max(toe_off - rise_from, 1e-6))
    return height * up * (1 - smoothstep((phase - toe_off) / 0.1))


def walk(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    freq = rng.uniform(0.8, 1.05)            # strides per second
    amp = rng.uniform(14, 24)                # thigh swing amplitude, degrees
    lean = rng.uniform(-2, 8)                # pelvis forward tilt
    ph = _phases(rng, T, fps, freq)
    a = np.zeros((T, 17, 3))
    k0, kl, km, kto, ks, kt = (rng.uniform(2, 8), rng.uniform(10, 20), rng.uniform(2, 8),
                               rng.uniform(33, 42), rng.uniform(55, 68), rng.uniform(15, 25))
    hip_off = rng.uniform(0.3, 0.5) * amp
    toe_out = rng.uniform(-5, 12)
    heel = np.zeros((T, 2))
    rise = rng.uniform(0.03, 0.07)
    for s in (0, 1):
        p = ph[s]
        a[:, HIP[s], 0] = lean + hip_off + amp * np.cos(2 * np.pi * (p - 0.04))
        a[:, HIP[s], 1] = rng.uniform(0, 4) * np.cos(2 * np.pi * (p - 0.1))
        a[:, HIP[s], 2] = toe_out
        a[:, KNEE[s], 0] = periodic(p, [(0, k0), (0.15, kl), (0.4, km), (0.6, kto), (0.72, ks),
                                        (0.88, kt)])
        heel[:, s] = _heel(p, 0.3, 0.6, rise)
    _trunk_and_arms(rng, a, ph, lean=lean, pelvis_rot=rng.uniform(2, 8),
                    obliquity=rng.uniform(1, 5), arm_amp=rng.uniform(8, 30) * amp / 20,
                    arm_flex=rng.uniform(0, 8), arm_abd=rng.uniform(5, 14),
                    elbow0=rng.uniform(8, 25), elbow_amp=rng.uniform(5, 20))
    return Track(deg(a), heading_path(rng, T, fps), np.full(T, AUTO, np.int8), heel=heel)


def run(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    freq = rng.uniform(1.25, 1.6)
    duty = rng.uniform(0.30, 0.40)           # stance fraction of each leg's cycle
    lean = rng.uniform(5, 15)
    ph = _phases(rng, T, fps, freq)
    a = np.zeros((T, 17, 3))
    # thigh angle from vertical at contact, mid-stance, toe-off, peak swing
    hc, hm, hto, hp = (rng.uniform(22, 35), rng.uniform(10, 20), rng.uniform(-25, -15),
                       rng.uniform(45, 65))
    kc, km, kto, kp, kl = (rng.uniform(12, 25), rng.uniform(35, 48), rng.uniform(15, 28),
                           rng.uniform(90, 125), rng.uniform(30, 45))
    swing = 1 - duty
    heel = np.zeros((T, 2))
    rise = rng.uniform(0.06, 0.11)
    for s in (0, 1):
        p = ph[s]
        a[:, HIP[s], 0] = lean + periodic(p, [(0, hc), (0.45 * duty, hm), (duty, hto),
                                              (duty + 0.6 * swing, hp)])
        a[:, HIP[s], 1] = rng.uniform(-3, 3)
        a[:, HIP[s], 2] = rng.uniform(-5, 10)
        a[:, KNEE[s], 0] = periodic(p, [(0, kc), (0.45 * duty, km), (duty, kto),
                                        (duty + 0.42 * swing, kp), (0.9, kl)])
        heel[:, s] = _heel(p, 0.45 * duty, duty, rise)
    _trunk_and_arms(rng, a, ph, lean=lean, pelvis_rot=rng.uniform(3, 10),
                    obliquity=rng.uniform(2, 6), arm_amp=rng.uniform(25, 45),
                    arm_flex=rng.uniform(10, 25), arm_abd=rng.uniform(8, 20),
                    elbow0=rng.uniform(70, 95), elbow_amp=rng.uniform(0, 20))
    contact = np.full(T, FLIGHT, np.int8)
    contact[ph[0] < duty] = RIGHT
    contact[ph[1] < duty] = LEFT
    heading = heading_path(rng, T, fps, kind=rng.choice(["straight", "curved"]))
    return Track(deg(a), heading, contact, heel=heel)


def turn(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    """Turning on the spot: stepping in place while the heading swings 90–360°."""
    freq = rng.uniform(0.7, 1.0)
    ph = _phases(rng, T, fps, freq)
    a = np.zeros((T, 17, 3))
    hs, ks = rng.uniform(12, 35), rng.uniform(25, 60)
    for s in (0, 1):
        lift = np.sin(np.pi * np.clip((ph[s] - 0.5) / 0.5, 0, 1)) ** 2  # swing half
        a[:, HIP[s], 0] = hs * lift + rng.uniform(0, 5)
        a[:, HIP[s], 2] = rng.uniform(-5, 10)
        a[:, KNEE[s], 0] = ks * lift + rng.uniform(0, 8)
    _trunk_and_arms(rng, a, ph, lean=rng.uniform(-2, 6), pelvis_rot=0.0,
                    obliquity=rng.uniform(1, 4), arm_amp=rng.uniform(0, 10),
                    arm_flex=rng.uniform(0, 10), arm_abd=rng.uniform(5, 15),
                    elbow0=rng.uniform(5, 40), elbow_amp=rng.uniform(0, 10))
    t = np.arange(T) / fps
    dur = max(t[-1], 1.0 / fps)
    total = rng.choice([-1, 1]) * deg(rng.uniform(90, 360))
    start = rng.uniform(0, 0.15) * dur
    heading = rng.uniform(0, 2 * np.pi) + total * smoothstep((t - start) / (0.85 * dur))
    lead = np.gradient(heading, 1.0 / fps) * 0.12   # the pelvis leads the turn a little
    a = deg(a)
    a[:, PELVIS, 2] = np.clip(lead, -deg(30), deg(30))
    a[:, THORAX, 2] = np.clip(lead, -deg(20), deg(20))
    a[:, NECK, 2] = np.clip(1.5 * lead, -deg(40), deg(40))
    return Track(a, heading, np.full(T, AUTO, np.int8))
