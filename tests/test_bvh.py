"""BVH parsing, FK and writing: real files, an independent FK, Blender, edge cases, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hpd3d.bvh import Bvh, dumps_bvh, from_local, load_bvh, parse_bvh, save_bvh
from hpd3d.errors import InputError
from hpd3d.rig import y_up_to_z_up

# name → (frames, joints without End Sites, channels, fps)
REAL = {
    "cmu_01_01.bvh": (2752, 31, 96, 120.0),
    "cmu_skeleton_example.bvh": (278, 31, 96, 120.0),
    "mixamo_rig.bvh": (69, 55, 168, 30.0),
    "mocapbank_19joint.bvh": (455, 19, 60, 30.0),
    "walk_23joint.bvh": (1064, 23, 72, 120.0),
}

_cache: dict[str, Bvh] = {}


def real(bvh_dir, name) -> Bvh:
    if name not in _cache:
        _cache[name] = load_bvh(bvh_dir / name)
    return _cache[name]


def naive_fk(bvh: Bvh, frames) -> tuple[np.ndarray, np.ndarray]:
    """Reference FK straight from the channel values: per frame, per joint, scipy + matmul."""
    J = bvh.num_joints
    start = np.concatenate([[0], np.cumsum([len(c) for c in bvh.channels])])
    pos = np.zeros((len(frames), J, 3))
    rot = np.zeros((len(frames), J, 3, 3))
    for f, t in enumerate(frames):
        for j in range(J):
            vals = bvh.motion[t, start[j]:start[j + 1]]
            seq, angles, trans = "", [], bvh.offsets[j].copy()
            for name, v in zip(bvh.channels[j], vals):
                if name.endswith("rotation"):
                    seq += name[0]
                    angles.append(v)
                else:
                    trans["XYZ".index(name[0])] = v
            local = Rotation.from_euler(seq, angles, degrees=True).as_matrix() if seq else np.eye(3)
            p = bvh.parents[j]
            if p < 0:
                rot[f, j], pos[f, j] = local, trans
            else:
                rot[f, j] = rot[f, p] @ local
                pos[f, j] = pos[f, p] + rot[f, p] @ trans
    return pos, rot


# ------------------------------------------------------------------ real files
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_file_loads(bvh_dir, name):
    b = real(bvh_dir, name)
    frames, joints, channels, fps = REAL[name]
    assert b.num_frames == frames
    assert int((~b.is_end).sum()) == joints
    assert b.motion.shape == (frames, channels)
    assert b.fps == fps
    assert b.parents[0] == -1 and (b.parents[1:] < np.arange(1, b.num_joints)).all()
    assert all(len(c) == 0 for c, e in zip(b.channels, b.is_end) if e)
    assert len(set(b.names)) == b.num_joints
    assert b.path.endswith(name)


@pytest.mark.parametrize("name", sorted(REAL))
def test_round_trip_exact(bvh_dir, name):
    b = real(bvh_dir, name)
    b2 = parse_bvh(dumps_bvh(b))
    assert b2.names == b.names and b2.channels == b.channels
    np.testing.assert_array_equal(b2.parents, b.parents)
    np.testing.assert_array_equal(b2.is_end, b.is_end)
    np.testing.assert_array_equal(b2.offsets, b.offsets)
    np.testing.assert_array_equal(b2.motion, b.motion)
    assert b2.frame_time == b.frame_time


def test_round_trip_full_precision(bvh_dir, tmp_path):
    b = real(bvh_dir, "mocapbank_19joint.bvh")
    rng = np.random.default_rng(0)
    b = Bvh(b.names, b.parents, b.offsets + rng.normal(0, 1e-3, b.offsets.shape), b.channels,
            rng.normal(0, 90, (7, b.motion.shape[1])), 1 / 60, b.is_end)
    save_bvh(tmp_path / "x.bvh", b, precision=None)
    b2 = load_bvh(tmp_path / "x.bvh")
    np.testing.assert_array_equal(b2.motion, b.motion)
    np.testing.assert_array_equal(b2.offsets, b.offsets)
    assert b2.frame_time == b.frame_time and b2.fps == 60.0
    # the default 9 significant digits is close, not exact, for such data
    b9 = parse_bvh(dumps_bvh(b))
    np.testing.assert_allclose(b9.motion, b.motion, rtol=1e-8, atol=0)
    assert not [p.name for p in tmp_path.iterdir() if p.name != "x.bvh"]  # atomic: no leftovers


@pytest.mark.parametrize("name", sorted(REAL))
def test_fk_matches_naive(bvh_dir, name):
    b = real(bvh_dir, name)
    frames = [0, 1, b.num_frames // 2, b.num_frames - 1]
    ref_pos, ref_rot = naive_fk(b, frames)
    scale = np.abs(ref_pos).max()
    np.testing.assert_allclose(b.fk()[frames], ref_pos, rtol=0, atol=1e-12 * scale)
    rot, pos = b.fk_transforms()
    np.testing.assert_allclose(pos[frames], ref_pos, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(rot[frames], ref_rot, rtol=0, atol=1e-12)


def test_local_rotations_and_translations(bvh_dir):
    b = real(bvh_dir, "walk_23joint.bvh")
    T, J = b.num_frames, b.num_joints
    q = b.local_rotations().as_quat().reshape(T, J, 4)
    root = Rotation.from_euler("XYZ", b.motion[:, 3:6], degrees=True)
    assert np.allclose(np.abs(np.sum(q[:, 0] * root.as_quat(), -1)), 1.0)
    ends = np.flatnonzero(b.is_end)
    np.testing.assert_array_equal(q[:, ends], np.broadcast_to([0, 0, 0, 1.0], (T, len(ends), 4)))
    t = b.local_translations()
    np.testing.assert_array_equal(t[:, 0], b.motion[:, :3])  # root: position channels replace the offset
    np.testing.assert_array_equal(t[:, 1:], np.broadcast_to(b.offsets[1:], (T, J - 1, 3)))


def test_fk_large_clip_blocks(bvh_dir):
    """More frames than one FK block, with a ragged last block."""
    b = real(bvh_dir, "cmu_01_01.bvh")
    rng = np.random.default_rng(1)
    m = rng.uniform(-180, 180, (9001, b.motion.shape[1]))
    big = Bvh(b.names, b.parents, b.offsets, b.channels, m, b.frame_time, b.is_end)
    frames = [0, 4095, 4096, 8191, 8192, 9000]
    pos = big.fk()
    ref, _ = naive_fk(big, frames)
    np.testing.assert_allclose(pos[frames], ref, atol=1e-11)


def test_fk_against_blender(bvh_dir, tmp_path):
    """Blender's own BVH importer, evaluated pose-bone heads, on a ZXY-order file."""
    bpy = pytest.importorskip("bpy")
    text = (bvh_dir / "mocapbank_19joint.bvh").read_text()
    lines = text.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("Frames:"))
    frames = 12
    short = tmp_path / "short.bvh"
    short.write_text("\n".join(lines[:i] + [f"Frames: {frames}"] + lines[i + 1: i + 2 + frames]) + "\n")
    b = load_bvh(short)
    pos = b.fk()

    def blender_heads(**axes):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.import_anim.bvh(filepath=str(short), global_scale=1.0, rotate_mode="NATIVE",
                                frame_start=1, use_fps_scale=False, **axes)
        arm = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
        names = [pb.name for pb in arm.pose.bones]
        out = np.zeros((frames, len(names), 3))
        for t in range(frames):
            bpy.context.scene.frame_set(1 + t)  # BVH frame t is Blender frame frame_start + t
            out[t] = [tuple(arm.matrix_world @ pb.head) for pb in arm.pose.bones]
        return [b.index(n) for n in names], out

    # identity axis conversion: Blender's heads are our FK in file units and axes
    idx, heads = blender_heads(axis_forward="Y", axis_up="Z")
    assert len(idx) == int((~b.is_end).sum())
    assert np.abs(heads - pos[:, idx]).max() <= 1e-4
    # Blender's default conversion (-Z forward, Y up) is our y_up_to_z_up
    idx, heads = blender_heads(axis_forward="-Z", axis_up="Y")
    assert np.abs(heads - y_up_to_z_up(pos[:, idx])).max() <= 1e-4


