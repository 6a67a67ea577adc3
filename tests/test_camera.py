"""Camera model: projection against OpenCV, conversions, Blender (real bpy), look_at, files."""

import dataclasses
import subprocess
import sys

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hpd3d import camera as cm
from hpd3d.camera import Camera
from hpd3d.camera_io import EXTRINSICS_FILE, INTRINSICS_FILE, read_camera_files, write_camera_files
from hpd3d.errors import InputError

TARGET = np.array([0.0, 0.0, 1.0])

# VideoPose3D's h36m_dataset.py, S1, camera 54138969 (intrinsic and extrinsic dicts merged).
VP3D_S1_CAM0 = {
    "id": "54138969",
    "center": [512.54150390625, 515.4514770507812],
    "focal_length": [1145.0494384765625, 1143.7811279296875],
    "radial_distortion": [-0.20709891617298126, 0.24777518212795258, -0.0030751503072679043],
    "tangential_distortion": [-0.0009756988729350269, -0.00142447161488235],
    "res_w": 1000,
    "res_h": 1002,
    "orientation": [
        0.1407056450843811,
        -0.1500701755285263,
        -0.755240797996521,
        0.6223280429840088,
    ],
    "translation": [1841.1070556640625, 4955.28466796875, 1563.4454345703125],
}
# The same camera as the H36M toolbox / 3d-pose-baseline cameras.h5 store it: R world→camera,
# T the centre in mm (X_cam = R · (X − T)); an independent source for the quaternion semantics.
H5_S1_CAM0_R = np.array(
    [
        [-0.91536173, 0.40180837, 0.02574754],
        [0.05154812, 0.18037357, -0.98224649],
        [-0.39931903, -0.89778361, -0.18581953],
    ]
)
H5_S1_CAM0_T = np.array([1841.10702775, 4955.28462345, 1563.4453959])


def random_camera(rng, model="pinhole", name="", square=False, distort=True):
    """A camera on a sphere around TARGET looking at it, random intrinsics and distortion."""
    az, el = rng.uniform(-np.pi, np.pi), rng.uniform(-0.4, 0.6)
    r = rng.uniform(2.5, 7.0)
    C = TARGET + r * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    R = cm.look_at(C, TARGET + rng.normal(scale=0.2, size=3), roll=rng.uniform(-0.3, 0.3))
    W, H = (int(rng.integers(480, 2000)), int(rng.integers(480, 2000)))
    fx = rng.uniform(500, 2000)
    fy = fx if square else fx * rng.uniform(0.97, 1.03)
    cx, cy = W / 2 + rng.uniform(-40, 40), H / 2 + rng.uniform(-40, 40)
    if not distort:
        dist = None
    elif model == "pinhole":
        dist = rng.uniform([-0.3, -0.1, -0.05, -0.005, -0.005], [0.3, 0.1, 0.05, 0.005, 0.005])
    else:
        dist = rng.uniform(-0.05, 0.05, size=4)
    return Camera(W, H, fx, fy, cx, cy, R=R, C=C, dist=dist, model=model, name=name)


def body_points(rng, shape=(50, 17)):
    """Points within ~1 m of TARGET: in front of every random_camera."""
    return TARGET + rng.uniform(-0.8, 0.8, size=shape + (3,))


def cv2_project(X, cam):
    rvec, tvec, K, dist = cm.to_opencv(cam)
    P = np.ascontiguousarray(X.reshape(-1, 1, 3))
    if cam.model == "pinhole":
        uv = cv2.projectPoints(P, rvec, tvec, K, dist)[0]
    else:
        uv = cv2.fisheye.projectPoints(P, rvec.reshape(3, 1), tvec.reshape(3, 1), K, dist)[0]
    return uv.reshape(X.shape[:-1] + (2,))


# ---------------------------------------------------------------- projection vs OpenCV


