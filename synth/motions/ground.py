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
folded over rests on its knees or hands instead of sinking through the floor).
``BODY`` frames (sitting or kneeling on the floor, lying) rest on whatever is lowest: every
joint is a ball of :data:`RADIUS` (the soft tissue between the joint centre and the floor:
pelvis and back 9 cm, knees 5 cm, wrists 3 cm …; an ankle's is the ankle height, less a
raised heel), the lowest ball touches the floor and the step from one frame to the next is
carried by the joint that touched at the first (of several, the one lowest at the next)
— the foot rule applied to every joint. Heading
turns the whole body about the vertical. Vectorised over
frames: one FK pass with the root at the origin, cumulative sums for the path, a loop only
over airborne runs.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from .. import limits
from ..body import Body, fk
from .track import ANKLE, AUTO, BODY, FLIGHT, Track

G = 9.81


def heading_matrix(heading: np.ndarray) -> np.ndarray:
    c, s = np.cos(heading), np.sin(heading)
    m = np.zeros(np.shape(heading) + (3, 3))
    m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1], m[..., 2, 2] = c, -s, s, c, 1.0
    return m


def root_matrix(heading: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
    """(T, 3, 3) heading · base (``base`` (T, 3) rotation vectors; ``None``: none)."""
    h = heading_matrix(heading)
    if base is None or not np.any(base):
        return h
    return h @ Rotation.from_rotvec(np.asarray(base, np.float64).reshape(-1, 3)).as_matrix()


def local_matrices(track: Track) -> np.ndarray:
    """(T, 17, 3, 3) local rotations; joint 0 is the root's global orientation
    (heading · base · pelvis tilt)."""
    m = limits.to_matrix(track.angles)
    m[:, 0] = root_matrix(track.heading, track.base) @ m[:, 0]
    return m


def _runs(mask: np.ndarray):
    """(start, stop) of every run of True in a 1-D bool mask."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))


BODY_CLEARANCE = 0.03  # metres: the lowest a joint other than an ankle may come to the ground
_ON = 1e-9             # a sole (or a raised heel's toes) this close to the ground touches it
# metres between a joint centre and the floor when that joint rests on it (BODY frames);
# the ankles' entries are replaced by the body's ankle height
RADIUS = np.array([0.09, 0.08, 0.05, 0.0, 0.08, 0.05, 0.0, 0.09, 0.09, 0.06, 0.09,
                   0.05, 0.04, 0.03, 0.05, 0.04, 0.03])


def surface(body: Body, positions: np.ndarray, heel: np.ndarray | None = None) -> np.ndarray:
    """(..., 17) height of each joint's lowest surface point (:data:`RADIUS` below its
    centre; an ankle's sole, or its toes when the heel is raised) for ``positions``
    (..., 17, 3)."""
    r = np.broadcast_to(RADIUS, positions.shape[:-1]).copy()
    r[..., list(ANKLE)] = np.asarray(body.ankle_height)[..., None]
    if heel is not None:
        r[..., list(ANKLE)] += heel
    return positions[..., 2] - r


def _height(track: Track, sole, lifted, contact, fps: float, body_floor) -> np.ndarray:
    """Root height (T,): the carrying foot on the ground, nothing below it, arcs in the air."""
    T = len(contact)
    flight = contact == FLIGHT
    anchor = np.where((contact == AUTO) | (contact == BODY), np.argmin(lifted, axis=1), contact)
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


def _body_path(rel, low, contact, delta) -> None:
    """Overwrite ``delta`` (T, 2) for the steps into or out of ``BODY`` frames: carried
    by the joint on the floor at t − 1 (``low`` (T, 17) surface heights, root at 0) that
    is lowest at t."""
    body = contact == BODY
    steps = np.flatnonzero(body[:-1] | body[1:])
    if not len(steps):
        return
    z = -low.min(axis=1)
    h = low + z[:, None]
    on = h[steps] <= _ON
    c = np.argmin(np.where(on, h[steps + 1], np.inf), axis=1)
    delta[steps + 1] = rel[steps, c, :2] - rel[steps + 1, c, :2]


def _path(track: Track, ankles, lifted, contact, z, fps: float, rel=None, low=None
          ) -> np.ndarray:
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
    if rel is not None:
        _body_path(rel, low, contact, delta)
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
    body_frames = contact == BODY
    if body_frames.any():
        low = surface(body, rel, track.heel)
        z = np.where(body_frames, -low.min(axis=1), z)
    xy = _path(track, ankles, lifted, contact, z, fps, rel if body_frames.any() else None,
               low if body_frames.any() else None)
    root = np.concatenate([xy, z[:, None]], axis=1)
    if centre:
        root[:, :2] -= (root[:, :2].min(axis=0) + root[:, :2].max(axis=0)) / 2
    return root, contact
