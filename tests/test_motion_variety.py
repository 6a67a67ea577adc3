"""The motions added for variety (seated, floor, lie, carry, gesture, dance, sport) and
the ground contact of body parts other than the feet (``BODY`` frames)."""

import numpy as np
import pytest

from hpd3d.skeleton import H36M, bone_lengths
from synth import body as B
from synth import limits as L
from synth.motions import MOTIONS, make, rest, social, sport
from synth.motions.ground import RADIUS, local_matrices, place, surface
from synth.motions.track import BODY, Track

FPS = 50.0
NEW = ("seated", "floor", "lie", "carry", "gesture", "dance", "sport")
SEEDS = range(10)
BODIES = B.sample_bodies(np.random.default_rng(21), 5)


def _gen(name, seed, variant=None, seconds=None):
    """(body, raw track angles, placed track, contact, positions) of one clip."""
    rng = np.random.default_rng([seed, 7])
    body = BODIES[seed % len(BODIES)]
    T = int(round((seconds or rng.uniform(2.0, 4.0)) * FPS))
    kw = {} if variant is None else {"variant": variant}
    track = MOTIONS[name](rng, body, T, FPS, **kw)
    raw = track.angles.copy()
    track.angles = L.clip(track.angles)
    root, contact = place(body, track, FPS)
    x = B.fk(body.offsets, local_matrices(track), root)
    return body, raw, track, contact, x


@pytest.fixture(scope="module")
def clips():
    return {name: [_gen(name, s) for s in SEEDS] for name in NEW}


def _hip_height(body):
    return float(body.length("thigh") + body.length("shank") + body.ankle_height)


def test_new_motions_registered():
    assert set(NEW) <= set(MOTIONS) and len(MOTIONS) == 20


def test_angles_within_limits_before_clipping(clips):
    # the generators pose within the limits themselves; make()'s clip changes < 0.5°
    for name, cs in clips.items():
        for _, raw, *_ in cs:
            assert np.degrees(L.violation(raw)).max() < 0.5, name


def test_bone_lengths_constant(clips):
    for name, cs in clips.items():
        for body, _, _, _, x in cs:
            rest_len = np.linalg.norm(body.offsets[H36M.bones[:, 1]], axis=1)
            assert np.abs(bone_lengths(x) - rest_len).max() < 1e-9, name


def test_nothing_below_the_floor_and_lowest_point_on_it(clips):
    for name, cs in clips.items():
        for body, _, track, _, x in cs:
            s = surface(body, x, track.heel)            # joint balls, soles, raised toes
            assert x[..., 2].min() > 0, name             # no joint centre in the floor
            assert s.min() > -0.01, name                 # no ball or sole 1 cm into it
            assert np.abs(s.min(axis=1)).max() < 0.02, name   # every frame rests on the floor


def test_resting_joints_do_not_slide(clips):
    # the joint that carries the body in two frames running (lowest in both) stays put;
    # any other joint resting on the floor (within 1e-6 m) in both frames drifts < 0.3 m/s
    for name, cs in clips.items():
        for body, _, track, _, x in cs:
            s = surface(body, x, track.heel)
            speed = np.linalg.norm(np.diff(x[..., :2], axis=0), axis=-1) * FPS
            low = s.argmin(axis=1)
            same = np.flatnonzero(low[1:] == low[:-1])
            assert speed[same, low[same]].max(initial=0) < 1e-6, name
            on = (s[1:] < 1e-6) & (s[:-1] < 1e-6)
            assert speed[on].max(initial=0) < 0.3, name


def test_body_contact_reduces_to_the_foot_rule_when_standing():
    # BODY frames of a standing motion rest on the feet exactly as AUTO frames do
    body = BODIES[0]
    for seed in range(3):
        t = make("squat", np.random.default_rng(seed), body, 120, FPS)
        r_auto, _ = place(body, t, FPS)
        t.contact = np.full(t.num_frames, BODY, np.int8)
        r_body, _ = place(body, t, FPS)
        assert np.abs(r_auto - r_body).max() < 1e-9


def test_body_contact_rests_on_a_knee():
    # a pose on one knee: the knee (a 5 cm ball) is the lowest point, and stays put while
    # the trunk leans
    body = BODIES[1]
    p = rest.kneel1(np.random.default_rng(0), body, front=0)
    T = 40
    a = np.repeat(p[None], T, axis=0)
    a[:, 7, 0] = np.linspace(0, 30, T)                # spine flexes
    t = Track(np.radians(a), np.zeros(T), np.full(T, BODY, np.int8))
    root, _ = place(body, t, FPS)
    x = B.fk(body.offsets, local_matrices(t), root)
    knee = x[:, 5]                                    # left knee: the back one
    assert np.abs(knee[:, 2] - RADIUS[5]).max() < 0.002
    assert np.ptp(knee[:, :2], axis=0).max() < 1e-9 or np.ptp(x[:, 3, :2], axis=0).max() < 1e-9
    # the front foot touches too (solved by settle): within 2 mm of the floor
    assert abs(x[0, 3, 2] - body.ankle_height) < 0.002


def test_seated_pelvis_on_the_seat_hips_flexed():
    for seed in SEEDS:
        body, _, _, contact, x = _gen("seated", seed, variant="seated")
        assert (contact != BODY).all()
        pz = x[:, 0, 2]
        assert np.ptp(pz) < 1e-9                      # resting on a seat of fixed height
        seat = pz[0] - RADIUS[0]
        assert 0.17 * body.height < seat < 0.33 * body.height   # 0.3–0.6 m chairs
        trunk = x[:, 8] - x[:, 0]
        thigh = x[:, [2, 5]] - x[:, [1, 4]]
        cos = np.einsum("ti,tki->tk", trunk, thigh) / (
            np.linalg.norm(trunk, axis=-1)[:, None] * np.linalg.norm(thigh, axis=-1))
        flex = np.degrees(np.arccos(cos))            # angle between trunk and thigh
        assert flex.min(axis=1).max() < 125 and flex.max(axis=1).min() > 55
        elev = np.degrees(np.arcsin(thigh[..., 2] / np.linalg.norm(thigh, axis=-1)))
        assert np.abs(elev).min(axis=1).max() < 25   # a thigh lies roughly level on the seat


