"""Sitting on a chair, floor work (crouching, kneeling, sitting on the floor) and lying
down, with the transitions into and out of them.

``seated``: the pelvis rests on an (invisible) seat for the whole clip — or sits down onto
it first, or stands up from it at the end — feet planted by IK (:mod:`.ik`); the upper
body talks, phones, eats, leans and turns (:func:`.social.activity`); the legs cross or
the feet shift. ``floor`` and ``lie`` are chains of whole-body key poses (standing,
crouch, one knee down, both knees, sitting back on the heels, on all fours, sitting on
the floor with the knees up, legs out front, cross-legged, lying on the back, the side,
the front) visited along a graph of natural transitions and blended with an ease; they
are ``BODY`` contact frames: :func:`.ground.place` rests the lowest joint ball on the
floor. Where a key pose has two supports (the back knee and the front foot; knees and
shins; pelvis and heels; pelvis and hands) one angle is solved numerically (:func:`settle`)
so that both touch. Lying on the back or side turns the whole body with ``Track.base``
(the pelvis' anatomical range is for an upright trunk).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from .. import limits
from ..body import fk
from .ground import surface
from .ik import feet, leg_ik, standing_height
from .social import SEATED, activity
from .track import (AUTO, BODY, ELBOW, HIP, KNEE, L_ANKLE, L_KNEE, L_WRIST, NECK, PELVIS,
                    R_ANKLE, R_KNEE, R_WRIST, SHOULDER, SIDE_SIGN, SPINE, THORAX, Track,
                    constant_heading, deg, phases, sagittal_chain, sway, timeline)

ANKLES, KNEES, WRISTS = [R_ANKLE, L_ANKLE], [R_KNEE, L_KNEE], [R_WRIST, L_WRIST]


def _base_matrix(base) -> np.ndarray:
    return Rotation.from_rotvec(np.array(base, np.float64).reshape(-1, 3)).as_matrix()


def body_fk(body, angles_deg: np.ndarray, base=None) -> np.ndarray:
    """Positions (N, 17, 3) of poses (N, 17, 3) degrees, pelvis at the origin, heading 0."""
    a = np.asarray(angles_deg, np.float64).reshape(-1, 17, 3)
    m = limits.to_matrix(limits.clip(deg(a)))
    if base is not None:
        m[:, 0] = _base_matrix(np.broadcast_to(base, (len(a), 3))) @ m[:, 0]
    return fk(body.offsets, m, np.zeros((len(a), 3)))


def settle(body, key: np.ndarray, dofs, grid, touch, ref, base=None) -> np.ndarray:
    """``key`` (17, 3) degrees with the angles ``dofs`` [(joint, axis), …] all set to the
    value from ``grid`` (degrees) that brings the lowest ball of ``touch`` joints to the
    height of the lowest ball of ``ref`` joints (both on the floor)."""
    grid = np.asarray(grid, np.float64)
    cand = np.repeat(key[None], len(grid), axis=0)
    for j, ax in dofs:
        cand[:, j, ax] = grid
    s = surface(body, body_fk(body, cand, base))
    err = s[:, touch].min(axis=1) - s[:, ref].min(axis=1)
    return cand[int(np.argmin(np.abs(err)))]


# ---------------------------------------------------------------- key poses (degrees)

def _arms(rng, p, kind):
    for s in (0, 1):
        sh, el = SHOULDER[s], ELBOW[s]
        if kind == "hang":
            p[sh] = (rng.uniform(-5, 10), rng.uniform(5, 15), rng.uniform(-10, 10))
            p[el, 0] = rng.uniform(5, 25)
        elif kind == "knees":                      # hands on the knees / thighs
            p[sh] = (rng.uniform(25, 55), rng.uniform(5, 20), rng.uniform(-15, 5))
            p[el, 0] = rng.uniform(15, 50)
        elif kind == "hug":
            p[sh] = (rng.uniform(45, 70), rng.uniform(0, 15), -rng.uniform(10, 30))
            p[el, 0] = rng.uniform(60, 100)
        elif kind == "lap":
            p[sh] = (rng.uniform(15, 35), rng.uniform(5, 15), rng.uniform(-15, 5))
            p[el, 0] = rng.uniform(40, 80)


def stand(rng, body):
    p = np.zeros((17, 3))
    _arms(rng, p, "hang")
    return p


def crouch(rng, body):
    p = np.zeros((17, 3))
    pel = rng.uniform(22, 35)
    p[PELVIS, 0], p[SPINE, 0], p[THORAX, 0] = pel, rng.uniform(5, 15), rng.uniform(0, 10)
    p[NECK, 0] = -0.5 * (p[PELVIS, 0] + p[SPINE, 0])
    for s in (0, 1):
        p[HIP[s]] = (min(rng.uniform(85, 95) + pel, 122), rng.uniform(8, 20), rng.uniform(5, 15))
        p[KNEE[s], 0] = rng.uniform(125, 140)
    _arms(rng, p, rng.choice(["knees", "hang"]))
    return p


def kneel1(rng, body, front=None):
    """One knee down: ``front`` leg's foot planted ahead, the other knee on the floor."""
    front = int(rng.integers(2)) if front is None else front
    p = np.zeros((17, 3))
    pel = rng.uniform(0, 8)
    p[PELVIS, 0], p[SPINE, 0] = pel, rng.uniform(0, 10)
    p[HIP[front]] = (90 + pel + rng.uniform(-8, 5), rng.uniform(0, 10), rng.uniform(0, 10))
    p[HIP[1 - front]] = (pel + rng.uniform(-8, 5), rng.uniform(0, 8), rng.uniform(-5, 5))
    p[KNEE[1 - front], 0] = rng.uniform(95, 110)
    _arms(rng, p, rng.choice(["knees", "hang"]))
    return settle(body, p, [(KNEE[front], 0)], np.linspace(70, 130, 61),
                  [ANKLES[front]], [KNEES[1 - front]])