@pytest.mark.parametrize("model", ["pinhole", "fisheye"])
def test_project_matches_opencv(model):
    rng = np.random.default_rng(1 if model == "pinhole" else 2)
    worst = 0.0
    for _ in range(25):
        cam = random_camera(rng, model)
        X = body_points(rng)
        uv = cm.project(X, cam)
        assert uv.shape == (50, 17, 2)
        worst = max(worst, np.abs(uv - cv2_project(X, cam)).max())
    assert worst <= 1e-6, worst


def test_distortion_actually_matters():
    """Guard against a comparison that passes because distortion is ignored on both sides."""
    rng = np.random.default_rng(3)
    cam = random_camera(rng)
    X = body_points(rng)
    plain = Camera(cam.width, cam.height, cam.fx, cam.fy, cam.cx, cam.cy, R=cam.R, C=cam.C)
    assert np.abs(cm.project(X, cam) - cm.project(X, plain)).max() > 1.0
    # The undistorted projection is K · (R (X − C)) / z, computed directly.
    Xc = (X - cam.C) @ cam.R.T
    ref = (Xc @ cam.K.T)[..., :2] / Xc[..., 2:]
    assert np.abs(cm.project(X, plain) - ref).max() < 1e-9


def test_project_many_equals_per_camera_and_depth():
    rng = np.random.default_rng(4)
    cams = [random_camera(rng, m, name=f"c{i}") for i, m in enumerate(["pinhole", "fisheye"] * 3)]
    X = body_points(rng, (700, 17))  # 11 900 points: crosses the internal block boundary
    uv, depth = cm.project_many(X, cams, return_depth=True)
    assert uv.shape == (6, 700, 17, 2) and depth.shape == (6, 700, 17)
    for i, cam in enumerate(cams):
        assert np.array_equal(uv[i], cm.project(X, cam))
        assert np.abs(uv[i] - cv2_project(X, cam)).max() <= 1e-6
        Xc = np.einsum("ij,tkj->tki", cam.R, X - cam.C)
        assert np.abs(depth[i] - Xc[..., 2]).max() < 1e-12
    assert (depth > 0).all()
    # One camera turned around: every point is behind it.
    back = Camera(
        1000, 1000, 800, 800, 500, 500, R=cm.look_at([0, -5, 1], [0, -10, 1]), C=[0, -5, 1]
    )
    _, d = cm.project(X, back, return_depth=True)
    assert (d < 0).all()


def test_world_camera_round_trip_and_shapes():
    rng = np.random.default_rng(5)
    cams = [random_camera(rng) for _ in range(3)]
    X = rng.normal(size=(4, 17, 3))
    Xc = cm.world_to_camera(X, cams)
    assert Xc.shape == (3, 4, 17, 3)
    for i, c in enumerate(cams):
        assert np.allclose(Xc[i], np.einsum("ij,...j->...i", c.R, X - c.C), atol=1e-12)
        assert np.allclose(cm.world_to_camera(X, c), Xc[i], atol=1e-12)
        assert np.allclose(cm.camera_to_world(Xc[i], c), X, atol=1e-12)
    assert np.allclose(cm.camera_to_world(Xc, cams), X[None], atol=1e-12)
    # the camera centre maps to the camera origin
    assert np.allclose(cm.world_to_camera(cams[0].C, cams[0]), 0, atol=1e-12)


def test_in_image():
    a = Camera(640, 480, 500, 500, 320, 240)
    b = Camera(100, 200, 500, 500, 50, 100)
    uv = np.array([[0, 0], [639.9, 479.9], [640, 10], [-0.1, 10], [10, 480], [50, 150]], float)
    assert cm.in_image(uv, a).tolist() == [True, True, False, False, False, True]
    both = cm.in_image(np.stack([uv, uv]), [a, b])
    assert both[1].tolist() == [True, False, False, False, False, True]
    assert cm.in_image(uv, a, margin=5).tolist() == [False, False, False, False, False, True]
    depth = np.array([1, 1, 1, 1, 1, -1.0])
    assert cm.in_image(uv, a, depth=depth).tolist() == [True, True, False, False, False, False]


# ---------------------------------------------------------------- look_at


