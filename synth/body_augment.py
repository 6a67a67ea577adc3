"""Body augmentation: proportions, whole-body size, symmetric per-bone length jitter, yaw
about the pelvis' vertical and a translation. Bones are set from the root outwards and the
feet kept on the floor. Config: ``conf/body/`` (:class:`BodyConfig`).

Proportions (``proportions``)
    ``sampled`` (the default): per sequence, one body is drawn from the procedural library's
    correlated model (:func:`synth.body.sample_bodies`, from the sequence's own rng) at the
    input's own height (:func:`input_height`), and every H36M-17 bone gets that body's
    length (:attr:`synth.body.Body.bone_lengths`: left = right), constant over frames; each
    bone keeps its direction in every frame, and the tree is rebuilt from the root outwards.
    Thigh, shank, arm, hip and shoulder widths, head and trunk then vary together as they do
    across people (see :mod:`synth.body`) instead of bone by bone. ``keep``: the input's
    own bone lengths (the behaviour before proportions existed).

    Then the whole-body ``scale`` and the independent per-bone-pair ``bone_jitter`` multiply
    the lengths in both modes. ``bone_jitter`` defaults to 0: the sampled proportions are
    already the per-bone variation, and independent jitter on top would undo their
    correlations. ``proportions=keep bone_jitter=0.04`` is the old default, byte for byte
    (the same draws from the rng, in the same order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from hpd3d.skeleton import H36M

from . import body as body_model

PROPORTIONS = ("sampled", "keep")


@dataclass
class BodyConfig:
    enabled: bool = True
    proportions: str = "sampled"  # sampled: a synth.body body at the input's height; keep
    scale: tuple = (0.9, 1.1)  # whole-body size factor
    bone_jitter: float = 0.0  # extra per-bone-pair factor, ±, left/right kept symmetric
    yaw_deg: tuple = (-180.0, 180.0)  # rotation about the vertical through the pelvis
    translate: tuple = ((-1.0, 1.0), (-1.0, 1.0), (0.0, 0.0))  # metres, per axis

    def check(self, where="body"):
        for name, (lo, hi) in (("scale", self.scale), ("yaw_deg", self.yaw_deg),
                               *((f"translate[{i}]", r) for i, r in enumerate(self.translate))):
            if lo > hi:
                raise ValueError(f"{where}.{name}: min {lo} > max {hi}")
        if self.proportions not in PROPORTIONS:
            raise ValueError(f"{where}.proportions={self.proportions!r}: one of "
                             f"{' | '.join(PROPORTIONS)}")
        if self.scale[0] <= 0 or not 0 <= self.bone_jitter < 0.5:
            raise ValueError(f"{where}: scale must be > 0 and bone_jitter in [0, 0.5)")


def _bone_pairs() -> np.ndarray:
    """Bone index → symmetric-pair id (a left bone and its right twin share one)."""
    perm = H36M.flip_permutation
    bones = [tuple(b) for b in H36M.bones]
    ids = np.empty(len(bones), dtype=int)
    seen: dict = {}
    for i, (p, c) in enumerate(bones):
        key = min((p, c), (perm[p], perm[c]))
        ids[i] = seen.setdefault(key, len(seen))
    return ids


_PAIR = _bone_pairs()


def scale_bones(seq: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Scale each H36M bone by ``factors`` (B,), rebuilding the tree from the root."""
    out = np.array(seq, dtype=np.float64, copy=True)
    for b, (p, c) in enumerate(H36M.bones):  # parents come first in H36M order
        out[..., c, :] = out[..., p, :] + factors[b] * (seq[..., c, :] - seq[..., p, :])
    return out


_BONES = np.asarray(H36M.bones)
# the vertical chain synth.body's height is made of (ankle height aside): shanks and thighs
# (left/right averaged), pelvis → spine → thorax → neck/nose → head top
_CHAIN = {(2, 3): 0.5, (5, 6): 0.5, (1, 2): 0.5, (4, 5): 0.5, (0, 7): 1.0, (7, 8): 1.0,
          (8, 9): 1.0, (9, 10): 1.0}