def _kneel1_lift(rng, body, p1):
    """Between one knee and both knees down: the front leg folded, off the floor."""
    p = p1.copy()
    front = 0 if p1[HIP[0], 0] > p1[HIP[1], 0] else 1
    p[HIP[front], 0] = p1[PELVIS, 0] + rng.uniform(50, 65)
    p[KNEE[front], 0] = rng.uniform(135, 150)
    return p


def kneel2(rng, body):
    p = np.zeros((17, 3))
    pel = rng.uniform(0, 10)
    p[PELVIS, 0], p[SPINE, 0] = pel, rng.uniform(-5, 10)
    for s in (0, 1):
        p[HIP[s]] = (pel + rng.uniform(0, 15), rng.uniform(0, 10), rng.uniform(-5, 10))
    _arms(rng, p, rng.choice(["hang", "knees", "lap"]))
    return settle(body, p, [(KNEE[0], 0), (KNEE[1], 0)], np.linspace(85, 120, 36),
                  ANKLES, KNEES)


def kneel_sit(rng, body):
    """Sitting back on the heels."""
    p = np.zeros((17, 3))
    pel = rng.uniform(5, 20)
    p[PELVIS, 0], p[SPINE, 0] = pel, rng.uniform(-5, 10)
    p[NECK, 0] = rng.uniform(-10, 15)
    for s in (0, 1):
        p[HIP[s]] = (min(pel + rng.uniform(60, 75), 124), rng.uniform(0, 12), rng.uniform(-5, 10))
    _arms(rng, p, rng.choice(["knees", "lap"]))
    return settle(body, p, [(KNEE[0], 0), (KNEE[1], 0)], np.linspace(140, 160, 41),
                  ANKLES, KNEES)


