"""The procedural motion generators, one function per motion, grouped by family.

=============  ==============  ===============================================================
motion         family file     what
=============  ==============  ===============================================================
walk           locomotion      gait-cycle hip/knee splines, heel rise, arm swing; path
                               straight, curved or with a turn
run            locomotion      running cycle with flight phases (duty factor 0.30–0.40)
turn           locomotion      stepping in place while turning 90–360°
squat          exercise        1–3 reps, knees 105–140°, four arm styles, feet planted (IK)
lunge          exercise        forward or reverse, back heel rising, back knee off the floor
jump           exercise        countermovement jump, vertical or forward (0.3–1.1 m),
                               ballistic flight of 8–40 cm rise
front_kick     kicks           chamber → snap → recoil, 1–2 kicks, guard
side_kick      kicks           hip turned in, pelvis tipped, trunk leaning away
sit_stand      daily           sit down, stand up, or both (seat height from knee 80–105°)
pick_up        daily           stoop or squat to the floor, one or both hands, carry back up
arm_raise      daily           front/side raises of one or both arms, up to overhead
reach          daily           reaches to random targets with trunk turn/lean, weight shift
seated         rest            on a chair (seat height from knee 80–100°) the whole clip, or
                               sitting down / standing up first; talking, phoning, eating,
                               leaning, turning; legs crossed or feet shifting (IK)
floor          rest            down to / up from / down and up / staying on the floor: crouch,
                               one or both knees, back on the heels, all fours, sitting
                               knees-up, legs out (leaning on the hands), cross-legged
lie            rest            lying on the back / side / front, rolling, sitting up or pushing
                               up onto all fours and getting up, lying down (``BODY`` contact)
carry          social          walking or turning while carrying: box in front, bag at the
                               side (trunk leaning away), load on the shoulder
gesture        social          standing and talking: gesturing, pointing, arms crossed, hands
                               on hips, phoning, hand to face, waving, handshake, looking round
dance          sport           step-touch on a 95–130 bpm beat, turning, hip sway, arms
                               overhead / out / pumping
sport          sport           overhand throw, golf or bat swing, forehand, football kick with
                               a step-in
free           free            random keyframes within the joint limits, slerped
=============  ==============  ===============================================================

Every generator is ``fn(rng, body, num_frames, fps) -> Track`` (:mod:`.track`): joint
angles within :mod:`synth.limits`, a heading track and a per-frame contact code (and
optionally heel rises and a whole-body ``base`` turn for lying); all
randomness comes from ``rng``. :func:`make` runs one and enforces the limits;
:func:`.ground.place` puts the result on the ground.
"""

from __future__ import annotations

import numpy as np

from .. import limits
from . import daily, exercise, free, kicks, locomotion, rest, social, sport
from .track import Track

MOTIONS = {
    "walk": locomotion.walk,
    "run": locomotion.run,
    "turn": locomotion.turn,
    "squat": exercise.squat,
    "lunge": exercise.lunge,
    "jump": exercise.jump,
    "front_kick": kicks.front_kick,
    "side_kick": kicks.side_kick,
    "sit_stand": daily.sit_stand,
    "pick_up": daily.pick_up,
    "arm_raise": daily.arm_raise,
    "reach": daily.reach,
    "seated": rest.seated,
    "floor": rest.floor,
    "lie": rest.lie,
    "carry": social.carry,
    "gesture": social.gesture,
    "dance": sport.dance,
    "sport": sport.sport,
    "free": free.free,
}


def make(name: str, rng: np.random.Generator, body, num_frames: int, fps: float) -> Track:
    """Generate motion ``name``; angles are clipped into the limits."""
    track = MOTIONS[name](rng, body, num_frames, fps)
    track.angles = limits.clip(track.angles)
    track.contact = np.asarray(track.contact, dtype=np.int8)
    return track