# ------------------------------------------------------------ synthetic files
def make_bvh(orders=("ZYX", "ZYX", "ZYX"), six=False, nl="\n", sep=" ", fmt="{:.6f}",
             frames=3, seed=0, end_name_clash=False):
    """Chain root → a → b (→ End Site), optionally a JOINT named like b's End Site."""
    rng = np.random.default_rng(seed)
    names = ["root", "a", "b"]
    offsets = [(0.5, 1.0, -0.25), (0.0, 2.0, 0.5), (1.5, 0.0, 0.0)]
    chans = []
    for j, order in enumerate(orders):
        rot = [f"{a}rotation" for a in order]
        chans.append((["Xposition", "Yposition", "Zposition"] if (j == 0 or six) else []) + rot)
    lines = ["HIERARCHY"]
    ind = ""
    for j, name in enumerate(names):
        lines += [f"{ind}{'ROOT' if j == 0 else 'JOINT'} {name}", f"{ind}{{",
                  f"{ind}{sep}OFFSET{sep}" + sep.join(fmt.format(v) for v in offsets[j]),
                  f"{ind}{sep}CHANNELS {len(chans[j])}{sep}" + sep.join(chans[j])]
        ind += sep
    lines += [f"{ind}End Site", f"{ind}{{", f"{ind}{sep}OFFSET 0.0 1.0 0.0", f"{ind}}}"]
    if end_name_clash:
        lines += [f"{ind}JOINT b_End", f"{ind}{{", f"{ind}{sep}OFFSET 1 1 1", f"{ind}{sep}CHANNELS 0",
                  f"{ind}}}"]
    for j in reversed(range(3)):
        lines.append(sep * j + "}")
    C = sum(len(c) for c in chans)
    motion = rng.uniform(-170, 170, (frames, C))
    lines += ["MOTION", f"Frames:{sep}{frames}", f"Frame Time:{sep}0.04"]
    lines += [sep.join(fmt.format(v) for v in row) for row in motion]
    return nl.join(lines) + nl, motion, chans