def all_fours(rng, body):
    p = np.zeros((17, 3))
    pel = rng.uniform(78, 90)
    p[PELVIS, 0], p[SPINE, 0], p[THORAX, 0] = pel, rng.uniform(-5, 10), rng.uniform(-5, 10)
    p[NECK, 0] = -rng.uniform(20, 45)
    for s in (0, 1):
        p[HIP[s]] = (pel + rng.uniform(-5, 10), rng.uniform(0, 10), rng.uniform(-5, 5))
        p[SHOULDER[s]] = (0, rng.uniform(0, 12), rng.uniform(-10, 10))
        p[ELBOW[s], 0] = rng.uniform(0, 15)
    p = settle(body, p, [(KNEE[0], 0), (KNEE[1], 0)], np.linspace(80, 110, 31), ANKLES, KNEES)
    return settle(body, p, [(SHOULDER[0], 0), (SHOULDER[1], 0)], np.linspace(50, 130, 81),
                  WRISTS, KNEES)


def _hands_behind(rng, body, p):
    """Leaning back on the hands: the shoulders extend until the wrists reach the floor."""
    for s in (0, 1):
        p[SHOULDER[s], 1:] = (rng.uniform(5, 20), rng.uniform(-10, 20))
        p[ELBOW[s], 0] = rng.uniform(0, 15)
    return settle(body, p, [(SHOULDER[0], 0), (SHOULDER[1], 0)], np.linspace(-60, 10, 71),
                  WRISTS, [PELVIS])


def bent_sit(rng, body):
    """Sitting on the floor, knees up, feet on the floor."""
    p = np.zeros((17, 3))
    pel = -rng.uniform(3, 15)
    p[PELVIS, 0], p[SPINE, 0], p[NECK, 0] = pel, rng.uniform(0, 15), rng.uniform(-5, 10)
    for s in (0, 1):
        p[HIP[s]] = (min(rng.uniform(115, 135) + pel, 124), rng.uniform(3, 20), rng.uniform(-5, 10))
    arms = rng.choice(["hug", "knees", "behind"])
    if arms != "behind":
        _arms(rng, p, arms)
    p = settle(body, p, [(KNEE[0], 0), (KNEE[1], 0)], np.linspace(30, 150, 121), ANKLES, [PELVIS])
    return _hands_behind(rng, body, p) if arms == "behind" else p


def long_sit(rng, body):
    """Sitting on the floor with the legs out front, upright or leaning back on the hands."""
    p = np.zeros((17, 3))
    back = rng.random() < 0.5
    pel = -rng.uniform(10, 28) if back else rng.uniform(-8, 8)
    p[PELVIS, 0], p[SPINE, 0], p[NECK, 0] = pel, rng.uniform(0, 15), rng.uniform(-5, 20)
    for s in (0, 1):
        p[HIP[s], 1:] = (rng.uniform(0, 12), rng.uniform(0, 20))
        p[KNEE[s], 0] = rng.uniform(0, 25)
    if not back:
        _arms(rng, p, rng.choice(["knees", "lap"]))
    p = settle(body, p, [(HIP[0], 0), (HIP[1], 0)], np.linspace(60 + pel, 124, 60), ANKLES,
               [PELVIS])
    return _hands_behind(rng, body, p) if back else p


def cross_sit(rng, body):
    p = np.zeros((17, 3))
    pel = rng.uniform(-8, 10)
    p[PELVIS, 0], p[SPINE, 0], p[NECK, 0] = pel, rng.uniform(0, 15), rng.uniform(-5, 15)
    for s in (0, 1):
        p[HIP[s], 1:] = (rng.uniform(18, 32), rng.uniform(25, 45))
        p[KNEE[s], 0] = rng.uniform(115, 140)
    _arms(rng, p, rng.choice(["knees", "lap"]))
    return settle(body, p, [(HIP[0], 0), (HIP[1], 0)], np.linspace(60, 124, 65), ANKLES,
                  [PELVIS])


SUPINE, PRONE = np.array([-np.pi / 2, 0, 0]), np.array([np.pi / 2, 0, 0])
# prone reached by rolling over from the back: head the same way as lying on the back
PRONE_ROLLED = (Rotation.from_rotvec([0, np.pi, 0]) * Rotation.from_rotvec(SUPINE)).as_rotvec()


