"""3D keypoints → armature import time, and ``foreach_set`` keyframes vs ``keyframe_insert``.

    .venv/bin/python bench/bench_armature.py [--frames 1000 10000] [--insert-frames 200]

The motion is ``cmu_01_01.bvh`` mapped to H36M-17 (2752 frames), played forwards and
backwards until it is long enough, written as an infer npz. For each length:

- import: :func:`blender.import_skeleton.load` in a fresh scene — reading the file, the
  rotation solve (:func:`hpd3d.retarget.solve_rotations`), bones, constraints and all
  F-curves (``ik=false``: 18 bones × 4 quaternion channels + the root's location = 75
  F-curves; ``ik=true`` adds the controllers, poles and foot locks: 123 F-curves);
- keyframes alone: the F-curve writing part of that (``keyframe_points.add`` +
  ``foreach_set`` of ``co`` and ``interpolation`` per F-curve, then ``update``);
- the seed's way, ``keyframe_insert``: per frame and bone, set ``rotation_quaternion``
  and call ``pose_bone.keyframe_insert`` (and the root's location) — timed on
  ``--insert-frames`` frames in the same run and extrapolated linearly to the length
  (its cost per key grows slowly with the curve's length, so the extrapolation flatters it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bpy  # noqa: E402
import numpy as np  # noqa: E402

from blender import import_skeleton as isk  # noqa: E402
from hpd3d import atomic  # noqa: E402
from hpd3d import retarget as rt  # noqa: E402
from hpd3d.bvh import load_bvh  # noqa: E402
from hpd3d.rig import to_h36m  # noqa: E402

DEFAULT_BVH = REPO.parent / "shared" / "data" / "bvh" / "cmu_01_01.bvh"


def motion(n: int, src: np.ndarray) -> np.ndarray:
    reps = []
    k = 0
    while sum(len(r) for r in reps) < n:
        reps.append(src if k % 2 == 0 else src[::-1])
        k += 1
    return np.concatenate(reps)[:n]


def keyframe_insert_seconds(built, frames: int) -> float:
    """The seed's way on a fresh action of the same armature: per frame and bone."""
    obj = built.obj
    obj.animation_data_clear()
    q = built.motion.local[:frames]
    heads, _ = rt.bone_tails(built.rest)
    loc = (built.motion.root[:frames] - heads[0]) @ built.motion.frames[0]
    pbs = [obj.pose.bones[b.name] for b in rt.BONES]
    t0 = time.perf_counter()
    for f in range(frames):
        for i, pb in enumerate(pbs):
            pb.rotation_quaternion = q[f, i]
            pb.keyframe_insert("rotation_quaternion", frame=f + 1)
        pbs[0].location = loc[f]
        pbs[0].keyframe_insert("location", frame=f + 1)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bvh", type=Path, default=DEFAULT_BVH)
    ap.add_argument("--frames", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--insert-frames", type=int, default=200)
    a = ap.parse_args()
    src = to_h36m(load_bvh(a.bvh))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in a.frames:
            p = motion(n, src)
            f = Path(tmp) / f"m{n}.npz"
            atomic.savez(f, world=p, fps=np.float64(120.0))
            res = {}
            for ik in (False, True):
                bpy.ops.wm.read_factory_settings(use_empty=True)
                t0 = time.perf_counter()
                built = isk.load(bpy.context, f, ik=ik)
                res[ik] = (time.perf_counter() - t0, built.seconds)
            ins = keyframe_insert_seconds(built, min(a.insert_frames, n)) * n / min(a.insert_frames, n)
            rows.append((n, res, ins))
    print(f"{'frames':>7} {'import FK':>10} {'import IK':>10} {'solve':>7} {'keys FK':>8} "
          f"{'keys IK':>8} {'keyframe_insert*':>17} {'ratio':>7}")
    for n, res, ins in rows:
        keys_fk = res[False][1]["keyframes"]
        print(f"{n:>7} {res[False][0]:>9.2f}s {res[True][0]:>9.2f}s {res[False][1]['solve']:>6.2f}s "
              f"{keys_fk:>7.3f}s {res[True][1]['keyframes']:>7.3f}s {ins:>16.2f}s {ins / keys_fk:>6.0f}×")
    print(f"* keyframe_insert: {a.insert_frames} frames timed, extrapolated linearly; "
          f"ratio = keyframe_insert / foreach_set for the same 75 F-curves (FK armature)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
