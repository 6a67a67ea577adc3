"""Dance steps and sport actions: feet placed by IK (:mod:`.ik`) on spots that change when
a foot steps (lifted on a sine arc between them), pelvis and upper body keyframed.

``dance``: step-touch side to side on a beat of 95–130 bpm (the leading foot steps, the
other closes), sometimes turning with the steps, knees bouncing on the beat, hips swaying,
arms changing every one or two beats between overhead, out to the sides, in front and
pumping. ``sport``: an overhand throw (step with the opposite foot, arm cocked, trunk
rotating through), a golf or baseball swing (trunk twist, feet planted), a tennis-like
forehand with a step, and a football kick (step in beside the ball, swing the kicking leg
through, land it ahead); the kicking leg blends from its planted-foot IK into keyframes
and back, as in :mod:`.kicks`.
"""

from __future__ import annotations

import numpy as np

from .ik import feet, leg_ik, standing_height
from .track import (AUTO, ELBOW, HIP, KNEE, NECK, PELVIS, SHOULDER, SIDE_SIGN, SPINE, THORAX,
                    Track, constant_heading, deg, phases, smoothstep, sway, timeline)


def _step(ft, T, fps, foot, t0, t1, target, lift):
    """Move ``foot``'s target from where it is at ``t0`` to ``target`` (x, y) by ``t1``,
    on an arc ``lift`` metres high."""
    t = np.arange(T) / fps
    u = smoothstep((t - t0) / max(t1 - t0, 1e-6))
    start = ft[min(int(t0 * fps), T - 1), foot, :2].copy()
    after = t >= t0
    ft[after, foot, :2] = start + u[after, None] * (np.asarray(target) - start)
    ft[:, foot, 2] += lift * np.sin(np.pi * np.clip((t - t0) / max(t1 - t0, 1e-6), 0, 1))


def _legs(body, a, pelvis, ft, knee_out):
    legs = leg_ik(body, pelvis, a[:, PELVIS], ft, knee_out=knee_out)
    for j in HIP + KNEE:
        a[:, j] = legs[:, j]
    return a