@pytest.mark.parametrize("orders", [("ZYX", "ZYX", "ZYX"), ("XYZ", "ZXY", "YZX"), ("YXZ", "XZY", "ZYX")])
@pytest.mark.parametrize("six", [False, True])
def test_synthetic_orders_and_six_channels(orders, six):
    text, motion, chans = make_bvh(orders, six=six, fmt="{!r}")
    b = parse_bvh(text, path="synthetic.bvh")
    assert b.names == ["root", "a", "b", "b_End"]
    assert b.channels[:3] == [tuple(c) for c in chans] and b.channels[3] == ()
    np.testing.assert_array_equal(b.motion, motion)
    ref, ref_rot = naive_fk(b, range(b.num_frames))
    np.testing.assert_allclose(b.fk(), ref, atol=1e-12)
    rot, _ = b.fk_transforms()
    np.testing.assert_allclose(rot, ref_rot, atol=1e-12)
    if six:  # position channels replace the offset on every joint
        np.testing.assert_array_equal(b.local_translations()[:, 1], motion[:, 6:9])


def test_synthetic_crlf_tabs_scientific():
    text, motion, _ = make_bvh(("ZXY",) * 3, nl="\r\n", sep="\t", fmt="{:.10e}")
    assert "\r\n" in text and "e+" in text and "\t" in text
    b = parse_bvh(text)
    np.testing.assert_allclose(b.motion, motion, rtol=1e-10)
    ref, _ = naive_fk(b, range(b.num_frames))
    np.testing.assert_allclose(b.fk(), ref, atol=1e-12)
    b_cr = parse_bvh(text.replace("\r\n", "\r"))  # old-Mac line ends too
    np.testing.assert_array_equal(b_cr.motion, b.motion)
    b_up = parse_bvh(text.replace("E", "e").replace("e", "E"))  # capital exponent
    np.testing.assert_array_equal(b_up.motion, b.motion)


def test_known_rotation():
    text = ("HIERARCHY\nROOT r\n{ OFFSET 0 0 0\n"
            " CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
            " JOINT c\n {\n  OFFSET 1 0 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n"
            "  End Site\n  {\n   OFFSET 0 2 0\n  }\n }\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n"
            "10 20 30 90 0 0 0 90 0\n")
    b = parse_bvh(text)
    # root at (10,20,30) turned 90° about Z: child offset +X → +Y; child turns 90° about X: +Y → +Z
    np.testing.assert_allclose(b.fk()[0], [[10, 20, 30], [10, 21, 30], [10, 21, 32]], atol=1e-12)