def test_look_at_centres_target_and_keeps_up():
    rng = np.random.default_rng(6)
    up = np.array([0.0, 0.0, 1.0])
    for _ in range(50):
        C = rng.normal(size=3) * 4
        T = rng.normal(size=3)
        R = cm.look_at(C, T)
        assert np.allclose(R @ R.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(R), 1)
        cam = Camera(
            1280, 720, 900, 900, 640.5, 360.25, R=R, C=C, dist=[0.1, 0.01, 0, 0.001, 0.001]
        )
        assert np.allclose(cm.project(T, cam), [640.5, 360.25], atol=1e-9)
        cam_up = -R[1]  # the image's up direction in world coordinates
        assert abs(R[0] @ up) < 1e-12  # no roll: the x axis is horizontal
        assert cam_up @ up > 0  # and the image's up points to the sky
        # a point above the target projects straight above the principal point
        u, v = cm.project(T + 0.1 * up, dataclasses.replace(cam, dist=None))
        assert v < 360.25 and abs(u - 640.5) < 1e-6


def test_look_at_roll_and_broadcast():
    C, T = np.array([4.0, 0, 1]), np.array([0.0, 0, 1])
    cam = Camera(1000, 1000, 800, 800, 500, 500, R=cm.look_at(C, T, roll=np.pi / 2), C=C)
    u, v = cm.project(T + [0, 0, 0.2], cam)  # up turns clockwise on screen to the right
    assert u > 500 + 30 and abs(v - 500) < 1e-6
    # A ring of cameras in one call equals one call per camera.
    ang = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ring = np.stack([3 * np.cos(ang), 3 * np.sin(ang), np.full(8, 1.6)], axis=-1)
    rolls = np.linspace(-0.2, 0.2, 8)
    Rs = cm.look_at(ring, T, roll=rolls)
    assert Rs.shape == (8, 3, 3)
    for i in range(8):
        assert np.allclose(Rs[i], cm.look_at(ring[i], T, roll=rolls[i]), atol=1e-15)
    with pytest.raises(ValueError, match="parallel"):
        cm.look_at([0, 0, 5], [0, 0, 0])
    with pytest.raises(ValueError, match="coincide"):
        cm.look_at([1, 2, 3], [1, 2, 3])


# ---------------------------------------------------------------- conversions


def assert_cams_close(a: Camera, b: Camera, tol=1e-9):
    assert (a.width, a.height, a.model, a.name) == (b.width, b.height, b.model, b.name)
    for k in ("fx", "fy", "cx", "cy"):
        assert abs(getattr(a, k) - getattr(b, k)) <= tol * max(1.0, abs(getattr(a, k))), k
    assert np.abs(a.R - b.R).max() <= tol
    assert np.abs(a.C - b.C).max() <= tol
    assert np.abs(a.dist - b.dist).max() <= tol


def test_h36m_semantics_against_h36m_toolbox():
    cam = cm.from_h36m(VP3D_S1_CAM0)
    assert cam.name == "54138969" and (cam.width, cam.height) == (1000, 1002)
    assert np.abs(cam.R - H5_S1_CAM0_R).max() < 1e-6  # float32 quaternion vs float64 matrix
    assert np.abs(cam.C - H5_S1_CAM0_T / 1000).max() < 1e-6
    # the subject (near the world origin, ~1 m up) is in front of and inside every S1 camera
    uv, d = cm.project([0.0, 0.0, 0.9], cam, return_depth=True)
    assert d > 3 and cm.in_image(uv, cam)


def test_h36m_round_trip():
    back = cm.to_h36m(cm.from_h36m(VP3D_S1_CAM0))
    q = np.array(VP3D_S1_CAM0["orientation"])
    assert abs(np.linalg.norm(q) - 1) > 1e-9  # float32 values: the quaternion comes back normalised
    for k, v in {**VP3D_S1_CAM0, "orientation": q / np.linalg.norm(q)}.items():
        if k == "id" or k.startswith("res"):
            assert back[k] == v
        else:
            assert np.abs(np.asarray(back[k]) - v).max() <= 1e-9 * max(1, np.abs(v).max()), k
    rng = np.random.default_rng(7)
    for i in range(10):
        cam = random_camera(rng, name=f"cam{i}")
        assert_cams_close(cm.from_h36m(cm.to_h36m(cam)), cam)