def dance(rng: np.random.Generator, body, T: int, fps: float) -> Track:
    """Step-touch side to side on the beat, maybe turning, arms over the head and out."""
    dur = T / fps
    beat = 60.0 / rng.uniform(95, 130)
    hw = float(body.length("hip_width"))
    st = hw * rng.uniform(1.0, 1.4)
    width = rng.uniform(0.12, 0.3)
    lift = rng.uniform(0.03, 0.08)
    t0 = rng.uniform(0, beat)
    nb = int((dur - t0) / beat) + 1
    ft = feet(body, st, T)
    c = np.zeros(nb + 1)                          # centre between the feet after each beat
    d0 = rng.choice([-1.0, 1.0])
    for k in range(1, nb + 1):
        c[k] = d0 * width / 2 * (1 if k % 2 else -1) if k > 1 else d0 * width / 2
    for k in range(1, nb + 1):
        tk = t0 + (k - 1) * beat
        lead = 1 if c[k] > c[k - 1] else 0        # the foot on the side we move to
        for i, foot in enumerate((lead, 1 - lead)):
            x = c[k] + SIDE_SIGN[foot] * st / 2
            _step(ft, T, fps, foot, tk + i * beat / 2, tk + (i + 0.9) * beat / 2, (x, 0.0), lift)
    t = np.arange(T) / fps
    ph = (t - t0) / beat
    key_t = t0 + beat * np.arange(-1, nb + 1) + beat * 0.6
    pel = np.zeros((T, 3))
    pel[:, 0] = timeline(T, fps, key_t, np.concatenate([[0.0], c]))
    bounce = rng.uniform(0.02, 0.05)
    z0 = standing_height(body, st + width, deg(rng.uniform(10, 20)))
    pel[:, 2] = z0 - bounce * np.sin(np.pi * np.clip(ph, 0, None)) ** 2
    a = np.zeros((T, 17, 3))
    sway_amp = rng.uniform(3, 9)
    a[:, PELVIS, 1] = sway_amp * np.sin(np.pi * ph)
    a[:, PELVIS, 0] = rng.uniform(-3, 8)
    a[:, THORAX, 1] = -0.6 * sway_amp * np.sin(np.pi * ph)
    a[:, NECK, 0] = rng.uniform(-10, 10) + rng.uniform(0, 8) * np.sin(2 * np.pi * ph)
    every = beat * rng.choice([1, 2])
    n_keys = int(dur / every) + 2
    keys = np.zeros((n_keys, 17, 3))
    for i in range(n_keys):
        style = rng.choice(["overhead", "side_up", "sides", "front", "pump", "one_up"])
        for s in (0, 1):
            sh, el = SHOULDER[s], ELBOW[s]
            if style == "overhead" or (style == "one_up" and s == i % 2):
                keys[i, sh] = (rng.uniform(145, 170), rng.uniform(5, 35), rng.uniform(-10, 30))
                keys[i, el, 0] = rng.uniform(0, 40)
            elif style == "side_up":
                keys[i, sh] = (rng.uniform(0, 30), rng.uniform(120, 165), rng.uniform(30, 70))
                keys[i, el, 0] = rng.uniform(0, 40)
            elif style == "sides":
                keys[i, sh] = (rng.uniform(-10, 20), rng.uniform(70, 100), rng.uniform(0, 40))
                keys[i, el, 0] = rng.uniform(0, 60)
            elif style == "front":
                keys[i, sh] = (rng.uniform(60, 100), rng.uniform(0, 30), rng.uniform(-20, 20))
                keys[i, el, 0] = rng.uniform(20, 90)
            else:
                keys[i, sh] = (rng.uniform(15, 60), rng.uniform(10, 35), rng.uniform(-10, 20))
                keys[i, el, 0] = rng.uniform(80, 125)
    a += timeline(T, fps, t0 + every * np.arange(n_keys), keys)
    a += sway(rng, T, fps, 3.0)
    heading = constant_heading(rng, T)
    if rng.random() < 0.5:                        # turning with the steps, pivoting on the
        total = rng.choice([-1, 1]) * deg(rng.uniform(90, 360))   # standing foot only
        lifted = np.clip(ft[..., 2] - float(body.ankle_height), 0, None).max(axis=1)
        k0 = rng.uniform(0, 0.4) * dur
        turn = lifted * ((t >= k0) & (t <= k0 + rng.uniform(0.4, 0.6) * dur))
        if turn.sum() > 0:
            heading = heading + total * np.cumsum(turn) / turn.sum()
    a = deg(a)
    a = _legs(body, a, pel, ft, deg(rng.uniform(0, 15)))
    return Track(a, heading, np.full(T, AUTO, np.int8))


SPORT = ("throw", "swing", "forehand", "kick")


def _arm(p, s, sh, el):
    p[SHOULDER[s]] = sh
    p[ELBOW[s], 0] = el