def test_end_site_name_clash_and_no_motion():
    text, _, _ = make_bvh(end_name_clash=True, frames=0)
    b = parse_bvh(text)
    assert b.names == ["root", "a", "b", "b_End2", "b_End"]
    assert list(b.is_end) == [False, False, False, True, False]
    assert b.num_frames == 0 and b.fk().shape == (0, 5, 3)
    b2 = parse_bvh(dumps_bvh(b))
    assert b2.names == b.names


def test_from_local_round_trip(bvh_dir):
    src = real(bvh_dir, "cmu_01_01.bvh")
    keep = np.flatnonzero(~src.is_end)
    remap = {int(j): i for i, j in enumerate(keep)}
    names = [src.names[j] for j in keep]
    parents = [remap.get(int(src.parents[j]), -1) for j in keep]
    offsets = src.offsets[keep]
    T, J = 50, len(keep)
    rng = np.random.default_rng(3)
    rots = Rotation.random(T * J, random_state=4)
    root = rng.normal(0, 10, (T, 3))
    b = from_local(names, parents, offsets, rots, root, 1 / 30, euler_order="ZXY")
    assert b.channels[0] == ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
    assert b.channels[1] == ("Zrotation", "Xrotation", "Yrotation")
    # FK from the rotations themselves
    R = rots.as_matrix().reshape(T, J, 3, 3)
    ref = np.zeros((T, J, 3))
    G = np.zeros((T, J, 3, 3))
    for j, p in enumerate(parents):
        if p < 0:
            G[:, j], ref[:, j] = R[:, j], root
        else:
            G[:, j] = G[:, p] @ R[:, j]
            ref[:, j] = ref[:, p] + np.einsum("tab,b->ta", G[:, p], offsets[j])
    np.testing.assert_allclose(b.fk(), ref, atol=1e-10)
    q = b.local_rotations().as_quat()
    assert np.allclose(np.abs(np.sum(q * rots.as_quat(), -1)), 1.0)
    b2 = parse_bvh(dumps_bvh(b, precision=None))
    np.testing.assert_array_equal(b2.fk(), b.fk())
    # quaternion-array input gives the same file
    b3 = from_local(names, parents, offsets, rots.as_quat().reshape(T, J, 4), root, 1 / 30)
    np.testing.assert_allclose(b3.fk(), b.fk(), atol=1e-10)


# ------------------------------------------------------------------ bad input
GOOD, _, _ = make_bvh(frames=3)


def _truncate_motion(t):
    return t[: t.rindex("\n", 0, len(t) - 1) - 20] + "\n"


BAD = {
    "truncated_hierarchy": lambda t: t[: t.index("JOINT b")],
    "missing_motion": lambda t: t[: t.index("MOTION")],
    "truncated_motion": _truncate_motion,
    "frames_mismatch": lambda t: t.replace("Frames: 3", "Frames: 5"),
    "frames_too_few": lambda t: t.replace("Frames: 3", "Frames: 2"),
    "wrong_value_count": lambda t: t.replace("\nFrame Time: 0.04\n", "\nFrame Time: 0.04\n1.0 "),
    "nan_value": lambda t: _replace_value(t, "nan"),
    "inf_value": lambda t: _replace_value(t, "-inf"),
    "not_a_number": lambda t: _replace_value(t, "abc"),
    "extra_close_brace": lambda t: t.replace("MOTION", "}\nMOTION"),
    "missing_close_brace": lambda t: t.replace("}\nMOTION", "MOTION"),
    "unknown_channel": lambda t: t.replace("Zrotation", "Wrotation", 1),
    "channel_count": lambda t: t.replace("CHANNELS 3", "CHANNELS 4", 1),
    "no_root": lambda t: "HIERARCHY\n" + t[t.index("MOTION"):],
    "not_bvh": lambda t: "hello world\n",
    "empty": lambda t: "",
    "bad_frame_time": lambda t: t.replace("Frame Time: 0.04", "Frame Time: zero"),
}


def _replace_value(text: str, token: str) -> str:
    head, tail = text.rsplit("\n", 2)[0], text.rsplit("\n", 2)[1]
    vals = tail.split()
    vals[4] = token
    return head + "\n" + " ".join(vals) + "\n"


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises(tmp_path, case):
    path = tmp_path / f"broken_{case}.bvh"
    path.write_text(BAD[case](GOOD))
    with pytest.raises(InputError) as e:
        load_bvh(path)
    msg = str(e.value)
    assert path.name in msg and "\n" not in msg, msg
    expect = {"nan_value": "non-finite", "inf_value": "non-finite", "unknown_channel": "Wrotation",
              "extra_close_brace": "brace", "missing_close_brace": "brace", "no_root": "ROOT",
              "frames_mismatch": "Frames: 5", "missing_motion": "MOTION",
              "truncated_hierarchy": "truncated", "truncated_motion": "truncated",
              "wrong_value_count": "values"}.get(case)
    if expect:
        assert expect in msg, msg


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="nope.bvh: file not found"):
        load_bvh(tmp_path / "nope.bvh")