@pytest.mark.parametrize("model", ["pinhole", "fisheye"])
def test_opencv_round_trip(model):
    rng = np.random.default_rng(8)
    for _ in range(10):
        cam = random_camera(rng, model, name="x")
        rvec, tvec, K, dist = cm.to_opencv(cam)
        assert np.allclose(cv2.Rodrigues(rvec)[0], cam.R, atol=1e-12)  # independent rvec check
        assert np.allclose(tvec, -cam.R @ cam.C, atol=1e-12)
        back = cm.from_opencv(rvec, tvec, K, dist, cam.width, cam.height, model=model, name="x")
        assert_cams_close(back, cam)
    # 4-coefficient OpenCV pinhole dist means k3 = 0
    c = cm.from_opencv(
        np.zeros(3),
        [0, 0, 1],
        np.eye(3) * [100, 100, 1] + [[0, 0, 5], [0, 0, 6], [0, 0, 0]],
        [0.1, 0.2, 0.01, 0.02],
        10,
        12,
    )
    assert c.dist.tolist() == [0.1, 0.2, 0.0, 0.01, 0.02] and (c.cx, c.cy) == (5, 6)


def mmpose_simple_camera_world_to_pixel(param, X):
    """MMPose's SimpleCamera (mmpose/core/camera/single_camera.py), row-vector formulas."""
    R_w2c = np.asarray(param["R"])  # SimpleCamera stores R as given and calls it R_w2c
    T_w2c = -np.asarray(param["T"]).T @ R_w2c
    Xc = X @ R_w2c + T_w2c
    k, p = np.ravel(param["k"]), np.ravel(param["p"])
    _X = Xc / Xc[..., 2:]
    r2 = (_X[..., :2] ** 2).sum(-1)
    radial = 1 + sum(ki * r2 ** (i + 1) for i, ki in enumerate(k[:3]))
    tangential = 2 * (p[1] * _X[..., 0] + p[0] * _X[..., 1])
    _X[..., :2] = _X[..., :2] * (radial + tangential)[..., None] + np.outer(r2, p[::-1]).reshape(
        _X[..., :2].shape
    )
    K = np.concatenate(
        (np.diagflat(np.ravel(param["f"])), np.asarray(param["c"]).reshape(2, 1)), axis=-1
    ).T
    return Xc, _X @ K


@pytest.mark.parametrize("unit", ["m", "mm"])
def test_mmpose_round_trip_and_semantics(unit):
    rng = np.random.default_rng(9)
    for i in range(10):
        cam = random_camera(rng, name=f"camera{i}")
        d = cm.to_mmpose(cam, unit=unit)
        assert d["T"].shape == (3, 1) and d["f"].shape == (2, 1) and d["k"].shape == (3, 1)
        assert_cams_close(cm.from_mmpose(d, unit=unit), cam)
        X = body_points(rng, (20,)) * (1000.0 if unit == "mm" else 1.0)
        Xc, uv = mmpose_simple_camera_world_to_pixel(d, X)
        scale = 1000.0 if unit == "mm" else 1.0
        assert np.allclose(Xc / scale, cm.world_to_camera(X / scale, cam), atol=1e-12)
        assert np.abs(uv - cm.project(X / scale, cam)).max() < 1e-6


def test_conversion_chain():
    rng = np.random.default_rng(10)
    for _ in range(5):
        cam = random_camera(rng, name="cam_a", square=True, distort=False)
        h = cm.to_h36m(cam)
        c1 = cm.from_h36m(h)
        c2 = cm.from_opencv(*cm.to_opencv(c1), c1.width, c1.height, name=c1.name)
        c3 = cm.from_mmpose(cm.to_mmpose(c2, unit="mm"), unit="mm")
        c4 = cm.from_blender(**cm.to_blender(c3), name=c3.name)
        h2 = cm.to_h36m(c4)
        for k, v in h.items():
            if isinstance(v, np.ndarray):
                assert np.abs(h2[k] - v).max() <= 1e-9 * max(1, np.abs(v).max()), k
            else:
                assert h2[k] == v
        assert_cams_close(c4, cam)
    # with distortion, without Blender
    cam = random_camera(rng, name="cam_b")
    c = cm.from_mmpose(
        cm.to_mmpose(
            cm.from_opencv(
                *cm.to_opencv(cm.from_h36m(cm.to_h36m(cam))), cam.width, cam.height, name="cam_b"
            ),
            unit="m",
        ),
        unit="m",
    )
    assert_cams_close(c, cam)