def side_base(side: int) -> np.ndarray:
    """Lying on the right (0) or left (1) side: on the back, rolled a quarter turn."""
    roll = Rotation.from_rotvec([0, SIDE_SIGN[side] * np.pi / 2, 0])
    return (roll * Rotation.from_rotvec(SUPINE)).as_rotvec()


def supine(rng, body, arms=None):
    p = np.zeros((17, 3))
    p[NECK, 0] = rng.uniform(0, 20)
    p[NECK, 2] = rng.uniform(-30, 30)
    knees_up = rng.random() < 0.4 and arms is None
    for s in (0, 1):
        p[HIP[s]] = (rng.uniform(40, 70) if knees_up else rng.uniform(-5, 8),
                     rng.uniform(0, 15), rng.uniform(0, 25))
        p[KNEE[s], 0] = rng.uniform(0, 15)
    arms = arms or rng.choice(["sides", "chest", "head", "out"])
    for s in (0, 1):
        if arms == "sides":
            p[SHOULDER[s]] = (rng.uniform(-5, 10), rng.uniform(5, 25), rng.uniform(-10, 20))
            p[ELBOW[s], 0] = rng.uniform(0, 25)
        elif arms == "chest":
            p[SHOULDER[s]] = (rng.uniform(15, 40), rng.uniform(10, 25), -rng.uniform(10, 40))
            p[ELBOW[s], 0] = rng.uniform(90, 125)
        elif arms == "head":
            p[SHOULDER[s]] = (rng.uniform(145, 170), rng.uniform(50, 80), rng.uniform(30, 60))
            p[ELBOW[s], 0] = rng.uniform(110, 140)
        else:
            p[SHOULDER[s]] = (rng.uniform(-5, 15), rng.uniform(60, 100), rng.uniform(0, 40))
            p[ELBOW[s], 0] = rng.uniform(0, 30)
    if knees_up:
        p = settle(body, p, [(KNEE[0], 0), (KNEE[1], 0)], np.linspace(20, 140, 121), ANKLES,
                   [PELVIS], base=SUPINE)
    return p, SUPINE


def side_lying(rng, body, side=None, rolling=False):
    """Lying on one side, knees drawn up; ``rolling``: the arms along the body (out of the
    way when rolling on to the front or back)."""
    side = int(rng.integers(2)) if side is None else side
    p = np.zeros((17, 3))
    p[SPINE, 0], p[NECK, 0] = rng.uniform(0, 20), rng.uniform(0, 20)
    p[NECK, 1] = -SIDE_SIGN[side] * rng.uniform(0, 20)
    hip = rng.uniform(10, 70)
    for s in (0, 1):
        down = s == side                           # the side lain on: abduction points down
        p[HIP[s]] = (hip + rng.uniform(-10, 10),
                     -rng.uniform(0, 5) if down else rng.uniform(0, 10), rng.uniform(-5, 10))
        p[KNEE[s], 0] = rng.uniform(10, 90)
        p[SHOULDER[s]] = (rng.uniform(-10, 15) if rolling else rng.uniform(30, 100),
                          0 if down else rng.uniform(0, 20), rng.uniform(-20, 20))
        p[ELBOW[s], 0] = rng.uniform(0, 30) if rolling else rng.uniform(20, 100)
    # the lower arm lies on the floor: its abduction brings the wrist to the shoulder's level
    p = settle(body, p, [(SHOULDER[side], 1)], np.linspace(-30, 40, 71), [WRISTS[side]],
               [SHOULDER[side]], base=side_base(side))
    return p, side_base(side)