def _throw_keys(rng, s):
    """ready, wind-up, release, follow-through (17, 3) degrees; ``s`` the throwing arm."""
    o, tw = 1 - s, SIDE_SIGN[s]                   # trunk turns towards ``tw`` (+: left)
    k = np.zeros((4, 17, 3))
    for p in k:
        _arm(p, o, (rng.uniform(0, 20), rng.uniform(5, 20), 0), rng.uniform(10, 40))
    _arm(k[0], s, (rng.uniform(0, 20), rng.uniform(5, 20), 0), rng.uniform(20, 60))
    _arm(k[1], s, (rng.uniform(0, 25), rng.uniform(80, 100), rng.uniform(60, 85)),
         rng.uniform(80, 100))
    _arm(k[1], o, (rng.uniform(50, 90), rng.uniform(10, 40), 0), rng.uniform(0, 30))
    k[1, PELVIS, 2] = tw * rng.uniform(15, 35)
    k[1, SPINE, 2], k[1, THORAX, 2] = tw * rng.uniform(5, 15), tw * rng.uniform(15, 30)
    k[1, PELVIS, 0], k[1, SPINE, 1] = -rng.uniform(0, 10), -tw * rng.uniform(0, 10)
    _arm(k[2], s, (rng.uniform(100, 140), rng.uniform(60, 90), rng.uniform(20, 50)),
         rng.uniform(15, 40))
    k[2, PELVIS, 2], k[2, THORAX, 2] = -tw * rng.uniform(10, 25), -tw * rng.uniform(15, 30)
    k[2, PELVIS, 0], k[2, SPINE, 0] = rng.uniform(10, 25), rng.uniform(5, 15)
    _arm(k[3], s, (rng.uniform(50, 80), rng.uniform(-10, 10), -rng.uniform(20, 45)),
         rng.uniform(20, 45))
    _arm(k[3], o, (rng.uniform(-20, 10), rng.uniform(10, 30), 0), rng.uniform(20, 60))
    k[3, PELVIS, 2], k[3, THORAX, 2] = -tw * rng.uniform(20, 35), -tw * rng.uniform(20, 32)
    k[3, PELVIS, 0], k[3, SPINE, 0] = rng.uniform(20, 35), rng.uniform(10, 25)
    k[:, NECK, 0] = -0.5 * k[:, PELVIS, 0]
    k[:, NECK, 2] = -0.6 * (k[:, PELVIS, 2] + k[:, THORAX, 2])   # eyes stay on the target
    return k


def _forehand_keys(rng, s):
    o, tw = 1 - s, SIDE_SIGN[s]
    k = np.zeros((4, 17, 3))
    for p in k:
        _arm(p, o, (rng.uniform(20, 50), rng.uniform(0, 20), 0), rng.uniform(30, 70))
        p[PELVIS, 0], p[SPINE, 0] = rng.uniform(5, 20), rng.uniform(0, 10)
    _arm(k[0], s, (rng.uniform(20, 45), rng.uniform(5, 20), 0), rng.uniform(40, 80))
    _arm(k[1], s, (rng.uniform(-25, 0), rng.uniform(40, 70), rng.uniform(30, 60)),
         rng.uniform(20, 50))
    _arm(k[1], o, (rng.uniform(60, 90), -rng.uniform(0, 15), 0), rng.uniform(10, 40))
    k[1, PELVIS, 2], k[1, THORAX, 2] = tw * rng.uniform(20, 40), tw * rng.uniform(20, 35)
    _arm(k[2], s, (rng.uniform(40, 70), rng.uniform(30, 50), rng.uniform(0, 20)),
         rng.uniform(10, 30))
    _arm(k[3], s, (rng.uniform(80, 120), -rng.uniform(0, 20), -rng.uniform(20, 50)),
         rng.uniform(60, 100))
    k[3, PELVIS, 2], k[3, THORAX, 2] = -tw * rng.uniform(20, 35), -tw * rng.uniform(20, 32)
    k[:, NECK, 2] = -0.6 * (k[:, PELVIS, 2] + k[:, THORAX, 2])
    return k


