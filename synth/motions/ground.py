"""Placing a motion in the world: the root trajectory from the feet.

Ground contact: the ground is z = 0 and a foot's sole is its ankle minus the body's ankle
height; a foot with a raised heel (``Track.heel``) stands on its toes, that much lower.
In every frame the root height puts the carrying foot on the ground — in ``AUTO`` frames
the lower one — and never lets either sole below it. Horizontally the carrying foot does
not slide: the root moves by minus that foot's motion relative to the root, the step from
one frame to the next being carried by the foot that carried the first (of two feet on
the ground, the one that stays down). Airborne (``FLIGHT``) frames follow a ballistic arc
(g = 9.81 m/s²) from take-off to landing height and move at ``flight_velocity`` (or keep
the take-off velocity). No other joint comes closer to the ground than 3 cm (a free pose
folded over rests on its knees or hands instead of sinking through the floor). Heading
turns the whole body about the vertical. Vectorised over
frames: one FK pass with the root at the origin, cumulative sums for the path, a loop only
over airborne runs.
"""

from __future__ import annotations

import numpy as np

from .. import limits
from ..body import Body, fk
from .track import ANKLE, AUTO, FLIGHT, Track

G = 9.81


def heading_matrix(heading: np.ndarray) -> np.ndarray:
    c, s = np.cos(heading), np.sin(heading)
    m = np.zeros(np.shape(heading) + (3, 3))
    m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1], m[..., 2, 2] = c, -s, s, c, 1.0
    return m


def local_matrices(track: Track) -> np.ndarray:
    """(T, 17, 3, 3) local rotations; joint 0 is the root's global orientation
    (heading · pelvis tilt)."""
    m = limits.to_matrix(track.angles)
    m[:, 0] = heading_matrix(track.heading) @ m[:, 0]
    return m


def _runs(mask: np.ndarray):
    """(start, stop) of every run of True in a 1-D bool mask."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))


BODY_CLEARANCE = 0.03  # metres: the lowest a joint other than an ankle may come to the ground
_ON = 1e-9             # a sole (or a raised heel's toes) this close to the ground touches it


def _height(track: Track, sole, lifted, contact, fps: float, body_floor) -> np.ndarray:
    """Root height (T,): the carrying foot on the ground, nothing below it, arcs in the air."""
    T = len(contact)
    flight = contact == FLIGHT
    anchor = np.where(contact == AUTO, np.argmin(lifted, axis=1), contact)
    anchor = np.where(flight, 0, anchor)
    floor = -sole.min(axis=1)
    z = -lifted[np.arange(T), anchor]
    for a, b in _runs(flight):
        z0 = z[a - 1] if a > 0 else floor[a]
        z1 = z[b] if b < T else z0
        n = b - a + 1                                 # airborne intervals
        k = np.arange(1, n)
        tau, dur = k / fps, n / fps
        z[a:b] = z0 + (z1 - z0) * k / n + 0.5 * G * tau * (dur - tau)
    return np.maximum(np.maximum(z, floor), body_floor)


def _path(track: Track, ankles, lifted, contact, z, fps: float) -> np.ndarray:
    """Horizontal root path (T, 2): a foot on the ground does not slide.

    The step from frame t − 1 to t is carried by a foot that touches the ground at t − 1
    (a foot landing at t was still in the air before it) — of two, the one lower at t
    (the one staying down, not the one lifting off). With no foot down at t − 1: in
    ``FLIGHT`` the body keeps ``flight_velocity`` (or its take-off velocity); otherwise
    (resting on knees or hands) the foot lower over the step carries.
    """
    T = len(contact)
    toes = lifted + z[:, None]                       # height of each foot's lowest point
    on = toes <= _ON
    rows = np.arange(T - 1)
    lower_next = np.where(on[:-1], toes[1:], np.inf)
    carrier = np.where(on[:-1].any(axis=1), np.argmin(lower_next, axis=1),
                       np.argmin(lifted[:-1] + lifted[1:], axis=1))
    delta = np.zeros((T, 2))
    delta[1:] = ankles[rows, carrier, :2] - ankles[rows + 1, carrier, :2]
    airborne = (contact[:-1] == FLIGHT) & ~on[:-1].any(axis=1)
    if airborne.any():
        if track.flight_velocity is not None:
            h = track.heading[1:]
            fwd = np.stack([np.sin(h), -np.cos(h)], axis=-1)
            left = np.stack([np.cos(h), np.sin(h)], axis=-1)
            v = track.flight_velocity[:-1]
            step = (v[:, :1] * fwd + v[:, 1:] * left) / fps
            delta[1:][airborne] = step[airborne]
        else:
            last = np.maximum.accumulate(np.where(airborne, 0, rows + 1))
            delta[1:][airborne] = delta[last[airborne]]
    return np.cumsum(delta, axis=0)


def place(body: Body, track: Track, fps: float, centre: bool = True
          ) -> tuple[np.ndarray, np.ndarray]:
    """Root (pelvis) positions (T, 3) for ``track`` on ``body``, and the contact codes
    actually used (T,) int8: a scheduled ``FLIGHT`` frame in which a foot reaches the
    ground becomes a contact of that foot (it lands early or pushes off late instead of
    skidding). With ``centre`` the path's horizontal extent is centred on the origin."""
    T = track.num_frames
    local = local_matrices(track)
    rel = fk(body.offsets, local, np.zeros((T, 3)))
    ankles = rel[:, list(ANKLE)]                      # (T, 2, 3)
    sole = ankles[..., 2] - float(body.ankle_height)  # (T, 2)
    lifted = sole if track.heel is None else sole - track.heel  # sole of a raised heel's toes
    others = [j for j in range(rel.shape[1]) if j not in ANKLE]
    body_floor = BODY_CLEARANCE - rel[:, others, 2].min(axis=1)   # knees, hands … stay above
    contact = np.asarray(track.contact, dtype=np.int8).copy()
    z = _height(track, sole, lifted, contact, fps, body_floor)
    for _ in range(8):
        touch = (contact == FLIGHT) & ((lifted + z[:, None]).min(axis=1) <= _ON)
        if not touch.any():
            break
        contact[touch] = np.argmin(lifted[touch], axis=1)
        z = _height(track, sole, lifted, contact, fps, body_floor)
    xy = _path(track, ankles, lifted, contact, z, fps)
    root = np.concatenate([xy, z[:, None]], axis=1)
    if centre:
        root[:, :2] -= (root[:, :2].min(axis=0) + root[:, :2].max(axis=0)) / 2
    return root, contact
