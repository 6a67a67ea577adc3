"""Skeleton layouts and the joint maps between them, each defined once.

A :class:`Skeleton` is a list of joint names with a parent per joint (``-1`` for the
root, only for tree layouts) and its left/right symmetric pairs. Maps between layouts are
matrices: every target joint is a weighted average of source joints, so a conversion is
one ``matmul`` over any leading shape (frames, cameras) and also works for confidences.

H36M-17 order (tests pin it): 0 pelvis, 1 R-hip, 2 R-knee, 3 R-ankle, 4 L-hip, 5 L-knee,
6 L-ankle, 7 spine, 8 thorax, 9 neck/nose, 10 head, 11 L-shoulder, 12 L-elbow,
13 L-wrist, 14 R-shoulder, 15 R-elbow, 16 R-wrist. Indices 1-3 are the RIGHT leg.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Skeleton:
    name: str
    joints: tuple[str, ...]
    parents: tuple[int, ...] | None  # None for layouts that are not a tree (COCO)
    left: tuple[int, ...]
    right: tuple[int, ...]
    edges: tuple[tuple[int, int], ...] = field(default=())

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, name: str) -> int:
        return self.joints.index(name)

    @property
    def bones(self) -> np.ndarray:
        """(B, 2) array of (parent, child) pairs: the tree's bones, else ``edges``."""
        if self.parents is None:
            return np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)
        return np.asarray([(p, c) for c, p in enumerate(self.parents) if p >= 0], dtype=np.int64)

    @property
    def flip_permutation(self) -> np.ndarray:
        """Index array that swaps every left joint with its right twin."""
        perm = np.arange(self.num_joints)
        perm[list(self.left)] = self.right
        perm[list(self.right)] = self.left
        return perm

    @property
    def symmetry(self) -> list[list[int]]:
        """VideoPose3D's ``keypoints_symmetry``: ``[left, right]``."""
        return [list(self.left), list(self.right)]

    # ---- tree walks (tree layouts only; the one place they are written)
    def _tree(self) -> tuple[int, ...]:
        if self.parents is None:
            raise ValueError(f"{self.name} is not a tree (no parents)")
        return self.parents

    @property
    def children(self) -> list[list[int]]:
        """``children[j]``: the joints whose parent is ``j``, in index order."""
        kids = [[] for _ in self.joints]
        for j, p in enumerate(self._tree()):
            if p >= 0:
                kids[p].append(j)
        return kids

    @property
    def has_children(self) -> np.ndarray:
        """(J,) bool: the joint is some joint's parent."""
        return np.array([bool(k) for k in self.children])

    def chain(self, j: int) -> list[int]:
        """``j`` and its ancestors up to the root: ``[j, parent(j), …, root]``."""
        parents, out = self._tree(), [int(j)]
        while parents[out[-1]] >= 0:
            out.append(parents[out[-1]])
        return out

    def depth(self, j: int) -> int:
        """Bones between ``j`` and the root."""
        return len(self.chain(j)) - 1

    def subtree(self, j: int) -> list[int]:
        """``j`` and every joint below it, in index order."""
        kids, out, todo = self.children, [], [int(j)]
        while todo:
            k = todo.pop()
            out.append(k)
            todo.extend(kids[k])
        return sorted(out)

    def subtree_mask(self, j: int) -> np.ndarray:
        """(J,) bool: :meth:`subtree` as a mask."""
        m = np.zeros(self.num_joints, bool)
        m[self.subtree(j)] = True
        return m

    def remove_joints(self, remove) -> tuple["Skeleton", list[int]]:
        """A skeleton without the joints ``remove`` (children re-attach to the nearest kept
        ancestor, as VideoPose3D's ``Skeleton.remove_joints``), and the kept joints' old
        indices."""
        drop = {int(j) for j in remove}
        parents = list(self._tree())
        kept = [j for j in range(self.num_joints) if j not in drop]
        index = {j: k for k, j in enumerate(kept)}

        def up(j):
            p = parents[j]
            while p in drop:
                p = parents[p]
            return index[p] if p >= 0 else -1

        pairs = [(index[a], index[b]) for a, b in zip(self.left, self.right)
                 if a in index and b in index]
        return Skeleton(name=self.name, joints=tuple(self.joints[j] for j in kept),
                        parents=tuple(up(j) for j in kept),
                        left=tuple(a for a, _ in pairs), right=tuple(b for _, b in pairs)), kept