def _swing_keys(rng, s, golf):
    """address, back-swing, impact, follow-through; ``s`` the trailing (back) arm's side."""
    o, tw = 1 - s, SIDE_SIGN[s]
    k = np.zeros((4, 17, 3))
    lean = rng.uniform(25, 38) if golf else rng.uniform(0, 12)
    for p in k:
        p[PELVIS, 0], p[SPINE, 0] = lean, rng.uniform(0, 10)
        p[NECK, 0] = -0.6 * lean
    if golf:
        for i in (0, 2):
            for side in (0, 1):
                _arm(k[i], side, (rng.uniform(40, 60), -rng.uniform(5, 20), -rng.uniform(10, 30)),
                     rng.uniform(0, 15))
    else:
        for i in (0, 2):
            _arm(k[i], s, (rng.uniform(40, 70), rng.uniform(40, 70), rng.uniform(0, 30)),
                 rng.uniform(90, 120))
            _arm(k[i], o, (rng.uniform(50, 80), -rng.uniform(0, 15), -rng.uniform(0, 20)),
                 rng.uniform(60, 100))
        _arm(k[2], s, (rng.uniform(70, 95), rng.uniform(0, 30), 0), rng.uniform(10, 40))
        _arm(k[2], o, (rng.uniform(70, 95), rng.uniform(0, 20), 0), rng.uniform(0, 20))
    # back-swing: the lead arm across the chest, the trail arm folded up
    _arm(k[1], o, (rng.uniform(90, 125), -rng.uniform(15, 30), -rng.uniform(0, 20)),
         rng.uniform(0, 20))
    _arm(k[1], s, (rng.uniform(60, 95), rng.uniform(30, 60), rng.uniform(40, 70)),
         rng.uniform(80, 110))
    k[1, PELVIS, 2] = tw * rng.uniform(20, 40)
    k[1, SPINE, 2], k[1, THORAX, 2] = tw * rng.uniform(10, 20), tw * rng.uniform(25, 35)
    k[2, PELVIS, 2] = -tw * rng.uniform(5, 20)
    # follow-through: mirrored, the trail arm across
    _arm(k[3], s, (rng.uniform(90, 130), -rng.uniform(15, 30), -rng.uniform(0, 20)),
         rng.uniform(0, 30))
    _arm(k[3], o, (rng.uniform(60, 110), rng.uniform(30, 60), rng.uniform(40, 70)),
         rng.uniform(80, 120))
    k[3, PELVIS, 2] = -tw * rng.uniform(30, 45)
    k[3, SPINE, 2], k[3, THORAX, 2] = -tw * rng.uniform(10, 20), -tw * rng.uniform(25, 35)
    k[3, PELVIS, 0] = lean * rng.uniform(0.2, 0.6)
    k[:, NECK, 2] = -0.5 * (k[:, PELVIS, 2] + k[:, THORAX, 2])   # eyes on the ball
    return k