def prone(rng, body, rolled=False):
    """Lying on the front; ``rolled``: reached by rolling over from the back (head the same
    way, the arms at the sides)."""
    p = np.zeros((17, 3))
    p[NECK, 0] = -rng.uniform(5, 25)
    p[NECK, 2] = rng.choice([-1, 1]) * rng.uniform(20, 60)
    for s in (0, 1):
        p[HIP[s]] = (rng.uniform(-10, 5), rng.uniform(0, 15), rng.uniform(-10, 20))
        p[KNEE[s], 0] = rng.uniform(0, 30)
    under = rng.random() < 0.6 and not rolled      # forearms by the head, or at the sides
    base = PRONE_ROLLED if rolled else PRONE
    for s in (0, 1):
        if under:
            p[SHOULDER[s]] = (rng.uniform(-10, 20), rng.uniform(70, 100), 0)
            p[ELBOW[s], 0] = rng.uniform(80, 120)
        else:
            p[SHOULDER[s]] = (rng.uniform(-10, 10), rng.uniform(5, 25), rng.uniform(-20, 20))
            p[ELBOW[s], 0] = rng.uniform(0, 20)
    if under:                                      # the forearms lie on the floor
        p = settle(body, p, [(SHOULDER[0], 2), (SHOULDER[1], 2)], np.linspace(-70, 90, 81),
                   WRISTS, [THORAX], base=base)
    return p, base


UPRIGHT = np.zeros(3)

# chains from standing (first) to a floor pose (last); read backwards to get up
FLOOR_CHAINS = {
    "crouch": ["stand", "crouch"],
    "kneel1": ["stand", "kneel1"],
    "kneel2": ["stand", "kneel1", "lift", "kneel2"],
    "kneel_sit": ["stand", "kneel1", "lift", "kneel2", "kneel_sit"],
    "all_fours": ["stand", "kneel1", "lift", "kneel2", "all_fours"],
    "bent_sit": ["stand", "crouch", "bent_sit"],
    "long_sit": ["stand", "crouch", "bent_sit", "long_sit"],
    "cross_sit": ["stand", "crouch", "bent_sit", "cross_sit"],
}
LIE_CHAINS = {                                     # from lying to the pose one gets up to
    "supine": ["supine", "long_sit", "bent_sit", "crouch", "stand"],
    "prone": ["prone", "all_fours", "kneel2", "lift", "kneel1", "stand"],
}
_POSES = {"stand": stand, "crouch": crouch, "kneel2": kneel2, "kneel_sit": kneel_sit,
          "all_fours": all_fours, "bent_sit": bent_sit, "long_sit": long_sit,
          "cross_sit": cross_sit}
_LYING = {"supine": supine, "prone": prone, "side": side_lying,
          "prone_rolled": lambda rng, body: prone(rng, body, rolled=True),
          "supine_roll": lambda rng, body: supine(rng, body, arms="chest"),
          "side_roll": lambda rng, body: side_lying(rng, body, rolling=True)}
_SLOW = {"stand", "lift"}                          # transitions from / to standing take longer


def _states(rng, body, chain):
    """(angles (K, 17, 3) degrees, base (K, 3)) for a chain of pose names."""
    keys, bases, front = [], [], int(rng.integers(2))
    for name in chain:
        if name in _LYING:
            p, b = _LYING[name](rng, body)
        elif name == "kneel1":
            p, b = kneel1(rng, body, front), UPRIGHT
        elif name == "lift":
            p, b = None, UPRIGHT                   # filled from the kneel1 neighbour below
        else:
            p, b = _POSES[name](rng, body), UPRIGHT
        keys.append(p)
        bases.append(b)
    for i, name in enumerate(chain):
        if name == "lift":
            k1 = keys[i - 1] if chain[i - 1] == "kneel1" else keys[i + 1]
            keys[i] = _kneel1_lift(rng, body, k1)
    return np.array(keys), np.array(bases)