def test_fk_any_topological_order():
    """Joints not in depth-first order, joints without channels that have children."""
    parents = [-1, 0, 0, 1, 2, 3, 1, 4]
    channels = [("Xposition", "Yposition", "Zposition", "Yrotation", "Xrotation", "Zrotation"),
                (), ("Zrotation", "Xrotation"), ("Xrotation", "Yrotation", "Zrotation"),
                ("Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation"),
                (), ("Yrotation",), ()]
    rng = np.random.default_rng(5)
    offsets = rng.normal(size=(8, 3))
    C = sum(len(c) for c in channels)
    b = Bvh([f"j{i}" for i in range(8)], parents, offsets, channels,
            rng.uniform(-180, 180, (9000, C)), 0.01, [False] * 7 + [True])
    frames = [0, 1, 4097, 8999]
    ref_pos, ref_rot = naive_fk(b, frames)
    np.testing.assert_allclose(b.fk()[frames], ref_pos, atol=1e-12)
    rot, pos = b.fk_transforms()
    np.testing.assert_allclose(pos[frames], ref_pos, atol=1e-12)
    np.testing.assert_allclose(rot[frames], ref_rot, atol=1e-12)
    # written depth-first: same skeleton, joints reordered by name
    b2 = parse_bvh(dumps_bvh(b, precision=None))
    idx = [0, 1, 3, 5, 6, 2, 4, 7]
    assert b2.names == [f"j{i}" for i in idx[:-1]] + ["j4_End"]  # End Sites are named after their parent
    np.testing.assert_allclose(b2.fk(), b.fk()[:, idx], atol=1e-12)


def test_fk_blocks_match_one_pass_and_plain_matmul(bvh_dir, monkeypatch):
    """The blocked kernel equals the straightforward batched-matmul FK."""
    import hpd3d.fk as fk

    src = real(bvh_dir, "cmu_01_01.bvh")
    b = Bvh(src.names, src.parents, src.offsets, src.channels, src.motion[:1000], src.frame_time, src.is_end)
    big = b.fk_transforms()
    monkeypatch.setattr(fk, "_FK_BLOCK", 64)
    small = b.fk_transforms()
    for a, c in zip(big, small):
        np.testing.assert_allclose(c, a, atol=1e-12)
    local = b.local_rotations().as_matrix().reshape(b.num_frames, b.num_joints, 3, 3)
    t = b.local_translations()
    G = np.empty_like(local)
    P = np.empty_like(t)
    for j in fk.topological_order(b.parents):
        p = b.parents[j]
        G[:, j] = local[:, j] if p < 0 else G[:, p] @ local[:, j]
        P[:, j] = t[:, j] if p < 0 else P[:, p] + np.einsum("tij,tj->ti", G[:, p], t[:, j])
    np.testing.assert_allclose(big[0], G, atol=1e-12)
    np.testing.assert_allclose(big[1], P, atol=1e-9)


def test_sincos_degrees():
    from hpd3d.fk import _SinCosDeg

    rng = np.random.default_rng(7)
    deg = rng.uniform(-720, 720, (3, 1000))
    deg[0, :8] = [0, 90, 180, 270, -90, 360, -180, 1e-12]
    s, c = np.empty_like(deg), np.empty_like(deg)
    _SinCosDeg(1000)(deg, s, c)
    np.testing.assert_allclose(s, np.sin(np.radians(deg)), rtol=0, atol=2e-15)
    np.testing.assert_allclose(c, np.cos(np.radians(deg)), rtol=0, atol=2e-15)
    np.testing.assert_array_equal(s[0, :7], [0, 1, 0, -1, -1, 0, 0])  # right angles exact
    np.testing.assert_array_equal(c[0, :7], [1, 0, -1, 0, 0, 1, -1])
    assert s[0, 7] == pytest.approx(np.radians(1e-12), rel=1e-15)