H36M = Skeleton(
    name="h36m",
    joints=(
        "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
        "left_ankle", "spine", "thorax", "neck", "head", "left_shoulder", "left_elbow",
        "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
    ),
    parents=(-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15),
    left=(4, 5, 6, 11, 12, 13),
    right=(1, 2, 3, 14, 15, 16),
)

# Human3.6M's original 32-joint skeleton (VideoPose3D's ``h36m_skeleton``).
H36M32 = Skeleton(
    name="h36m32",
    joints=(
        "hip", "right_hip", "right_knee", "right_foot", "right_toe_base", "right_toe_site",
        "left_hip", "left_knee", "left_foot", "left_toe_base", "left_toe_site",
        "spine", "spine1", "neck", "head", "head_site",
        "left_clavicle", "left_shoulder", "left_elbow", "left_wrist", "left_thumb",
        "left_thumb_site", "left_wrist_end", "left_wrist_end_site",
        "right_clavicle", "right_shoulder", "right_elbow", "right_wrist", "right_thumb",
        "right_thumb_site", "right_wrist_end", "right_wrist_end_site",
    ),
    parents=(-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 12, 16, 17, 18, 19, 20,
             19, 22, 12, 24, 25, 26, 27, 28, 27, 30),
    left=(6, 7, 8, 9, 10, 16, 17, 18, 19, 20, 21, 22, 23),
    right=(1, 2, 3, 4, 5, 24, 25, 26, 27, 28, 29, 30, 31),
)
# The 17 joints VideoPose3D keeps (it removes the other 15 and re-parents).
H36M32_TO_17 = np.array([0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27])

COCO = Skeleton(
    name="coco",
    joints=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
        "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    parents=None,
    left=(1, 3, 5, 7, 9, 11, 13, 15),
    right=(2, 4, 6, 8, 10, 12, 14, 16),
    edges=((0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
           (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16)),
)

# MPI-INF-3DHP's 17-joint test-set layout.
MPI_INF_3DHP = Skeleton(
    name="mpi_inf_3dhp",
    joints=(
        "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
        "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip",
        "left_knee", "left_ankle", "pelvis", "spine", "head",
    ),
    parents=(1, 15, 1, 2, 3, 1, 5, 6, 14, 8, 9, 14, 11, 12, -1, 14, 1),
    left=(5, 6, 7, 11, 12, 13),
    right=(2, 3, 4, 8, 9, 10),
)

# MediaPipe BlazePose's 33 landmarks (mediapipe ``PoseLandmark`` order).
BLAZEPOSE = Skeleton(
    name="blazepose",
    joints=(
        "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
        "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
        "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb",
        "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
        "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
    ),
    parents=None,
    left=(1, 2, 3, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31),
    right=(4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32),
    edges=((0, 2), (0, 5), (2, 7), (5, 8), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
           (11, 23), (12, 24), (23, 24), (23, 25), (25, 27), (24, 26), (26, 28), (27, 29),
           (29, 31), (27, 31), (28, 30), (30, 32), (28, 32)),
)

LAYOUTS = {s.name: s for s in (H36M, H36M32, COCO, MPI_INF_3DHP, BLAZEPOSE)}


def _map_matrix(num_src: int, rows: list[list[int]]) -> np.ndarray:
    """(17, num_src) matrix whose row i averages the source joints ``rows[i]``."""
    m = np.zeros((len(rows), num_src))
    for i, src in enumerate(rows):
        m[i, src] = 1.0 / len(src)
    return m


# MMPose's COCO → H36M (``convert_keypoint_definition``): pelvis = mid-hips, thorax =
# mid-shoulders, spine = mid(pelvis, thorax), neck/nose = nose, head = mid-eyes.
COCO_TO_H36M = _map_matrix(17, [
    [11, 12], [12], [14], [16], [11], [13], [15],
    [11, 12, 5, 6], [5, 6], [0], [1, 2],
    [5], [7], [9], [6], [8], [10],
])

# MPI-INF-3DHP-17 → H36M-17 (as MotionBERT/PoseFormer use it): thorax = neck,
# H36M neck/nose = head, H36M head = head top.
MPI_INF_3DHP_TO_H36M = _map_matrix(17, [
    [14], [8], [9], [10], [11], [12], [13], [15], [1], [16], [0],
    [5], [6], [7], [2], [3], [4],
])

# OpenPose layouts (CMU-Perceptual-Computing-Lab/openpose ``poseParameters.cpp``,
# ``POSE_BODY_25_BODY_PARTS`` / ``POSE_COCO_BODY_PARTS``) → COCO-17: a pure selection
# (their Neck, MidHip and foot points have no COCO twin).
OPENPOSE_BODY25_JOINTS = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar",
    "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
)
OPENPOSE_COCO18_JOINTS = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
)
BODY25_TO_COCO = _map_matrix(25, [[0], [16], [15], [18], [17], [5], [2], [6], [3], [7], [4],
                                  [12], [9], [13], [10], [14], [11]])