def _play(rng, body, T, fps, chain, holds=None) -> Track:
    """Visit the poses of ``chain`` in order (each transition 0.6–1.2 s, holds between),
    squeezed to the clip; ``BODY`` contact throughout."""
    keys, bases = _states(rng, body, chain)
    durs, vals, bvals = [], [keys[0]], [bases[0]]
    for i in range(1, len(chain)):
        slow = chain[i] in _SLOW or chain[i - 1] in _SLOW
        if chain[i] == "lift" or chain[i - 1] == "lift":
            durs.append(rng.uniform(0.35, 0.6))
        else:
            durs.append(rng.uniform(0.8, 1.3) if slow else rng.uniform(0.6, 1.1))
        vals.append(keys[i])
        bvals.append(bases[i])
        hold = rng.uniform(0.0, 0.5) if holds is None else holds[i]
        if hold > 0 and chain[i] != "lift":
            durs.append(hold)
            vals.append(keys[i])
            bvals.append(bases[i])
    times = phases(durs, T / fps, rng)
    a = timeline(T, fps, times, np.array(vals))
    bvals = np.array(bvals)
    base = None
    if np.any(bvals):                              # slerp the whole-body turn between keys
        idx = timeline(T, fps, times, np.arange(len(bvals), dtype=np.float64))
        base = Slerp(np.arange(len(bvals)), Rotation.from_rotvec(bvals))(idx).as_rotvec()
    a += sway(rng, T, fps, 2.0, joints=(9, 11, 12, 14, 15))
    return Track(deg(a), constant_heading(rng, T), np.full(T, BODY, np.int8), base=base)


def _fit(chain, n):
    """The longest prefix of ``chain`` with at most ``n`` transitions."""
    return chain[: n + 1]


def _transitions(dur: float, rng) -> int:
    return max(1, int(dur / rng.uniform(0.75, 1.0)))


FLOOR = ("down", "up", "down_up", "stay")


def floor(rng: np.random.Generator, body, T: int, fps: float, variant: str | None = None
          ) -> Track:
    """Floor work: getting down to the floor (crouch, one or both knees, back on the heels,
    on all fours, sitting with the knees up, legs out front or cross-legged), getting up
    from it, down and back up, or staying there and changing between neighbouring poses."""
    dur = T / fps
    variant = variant or rng.choice(FLOOR, p=[0.35, 0.3, 0.15, 0.2])
    n = _transitions(dur, rng)
    if variant == "down_up":
        target = rng.choice(["crouch", "kneel1"] if n < 4 else ["crouch", "kneel1", "bent_sit",
                                                                 "kneel2"])
        c = FLOOR_CHAINS[target]
        return _play(rng, body, T, fps, c + c[-2::-1])
    if variant == "stay":
        pairs = [["bent_sit", "long_sit"], ["bent_sit", "cross_sit"], ["kneel2", "kneel_sit"],
                 ["kneel2", "all_fours"], ["long_sit", "bent_sit", "cross_sit"],
                 ["crouch", "bent_sit"], ["kneel_sit", "kneel2", "all_fours"]]
        c = list(pairs[int(rng.integers(len(pairs)))])
        if rng.random() < 0.5:
            c = c[::-1]
        return _play(rng, body, T, fps, _fit(c, n), holds=None)
    fits = [k for k, c in FLOOR_CHAINS.items() if len(c) - 1 - c.count("lift") <= n]
    c = FLOOR_CHAINS[rng.choice(fits)]
    return _play(rng, body, T, fps, c if variant == "down" else c[::-1])


LIE = ("still", "up", "down", "roll")


def lie(rng: np.random.Generator, body, T: int, fps: float, variant: str | None = None
        ) -> Track:
    """Lying on the back, side or front (shifting limbs), rolling between them, getting up
    from lying (sitting up from the back, pushing up onto all fours from the front) as far
    as the clip allows, or lying down."""
    dur = T / fps
    variant = variant or rng.choice(LIE, p=[0.2, 0.4, 0.25, 0.15])
    n = _transitions(dur, rng)
    if variant in ("up", "down"):
        c = LIE_CHAINS[rng.choice(list(LIE_CHAINS))]
        c = c[: max(2, n + 1 + (1 if "lift" in c[: n + 2] else 0))]
        if c[-1] == "lift":
            c = c[:-1]
        return _play(rng, body, T, fps, c if variant == "up" else c[::-1])
    if variant == "roll":
        c = [["supine_roll", "side"], ["side_roll", "prone_rolled"],
             ["supine_roll", "side_roll", "prone_rolled"]][int(rng.integers(3))]
        if rng.random() < 0.5:
            c = c[::-1]
        return _play(rng, body, T, fps, _fit(c, n))
    c = [rng.choice(["supine", "supine", "side", "prone"])]
    return _play(rng, body, T, fps, c * 3, holds=[0.0] + list(rng.uniform(0.3, 1.0, 2)))