def test_blender_round_trip_and_limits():
    rng = np.random.default_rng(11)
    for _ in range(10):
        cam = random_camera(rng, square=True, distort=False)
        b = cm.to_blender(cam, sensor_width=rng.uniform(20, 40))
        M = b["matrix_world"]
        assert np.allclose(M[:3, 3], cam.C)
        assert np.allclose(-M[:3, 2], cam.R[2])  # local −Z looks forward
        assert np.allclose(M[:3, 1], -cam.R[1])  # +Y is the image's up
        assert_cams_close(cm.from_blender(**b), cam)
        b["matrix_world"] = M @ np.diag([2.0, 2.0, 2.0, 1.0])  # object scale is ignored
        assert_cams_close(cm.from_blender(**b), cam)
    with pytest.raises(ValueError, match="square pixels"):
        cm.to_blender(random_camera(rng, distort=False))
    with pytest.raises(ValueError, match="distortion"):
        cm.to_blender(random_camera(rng, square=True))


def _bpy_camera(bpy, settings):
    scene = bpy.context.scene
    data = bpy.data.cameras.new("hpd3d_test_cam")
    obj = bpy.data.objects.new("hpd3d_test_cam", data)
    scene.collection.objects.link(obj)
    data.type = "PERSP"
    data.lens_unit = "MILLIMETERS"
    data.lens = settings["lens"]
    data.sensor_width = settings["sensor_width"]
    data.sensor_fit = "AUTO"
    data.shift_x, data.shift_y = settings["shift_x"], settings["shift_y"]
    r = scene.render
    r.resolution_x, r.resolution_y = settings["resolution_x"], settings["resolution_y"]
    r.resolution_percentage = 100
    r.pixel_aspect_x = r.pixel_aspect_y = 1.0
    return scene, obj


def _bpy_pixels(scene, obj, X):
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    W, H = scene.render.resolution_x, scene.render.resolution_y
    out = np.array([tuple(world_to_camera_view(scene, obj, Vector(p))) for p in X])
    return np.stack([out[:, 0] * W, (1 - out[:, 1]) * H], axis=-1), out[:, 2]


def test_blender_projection_matches_bpy():
    """to_blender → a real bpy camera → world_to_camera_view equals our projection."""
    bpy = pytest.importorskip("bpy")
    from mathutils import Matrix

    rng = np.random.default_rng(12)
    sizes = [(1920, 1080), (720, 1280), (1000, 1000), (1000, 1002)]
    for W, H in sizes:
        for _ in range(3):
            C = TARGET + rng.uniform([-6, -6, -0.5], [6, 6, 3])
            R = cm.look_at(C, TARGET + rng.normal(scale=0.3, size=3), roll=rng.uniform(-0.5, 0.5))
            f = rng.uniform(600, 2500)
            cam = Camera(
                W, H, f, f, W / 2 + rng.uniform(-150, 150), H / 2 + rng.uniform(-150, 150), R=R, C=C
            )
            s = cm.to_blender(cam, sensor_width=rng.uniform(20, 40))
            scene, obj = _bpy_camera(bpy, s)
            obj.matrix_world = Matrix(s["matrix_world"].tolist())
            X = body_points(rng, (40,))
            uv_b, z_b = _bpy_pixels(scene, obj, X)
            uv, z = cm.project(X, cam, return_depth=True)
            assert np.abs(uv - uv_b).max() <= 1e-3, (W, H)
            assert np.abs(z - z_b).max() <= 1e-5
            bpy.data.objects.remove(obj)