def test_floor_pelvis_low_on_the_floor():
    for seed in SEEDS:
        for variant in ("down", "up", "stay"):
            body, _, _, contact, x = _gen("floor", seed, variant=variant)
            assert (contact == BODY).all()
            # kneeling upright puts the pelvis a thigh and a knee ball (~0.52 hip heights)
            # above the floor; sitting, crouching, on all fours it is lower
            low = x[:, 0, 2] < 0.6 * _hip_height(body)
            frame = {"down": -1, "up": 0}.get(variant)
            if frame is not None:                    # the floor end of the clip
                assert low[frame], (seed, variant)
                stand = 0 if variant == "down" else -1
                assert x[stand, 0, 2] > 0.85 * _hip_height(body)
            else:
                assert low.all(), (seed, variant)


def test_lie_torso_horizontal_when_lying():
    for seed in SEEDS:
        for variant in ("still", "up", "down", "roll"):
            body, _, track, _, x = _gen("lie", seed, variant=variant)
            axis = x[:, 8] - x[:, 0]                   # pelvis -> thorax
            tilt = np.degrees(np.arcsin(np.abs(axis[:, 2]) / np.linalg.norm(axis, axis=-1)))
            lying = (tilt < 20) & (x[:, 0, 2] < 0.45)  # side-lying pelvis ~0.2-0.3 m
            if variant in ("still", "roll"):           # lying throughout (rolling over may
                assert lying.all(), (seed, variant)     # prop the body on an arm)
            else:                                      # from lying to the trunk upright,
                first, last = (0, -1) if variant == "up" else (-1, 0)   # or back
                assert lying[first] and x[first, 0, 2] < 0.3, (seed, variant)
                assert tilt[last] > 45 and x[last, 8, 2] > 0.4, (seed, variant)


def test_carry_box_in_front_at_chest_or_waist():
    for seed in SEEDS:
        body, _, track, _, x = _gen("carry", seed, variant="front")
        h = track.heading
        fwd = np.stack([np.sin(h), -np.cos(h)], axis=-1)
        ahead = np.einsum("tki,ti->tk", x[:, [13, 16], :2] - x[:, [0], :2], fwd)
        assert ahead.min() > 0.15
        z = x[:, [13, 16], 2] / body.height
        assert z.min() > 0.5 and z.max() < 0.85      # between the waist and the chest
        assert np.linalg.norm(x[:, 13] - x[:, 16], axis=-1).max() < 0.6   # one box


def test_carry_bag_leans_away_from_it():
    for seed in SEEDS:
        body, raw, *_ = _gen("carry", seed, variant="bag")
        # the carrying arm hangs straight; the trunk bends to the other side
        straight = raw[:, [14, 11], 0].mean(axis=0)   # right, left shoulder flexion
        elbows = raw[:, [15, 12], 0].mean(axis=0)
        side = int(np.argmin(elbows))
        lean = raw[:, 7, 1].mean() + raw[:, 8, 1].mean()
        assert lean * (1 if side == 0 else -1) > 0, seed
        assert abs(np.degrees(straight[side])) < 30


def test_gesture_feet_planted_hands_busy():
    for seed in SEEDS:
        body, _, _, _, x = _gen("gesture", seed)
        assert np.ptp(x[:, [3, 6], :2], axis=0).max() < 1e-3   # planted (IK within 1 mm)
        assert np.ptp(x[:, [13, 16]], axis=0).max() > 0.1


def test_dance_steps_side_to_side():
    for seed in SEEDS:
        body, _, _, _, x = _gen("dance", seed, seconds=3.0)
        lifted = x[:, [3, 6], 2] - body.ankle_height > 0.01
        steps = (np.diff(lifted.astype(int), axis=0) == 1).sum(axis=0)
        assert (steps >= 2).all()                     # both feet step, more than once
        hands = x[:, [13, 16], 2].max()
        assert hands > x[:, 10, 2].min() - 0.3        # the arms go up towards the head


def test_sport_actions():
    for seed in SEEDS:
        body, _, _, _, x = _gen("sport", seed, variant="throw")
        assert (x[:, [13, 16], 2] - x[:, [11, 14], 2]).max() > 0.1   # a hand above the shoulder
        body, _, _, _, x = _gen("sport", seed, variant="kick")
        assert (x[:, [3, 6], 2] - body.ankle_height).max() > 0.3    # the kicking foot swings up
        body, _, _, _, x = _gen("sport", seed, variant="swing")
        sh = x[:, 11] - x[:, 14]
        yaw = np.degrees(np.unwrap(np.arctan2(sh[:, 1], sh[:, 0])))
        assert np.ptp(yaw) > 60                       # the trunk twists through the swing
        assert np.ptp(x[:, [3, 6], :2], axis=0).max() < 1e-3         # feet planted


def test_variants_are_named():
    assert set(rest.FLOOR) == {"down", "up", "down_up", "stay"}
    for name, variants in (("floor", rest.FLOOR), ("lie", rest.LIE), ("carry", social.CARRY),
                           ("sport", sport.SPORT), ("seated", rest.SEATED_START)):
        for v in variants:
            _, _, _, _, x = _gen(name, 0, variant=v)
            assert np.isfinite(x).all()