# ---------------------------------------------------------------- chair

SEATED_START = ("seated", "sit_down", "stand_up")


def seated(rng: np.random.Generator, body, T: int, fps: float, variant: str | None = None
           ) -> Track:
    """Sitting on a chair (seat height from the knee angle, 80–100°, and the shin's lean):
    talking with the hands, phoning, eating or drinking, leaning forward or back, turning;
    legs still, crossed, or the feet shifting. Sometimes the clip starts by sitting down or
    ends by standing up."""
    dur = T / fps
    variant = variant or rng.choice(SEATED_START, p=[0.6, 0.25, 0.15])
    hw = float(body.length("hip_width"))
    stance = hw * rng.uniform(1.0, 1.7)
    knee, tilt = rng.uniform(80, 100), rng.uniform(-8, 10)
    y_s, z_s = sagittal_chain(body, knee, tilt, stance)
    z_up = standing_height(body, stance, deg(rng.uniform(0, 5)))
    s = np.ones(T)                                 # 1: seated, 0: standing
    if variant != "seated":
        move = rng.uniform(0.9, 1.4)
        if variant == "sit_down":
            times = phases([move], min(dur, move + rng.uniform(0, 0.5)), rng, pad="start")
            s = timeline(T, fps, times, [0, 1])
        else:
            t0 = dur - move - rng.uniform(0, 0.3)
            s = timeline(T, fps, [max(t0, 0.1), max(t0, 0.1) + move], [1, 0])
    bump = 4 * s * (1 - s)
    pelvis = np.stack([np.zeros(T), y_s * s, z_up + (z_s - z_up) * s], axis=-1)
    a = activity(rng, T, fps, SEATED, seated=True) * s[:, None, None]
    thigh = knee - tilt
    a[:, PELVIS, 0] += rng.uniform(-12, 8) * s + rng.uniform(25, 45) * bump
    a[:, PELVIS, 0] = np.minimum(a[:, PELVIS, 0], 120 - thigh)
    a[:, SPINE, 0] += rng.uniform(5, 20) * bump
    a[:, NECK, 0] -= 0.4 * rng.uniform(25, 45) * bump
    a += sway(rng, T, fps, 2.0)
    a = deg(a)
    ft = feet(body, stance, T)
    legs_kind = rng.choice(["still", "cross", "shift"], p=[0.4, 0.3, 0.3])
    if variant != "seated":
        legs_kind = "still"
    t = np.arange(T) / fps
    side = int(rng.integers(2))
    w = np.zeros(T)
    if legs_kind != "still":
        t0 = rng.uniform(0.2, max(0.3, dur - 1.2))
        t1 = t0 + rng.uniform(0.5, 0.9)
        up = [0, 1, 1] if rng.random() < 0.6 else [0, 1, 0]
        w = timeline(T, fps, [t0, t1, max(t1 + 0.1, dur - 0.6)], up)
    if legs_kind == "cross":                       # ankle over the other shin, then maybe back
        other = 1 - side
        lifted = np.array([SIDE_SIGN[other] * stance * rng.uniform(0.1, 0.4),
                           -rng.uniform(0.05, 0.2),
                           float(body.ankle_height) + rng.uniform(0.12, 0.25)])
        ft[:, side] += w[:, None] * (lifted - ft[:, side])
    elif legs_kind == "shift":                     # one foot slides forward or back, lifted
        dy = rng.choice([-1, 1]) * rng.uniform(0.08, 0.2)
        ft[:, side, 1] += w * dy
        ft[:, side, 2] += 0.04 * np.sin(np.pi * np.clip(w, 0, 1))
    legs = leg_ik(body, pelvis, a[:, PELVIS], ft,
                  knee_out=deg(rng.uniform(0, 12) + (legs_kind == "cross") * 10))
    for j in HIP + KNEE:
        a[:, j] = legs[:, j]
    return Track(a, constant_heading(rng, T), np.full(T, AUTO, np.int8))