_CHAIN_W = np.array([_CHAIN.get(tuple(b), 0.0) for b in _BONES.tolist()])
# that chain on the nominal body, as a fraction of its height (≈ 1 − ankle height 0.042)
CHAIN_RATIO = float(body_model.mean_body(1.0).bone_lengths @ _CHAIN_W)


# _ANCESTORS[j, b] = 1 when bone b lies on joint j's chain to the root
_ANCESTORS = np.array([[float(c in H36M.chain(j)) for _, c in H36M.bones]
                       for j in range(len(H36M.joints))])


def _bones(seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bone vectors (..., B, 3) and their lengths (..., B, 1)."""
    d = seq[..., _BONES[:, 1], :] - seq[..., _BONES[:, 0], :]
    return d, np.sqrt(np.einsum("...i,...i->...", d, d))[..., None]


def input_height(seq: np.ndarray, _lengths: np.ndarray | None = None) -> float:
    """The input's standing height in metres as synth.body defines it: the median over
    frames of its shank + thigh (left/right mean) + pelvis → spine → thorax → neck → head
    top bone chain, divided by that chain's share of the height on the nominal body
    (:data:`CHAIN_RATIO`, i.e. plus the nominal ankle height). From bone lengths only, so
    any pose (sitting, lying) and any floor level give the same answer."""
    n = _bones(np.asarray(seq, dtype=np.float64))[1] if _lengths is None else _lengths
    return float(np.median(n[..., 0] @ _CHAIN_W)) / CHAIN_RATIO


def set_bone_lengths(seq: np.ndarray, lengths: np.ndarray, _bone_vectors=None) -> np.ndarray:
    """Every H36M bone at ``lengths`` (B,) in every frame, its direction per frame kept,
    the tree rebuilt from the root (which stays): each joint is the root plus the bones on
    its chain, one matrix product over all frames. A zero-length input bone stays zero."""
    seq = np.asarray(seq, dtype=np.float64)
    d, n = _bones(seq) if _bone_vectors is None else _bone_vectors
    step = d * np.divide(np.asarray(lengths, dtype=np.float64)[:, None], n,
                         out=np.zeros_like(n), where=n > 0)
    return seq[..., :1, :] + _ANCESTORS @ step


def sample_proportions(seq: np.ndarray, rng: np.random.Generator,
                       _lengths: np.ndarray | None = None) -> np.ndarray:
    """(B,) bone lengths of one body of synth.body's model at the input's height."""
    body = body_model.sample_bodies(rng, 1, height=input_height(seq, _lengths))
    return body.bone_lengths[0]


def augment_body(seq: np.ndarray, rng: np.random.Generator, cfg: BodyConfig) -> np.ndarray:
    s = rng.uniform(*cfg.scale)
    pair = 1 + rng.uniform(-cfg.bone_jitter, cfg.bone_jitter, _PAIR.max() + 1)
    if cfg.proportions == "sampled":
        bones = _bones(np.asarray(seq, dtype=np.float64))
        lengths = sample_proportions(seq, rng, bones[1]) * s * pair[_PAIR]
        out = set_bone_lengths(seq, lengths, bones)
    else:
        out = scale_bones(seq, s * pair[_PAIR])
    # keep the feet where they were relative to the ground: scale about the ground point
    out[..., 2] -= out[..., [3, 6], 2].min() - seq[..., [3, 6], 2].min()
    yaw = Rotation.from_euler("z", rng.uniform(*cfg.yaw_deg), degrees=True).as_matrix()
    pivot = out[:, 0].mean(axis=0) * np.array([1.0, 1.0, 0.0])
    out = (out - pivot) @ yaw.T + pivot
    return out + np.array([rng.uniform(lo, hi) for lo, hi in cfg.translate])


def augment(seq: np.ndarray, rng: np.random.Generator, cfg: BodyConfig) -> np.ndarray:
    """The ``body`` step of the chain (:data:`synth.augment.CHAIN`)."""
    return augment_body(seq, rng, cfg)