COCO18_TO_COCO = _map_matrix(18, [[0], [15], [14], [17], [16], [5], [2], [6], [3], [7], [4],
                                  [11], [8], [12], [9], [13], [10]])


# BlazePose-33 → COCO-17: the same named joint (eyes are BlazePose's eye centres).
BLAZEPOSE_TO_COCO = _map_matrix(33, [
    [0], [2], [5], [7], [8], [11], [12], [13], [14], [15], [16],
    [23], [24], [25], [26], [27], [28],
])


def convert(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a joint map: ``x`` is (..., J_src, C) → (..., J_dst, C)."""
    return np.matmul(matrix, x).astype(x.dtype, copy=False)  # 7× faster than einsum here


def convert_confidence(conf: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Confidences (..., J_src) through a joint map: a target joint made from several
    source joints is only as sure as the least sure of them (the minimum, not the mean:
    a mid-hip with one hip unseen is unseen)."""
    conf = np.asarray(conf)
    used = matrix > 0  # (J_dst, J_src)
    big = np.where(used, conf[..., None, :], np.inf)  # (..., J_dst, J_src)
    return big.min(-1).astype(conf.dtype, copy=False)


def convert_scored(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Keypoints with a score channel (..., J_src, 3) → (..., J_dst, 3): positions averaged,
    scores through :func:`convert_confidence`."""
    out = convert(x[..., :2], matrix)
    score = convert_confidence(x[..., 2], matrix)
    return np.concatenate([out, score[..., None]], axis=-1)


def coco_to_h36m(x: np.ndarray, scored: bool = False) -> np.ndarray:
    """COCO-17 → H36M-17 (..., 17, C). ``scored=True``: the last channel is a detector
    score, propagated as the minimum of the source joints' scores (:func:`convert_scored`)."""
    if scored:
        return convert_scored(x, COCO_TO_H36M)
    return convert(x, COCO_TO_H36M)


def blazepose_to_coco(x: np.ndarray) -> np.ndarray:
    """MediaPipe BlazePose-33 → COCO-17 (..., 33, C): pure selection, scores kept."""
    return x[..., BLAZEPOSE_TO_COCO.argmax(1), :]


def mpi_inf_3dhp_to_h36m(x: np.ndarray) -> np.ndarray:
    return convert(x, MPI_INF_3DHP_TO_H36M)


def h36m32_to_h36m(x: np.ndarray) -> np.ndarray:
    """Human3.6M 32 joints → 17 (VideoPose3D's reduction)."""
    if x.shape[-2] != 32:
        raise ValueError(f"expected 32 joints, got {x.shape[-2]}")
    return x[..., H36M32_TO_17, :]


def flip(x: np.ndarray, skeleton: Skeleton = H36M, axis: int = 0) -> np.ndarray:
    """Mirror poses: negate coordinate ``axis`` and swap left/right joints."""
    out = x[..., skeleton.flip_permutation, :].copy()
    out[..., axis] *= -1
    return out


def bone_lengths(x: np.ndarray, skeleton: Skeleton = H36M) -> np.ndarray:
    """(..., J, 3) → (..., B) lengths of the skeleton's bones."""
    b = skeleton.bones
    return np.linalg.norm(x[..., b[:, 1], :] - x[..., b[:, 0], :], axis=-1)