def sport(rng: np.random.Generator, body, T: int, fps: float, variant: str | None = None
          ) -> Track:
    """An overhand throw, a golf or bat swing, a tennis-like forehand, or a football kick."""
    dur = T / fps
    variant = variant or rng.choice(SPORT)
    s = int(rng.integers(2))                       # throwing / racket / trailing / kicking side
    hw = float(body.length("hip_width"))
    wide = variant == "swing"
    st = hw * (rng.uniform(1.6, 2.2) if wide else rng.uniform(1.0, 1.5))
    ft = feet(body, st, T)
    durs = [rng.uniform(0.3, 0.6), rng.uniform(0.15, 0.3), rng.uniform(0.2, 0.4),
            rng.uniform(0.5, 0.9)]
    if variant == "swing":
        durs[0] = rng.uniform(0.7, 1.1)            # a slow back-swing
    times = phases(durs, dur, rng)                 # ready → back → strike → follow → ready
    a = np.zeros((T, 17, 3))
    pel = np.zeros((T, 3))
    step = rng.uniform(0.25, 0.5)
    bend = rng.uniform(8, 22) if variant != "swing" else rng.uniform(15, 28)
    z = standing_height(body, np.hypot(st, step) + 0.3 * st * wide, deg(bend))
    pel[:, 2] = z
    knee_out = deg(rng.uniform(0, 15))
    o = 1 - s
    if variant == "swing":
        keys = _swing_keys(rng, s, golf=rng.random() < 0.5)
        a += timeline(T, fps, times, np.concatenate([keys, keys[:1]]))
        shift = SIDE_SIGN[s] * st * rng.uniform(0.06, 0.14)   # weight back, then through
        pel[:, 0] = timeline(T, fps, times, [0, shift, -shift * 0.5, -shift, 0])
        pel[:, 1] = rng.uniform(0.0, 0.1) * (keys[0, PELVIS, 0] > 20)
    elif variant in ("throw", "forehand"):
        keys = (_throw_keys if variant == "throw" else _forehand_keys)(rng, s)
        a += timeline(T, fps, times, np.concatenate([keys, keys[:1]]))
        # the opposite foot steps forward as the arm goes back; the weight follows it
        _step(ft, T, fps, o, times[0], times[1], (SIDE_SIGN[o] * st / 2, -step),
              rng.uniform(0.04, 0.1))
        pel[:, 1] = -step * timeline(T, fps, times, [0, 0.2, 0.6, 0.75, 0.5])
        pel[:, 0] = timeline(T, fps, times, [0, 0.3, 0.5, 0.6, 0.5]) * SIDE_SIGN[o] * st / 4
    else:                                          # football kick
        t = np.arange(T) / fps
        fwd = rng.uniform(0.3, 0.5)
        _step(ft, T, fps, o, times[0] - 0.15 * durs[0], times[1],
              (SIDE_SIGN[o] * (st / 2 + 0.08), -fwd), rng.uniform(0.04, 0.1))
        land = (SIDE_SIGN[s] * st / 2, -fwd - rng.uniform(0.0, 0.3))
        mid = (times[2] + times[3]) / 2
        ft[t >= mid, s, :2] = land
        pel[:, 1] = timeline(T, fps, times, [0, -0.7 * fwd, -0.9 * fwd, -0.9 * fwd,
                                             (land[1] - fwd) / 2])
        pel[:, 0] = timeline(T, fps, times, [0, 0.8, 0.8, 0.6, 0.0]) * SIDE_SIGN[o] * st / 2
        pel[:, 2] = z - timeline(T, fps, times, [0, 0.02, 0.03, 0.02, 0]) - 0.03
        a[:, PELVIS, 0] = timeline(T, fps, times, [5, 5, -rng.uniform(5, 15), -5, 5])
        a[:, THORAX, 2] = (timeline(T, fps, times, [0, 1, -1, -1, 0]) * SIDE_SIGN[o]
                           * rng.uniform(5, 20))
        for side, f in ((o, 1.0), (s, -1.0)):      # arms out for balance
            a[:, SHOULDER[side], 0] = timeline(T, fps, times, [5, 10 * f, 40 * f, 20 * f, 5])
            a[:, SHOULDER[side], 1] = timeline(T, fps, times, [8, 30, rng.uniform(40, 70), 30, 8])
            a[:, ELBOW[side], 0] = rng.uniform(10, 40)
        a += sway(rng, T, fps, 2.0)
        a = deg(a)
        a = _legs(body, a, pel, ft, knee_out)
        kick = np.zeros((T, 3))                    # back-swing, strike, follow-through
        kh = [rng.uniform(-25, -10), rng.uniform(30, 55), rng.uniform(60, 85)]
        kk = [rng.uniform(80, 110), rng.uniform(15, 40), rng.uniform(10, 30)]
        hip = deg(timeline(T, fps, times[1:4], kh)) + a[:, PELVIS, 0]
        knee = deg(timeline(T, fps, times[1:4], kk))
        w = timeline(T, fps, [times[1] - 0.6 * durs[0], times[1], times[3], times[4]], [0, 1, 1, 0])
        a[:, HIP[s], 0] = (1 - w) * a[:, HIP[s], 0] + w * hip
        a[:, HIP[s], 1:] = (1 - w[:, None]) * a[:, HIP[s], 1:] + w[:, None] * kick[:, 1:]
        a[:, KNEE[s], 0] = (1 - w) * a[:, KNEE[s], 0] + w * knee
        return Track(a, constant_heading(rng, T), np.full(T, AUTO, np.int8))
    a += sway(rng, T, fps, 2.0)
    a = deg(a)
    a = _legs(body, a, pel, ft, knee_out)
    return Track(a, constant_heading(rng, T), np.full(T, AUTO, np.int8))