def test_from_blender_matches_bpy():
    """A camera set up directly in bpy (Euler rotation, shifts) → from_blender → same pixels."""
    bpy = pytest.importorskip("bpy")
    rng = np.random.default_rng(13)
    for W, H in [(1280, 720), (600, 900)]:
        s = dict(
            lens=rng.uniform(20, 80),
            sensor_width=rng.uniform(20, 40),
            shift_x=rng.uniform(-0.1, 0.1),
            shift_y=rng.uniform(-0.1, 0.1),
            resolution_x=W,
            resolution_y=H,
        )
        scene, obj = _bpy_camera(bpy, s)
        obj.location = (6.0, -5.0, 1.7)
        obj.rotation_euler = (
            np.radians(85),
            np.radians(3),
            np.radians(50),
        )  # roughly at the origin
        bpy.context.view_layer.update()
        d = obj.data
        cam = cm.from_blender(
            d.lens,
            d.sensor_width,
            d.shift_x,
            d.shift_y,
            W,
            H,
            np.array(obj.matrix_world),
            sensor_fit=d.sensor_fit,
        )
        X = TARGET + rng.uniform(-0.8, 0.8, size=(40, 3))
        uv_b, z_b = _bpy_pixels(scene, obj, X)
        uv, z = cm.project(X, cam, return_depth=True)
        assert (z > 0).all() and cm.in_image(uv, cam).mean() > 0.5
        assert np.abs(uv - uv_b).max() <= 1e-3
        assert np.abs(z - z_b).max() <= 1e-5
        bpy.data.objects.remove(obj)


# ---------------------------------------------------------------- Camera validation


def test_camera_validation_and_equality():
    R = Rotation.from_rotvec([0.1, 0.2, 0.3]).as_matrix()
    a = Camera(640, 480, 500, 510, 320, 240, R=R, C=[1, 2, 3], name="a")
    assert a == Camera(
        640.0, 480, 500, 510, 320, 240, R=R.copy(), C=np.array([1.0, 2, 3]), name="a"
    )
    assert a != Camera(640, 480, 500, 510, 320, 240, R=R, C=[1, 2, 3.0000001], name="a")
    assert a.dist.tolist() == [0.0] * 5 and not a.R.flags.writeable
    assert np.allclose(a.K @ [0, 0, 1], [320, 240, 1])
    with pytest.raises(ValueError, match="rotation"):
        Camera(640, 480, 500, 500, 320, 240, R=np.diag([1.0, 1, -1]))
    with pytest.raises(ValueError, match="positive"):
        Camera(640, 480, 0, 500, 320, 240)
    with pytest.raises(ValueError, match="integer"):
        Camera(640.5, 480, 500, 500, 320, 240)
    with pytest.raises(ValueError, match="4 finite"):
        Camera(640, 480, 500, 500, 320, 240, dist=[0.1] * 5, model="fisheye")
    with pytest.raises(ValueError, match="unknown camera model"):
        Camera(640, 480, 500, 500, 320, 240, model="orthographic")


def test_hpd3d_camera_imports_without_cv2_torch_bpy():
    code = (
        "import sys\n"
        "for m in ('cv2', 'torch', 'bpy', 'mathutils'): sys.modules[m] = None\n"
        "import hpd3d.camera, hpd3d.camera_io\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- camera files


def _cams(rng):
    return [
        random_camera(rng, m, name=f"cam_{i}")
        for i, m in enumerate(["pinhole", "fisheye", "pinhole"])
    ]


def test_camera_files_round_trip_exactly(tmp_path):
    cams = _cams(np.random.default_rng(14))
    pi, pe = write_camera_files(tmp_path, cams)
    assert read_camera_files(tmp_path) == cams
    intr = pi.read_text().splitlines()
    extr = pe.read_text().splitlines()
    assert intr[0].startswith("# name model width height fx fy cx cy")
    assert extr[0].startswith("# name r11 r12 r13")
    # intrinsics only in one file, extrinsics only in the other
    assert [len(line.split()) for line in intr[1:]] == [13, 12, 13]
    assert [len(line.split()) for line in extr[1:]] == [13, 13, 13]
    assert intr[2].split()[:4] == ["cam_1", "fisheye", str(cams[1].width), str(cams[1].height)]
    assert float(extr[1].split()[10]) == cams[0].C[0]
    assert not list(tmp_path.glob("*.tmp"))
    # order of the extrinsics file does not matter; the intrinsics file sets the order
    pe.write_text("\n".join([extr[0], extr[3], extr[1], extr[2]]) + "\n")
    assert read_camera_files(tmp_path) == cams


def test_write_camera_files_rejects_bad_names_and_leaves_nothing(tmp_path):
    cams = _cams(np.random.default_rng(15))
    bad = [cams[0], dataclasses.replace(cams[1], name="cam_0")]
    with pytest.raises(ValueError, match="unique"):
        write_camera_files(tmp_path / "out", bad)
    with pytest.raises(ValueError, match="whitespace"):
        write_camera_files(tmp_path / "out", [Camera(10, 10, 5, 5, 5, 5, name="a b")])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def _edit(path, line_no, fn):
    lines = path.read_text().splitlines()
    lines[line_no] = fn(lines[line_no])
    path.write_text("\n".join(lines) + "\n")


def _set(col, value):
    def fn(line):
        f = line.split()
        f[col] = value
        return " ".join(f)

    return fn


MALFORMED = {
    "missing intrinsics": (INTRINSICS_FILE, lambda p: p.unlink(), "missing file"),
    "missing extrinsics": (EXTRINSICS_FILE, lambda p: p.unlink(), "missing file"),
    "intrinsics column count": (
        INTRINSICS_FILE,
        lambda p: _edit(p, 1, lambda s: s.rsplit(" ", 1)[0]),
        "columns",
    ),
    "extrinsics column count": (
        EXTRINSICS_FILE,
        lambda p: _edit(p, 2, lambda s: s + " 1.0"),
        "columns",
    ),
    "non-numeric intrinsics": (
        INTRINSICS_FILE,
        lambda p: _edit(p, 2, _set(4, "abc")),
        "fx is not a number",
    ),
    "non-numeric extrinsics": (
        EXTRINSICS_FILE,
        lambda p: _edit(p, 1, _set(11, "1,5")),
        "not a number",
    ),
    "non-finite": (INTRINSICS_FILE, lambda p: _edit(p, 1, _set(6, "nan")), "not finite"),
    "unknown model": (
        INTRINSICS_FILE,
        lambda p: _edit(p, 1, _set(1, "fishy")),
        "unknown camera model",
    ),
    "zero focal": (INTRINSICS_FILE, lambda p: _edit(p, 1, _set(4, "0.0")), "fx must be positive"),
    "negative focal": (
        INTRINSICS_FILE,
        lambda p: _edit(p, 3, _set(5, "-100.0")),
        "fy must be positive",
    ),
    "fractional width": (
        INTRINSICS_FILE,
        lambda p: _edit(p, 1, _set(2, "640.5")),
        "positive integer",
    ),
    "names mismatch": (
        EXTRINSICS_FILE,
        lambda p: _edit(p, 2, _set(0, "cam_x")),
        "names do not match",
    ),
    "duplicate name": (INTRINSICS_FILE, lambda p: _edit(p, 2, _set(0, "cam_0")), "duplicate"),
    "not a rotation": (EXTRINSICS_FILE, lambda p: _edit(p, 1, _set(1, "2.0")), "not a rotation"),
    "empty": (INTRINSICS_FILE, lambda p: p.write_text("# header only\n"), "no cameras"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_camera_files_raise_input_error(tmp_path, case):
    fname, breaker, problem = MALFORMED[case]
    write_camera_files(tmp_path, _cams(np.random.default_rng(16)))
    breaker(tmp_path / fname)
    with pytest.raises(InputError) as e:
        read_camera_files(tmp_path)
    assert fname in str(e.value) and e.value.path.endswith(fname)
    assert problem in e.value.problem
