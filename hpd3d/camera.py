"""The camera model: intrinsics, extrinsics, projection, ``look_at`` and format conversions.

Conventions (``../shared/docs/DESIGN.md``): world is right-handed, Z up, metres; the camera
frame is OpenCV's (x right, y down, z forward); ``X_cam = R · (X_world − C)`` with ``R``
world→camera and ``C`` the camera centre, so ``t = −R · C``. Pixel ``(0, 0)`` is the top-left
corner of the top-left pixel: the image spans ``[0, W) × [0, H)`` (the convention under which
Blender's principal point is ``(W/2, H/2)``).

Distortion follows OpenCV exactly: ``"pinhole"`` has radial k1 k2 k3 and tangential p1 p2
(``cv2.projectPoints``; H36M's coefficients mean the same); ``"fisheye"`` is Kannala–Brandt
k1..k4 (``cv2.fisheye.projectPoints``). ``Camera.dist`` holds them in *our* order, the order
of the camera files: pinhole ``(k1, k2, k3, p1, p2)``, fisheye ``(k1, k2, k3, k4)``;
:attr:`Camera.opencv_dist` gives OpenCV's ``(k1, k2, p1, p2, k3)``.

Conversions, each with its inverse: H36M/VideoPose3D dicts (:func:`to_h36m`), OpenCV
(:func:`to_opencv`), MMPose ``cameras.pkl`` entries (:func:`to_mmpose`) and Blender camera
settings (:func:`to_blender`, pure numpy). Camera files live in :mod:`hpd3d.camera_io`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

MODELS = ("pinhole", "fisheye")
DIST_NAMES = {"pinhole": ("k1", "k2", "k3", "p1", "p2"), "fisheye": ("k1", "k2", "k3", "k4")}
_FLIP_YZ = np.diag([1.0, -1.0, -1.0])  # Blender camera axes (−Z forward, +Y up) ↔ OpenCV
_CHUNK = 8192  # points per block in the batched projection (keeps temporaries in cache)


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Camera:
    """One calibrated camera. ``R`` world→camera (OpenCV frame), ``C`` centre in metres.

    ``dist`` is in our order (pinhole ``k1 k2 k3 p1 p2``, fisheye ``k1 k2 k3 k4``); zeros
    when omitted. Arrays are stored read-only as float64; ``==`` compares every field exactly.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    R: np.ndarray = field(default_factory=lambda: np.eye(3))
    C: np.ndarray = field(default_factory=lambda: np.zeros(3))
    dist: np.ndarray | None = None
    model: str = "pinhole"
    name: str = ""

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        if self.model not in MODELS:
            raise ValueError(f"unknown camera model {self.model!r} (expected one of {MODELS})")
        for k in ("width", "height"):
            v = getattr(self, k)
            if isinstance(v, (bool, np.bool_)) or int(v) != v or int(v) <= 0:
                raise ValueError(f"{k} must be a positive integer, got {v!r}")
            set_(k, int(v))
        for k in ("fx", "fy", "cx", "cy"):
            set_(k, float(getattr(self, k)))
            if not np.isfinite(getattr(self, k)):
                raise ValueError(f"{k} is not finite")
        if not (self.fx > 0 and self.fy > 0):
            raise ValueError(f"focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        n = len(DIST_NAMES[self.model])
        set_("dist", _frozen(np.zeros(n) if self.dist is None else np.ravel(self.dist)))
        if self.dist.shape != (n,) or not np.isfinite(self.dist).all():
            raise ValueError(
                f"{self.model} distortion needs {n} finite coefficients {DIST_NAMES[self.model]}"
            )
        set_("R", _frozen(self.R))
        set_("C", _frozen(np.ravel(self.C)))
        if self.R.shape != (3, 3) or self.C.shape != (3,):
            raise ValueError(f"R must be 3×3 and C 3 values, got {self.R.shape}, {self.C.shape}")
        if not (np.isfinite(self.R).all() and np.isfinite(self.C).all()):
            raise ValueError("R or C is not finite")
        if not np.allclose(self.R @ self.R.T, np.eye(3), atol=1e-6) or np.linalg.det(self.R) <= 0:
            raise ValueError("R is not a rotation matrix (orthonormal, det +1)")
        set_("name", str(self.name))

    def _scalars(self) -> tuple:
        return (self.width, self.height, self.fx, self.fy, self.cx, self.cy, self.model, self.name)

    def __eq__(self, other):
        if not isinstance(other, Camera):
            return NotImplemented
        return self._scalars() == other._scalars() and all(
            np.array_equal(getattr(self, k), getattr(other, k)) for k in ("R", "C", "dist")
        )

    __hash__ = None

    @property
    def K(self) -> np.ndarray:
        """3×3 intrinsic matrix (no skew)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def t(self) -> np.ndarray:
        """Translation of ``X_cam = R · X_world + t``: ``t = −R · C``."""
        return -self.R @ self.C

    @property
    def opencv_dist(self) -> np.ndarray:
        """Coefficients in OpenCV order: pinhole ``(k1, k2, p1, p2, k3)``, fisheye ``(k1..k4)``."""
        d = self.dist
        return d[[0, 1, 3, 4, 2]] if self.model == "pinhole" else d.copy()

    def project(self, X, return_depth: bool = False):
        """Shorthand for :func:`project` with this camera."""
        return project(X, self, return_depth=return_depth)


# --------------------------------------------------------------------------------------
# Batched geometry
# --------------------------------------------------------------------------------------


def _as_list(cams) -> tuple[list[Camera], bool]:
    if isinstance(cams, Camera):
        return [cams], True
    cams = list(cams)
    if not cams or not all(isinstance(c, Camera) for c in cams):
        raise TypeError("expected a Camera or a non-empty sequence of Camera")
    return cams, False


def _points(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 1 or X.shape[-1] != 3:
        raise ValueError(f"points must have shape (..., 3), got {X.shape}")
    return X


def world_to_camera(X, cams) -> np.ndarray:
    """World points ``(..., 3)`` → camera frame ``(..., 3)``; ``(N, ..., 3)`` for N cameras."""
    X = _points(X)
    cl, single = _as_list(cams)
    R = np.stack([c.R for c in cl])
    t = np.stack([c.t for c in cl])
    out = np.matmul(X.reshape(-1, 3), R.transpose(0, 2, 1)) + t[:, None, :]
    out = out.reshape((len(cl),) + X.shape)
    return out[0] if single else out


def camera_to_world(X_cam, cams) -> np.ndarray:
    """Inverse of :func:`world_to_camera`: ``(..., 3)`` for one camera, ``(N, ..., 3)`` for N."""
    X = _points(X_cam)
    cl, single = _as_list(cams)
    if single:
        return X @ cl[0].R + cl[0].C
    if X.shape[0] != len(cl):
        raise ValueError(
            f"camera-frame points need a leading axis of {len(cl)} cameras, got {X.shape}"
        )
    R = np.stack([c.R for c in cl])
    C = np.stack([c.C for c in cl])
    out = np.matmul(X.reshape(len(cl), -1, 3), R) + C[:, None, :]
    return out.reshape(X.shape)


def _distort_pinhole(x, y, d):
    """OpenCV radial–tangential distortion of normalised coords; ``d`` columns k1 k2 k3 p1 p2."""
    k1, k2, k3, p1, p2 = (d[:, i, None] for i in range(5))
    xx, yy, xy = x * x, y * y, x * y
    r2 = xx + yy
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2.0 * p1 * xy + p2 * (r2 + 2.0 * xx)
    yd = y * radial + p1 * (r2 + 2.0 * yy) + 2.0 * p2 * xy
    return xd, yd


def _distort_fisheye(x, y, d):
    """cv2.fisheye (Kannala–Brandt) distortion of normalised coords; ``d`` columns k1..k4."""
    k1, k2, k3, k4 = (d[:, i, None] for i in range(4))
    r = np.sqrt(x * x + y * y)
    theta = np.arctan(r)
    t2 = theta * theta
    theta_d = theta * (1.0 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))
    small = r <= 1e-8  # cv2.fisheye uses scale 1 at the centre
    scale = np.where(small, 1.0, theta_d / np.where(small, 1.0, r))
    return x * scale, y * scale


class _Stack:
    """Per-camera parameters stacked into arrays, grouped by distortion model."""

    def __init__(self, cl: list[Camera]):
        self.n = len(cl)
        self.A = np.concatenate([c.R for c in cl])  # (3N, 3): one GEMM does every camera
        self.t = np.stack([c.t for c in cl])[:, :, None]  # (N, 3, 1)
        self.f = np.array([[c.fx, c.fy] for c in cl])
        self.c = np.array([[c.cx, c.cy] for c in cl])
        models = np.array([c.model for c in cl])
        self.groups = []
        for m, fn in (("pinhole", _distort_pinhole), ("fisheye", _distort_fisheye)):
            idx = np.flatnonzero(models == m)
            if len(idx):
                sel = slice(None) if len(idx) == self.n else idx
                self.groups.append((sel, fn, np.stack([cl[i].dist for i in idx])))


def _project_flat(Xf: np.ndarray, st: _Stack, chunk: int = _CHUNK):
    """``Xf`` (M, 3) world points → pixels (N, M, 2) and depth (N, M)."""
    M, N = len(Xf), st.n
    uv = np.empty((N, M, 2))
    depth = np.empty((N, M))
    with np.errstate(divide="ignore", invalid="ignore"):
        for s in range(0, M, chunk):
            e = min(s + chunk, M)
            Xc = (st.A @ Xf[s:e].T).reshape(N, 3, e - s)
            Xc += st.t
            z = Xc[:, 2]
            x = Xc[:, 0] / z
            y = Xc[:, 1] / z
            depth[:, s:e] = z
            for sel, fn, d in st.groups:
                xd, yd = fn(x[sel], y[sel], d)
                uv[sel, s:e, 0] = xd * st.f[sel, 0, None] + st.c[sel, 0, None]
                uv[sel, s:e, 1] = yd * st.f[sel, 1, None] + st.c[sel, 1, None]
    return uv, depth


def _project(X_world, cl: list[Camera]):
    X = _points(X_world)
    uv, depth = _project_flat(X.reshape(-1, 3), _Stack(cl))
    lead = (len(cl),) + X.shape[:-1]
    return uv.reshape(lead + (2,)), depth.reshape(lead)


def project(X_world, cam: Camera, return_depth: bool = False):
    """World points ``(..., 3)`` → pixels ``(..., 2)`` with distortion.

    With ``return_depth`` also returns the camera-frame depth ``z`` ``(...)``; points are in
    front of the camera where ``z > 0`` (behind it the pixels are meaningless).
    """
    if not isinstance(cam, Camera):
        raise TypeError("project takes one Camera; use project_many for several")
    uv, depth = _project(X_world, [cam])
    return (uv[0], depth[0]) if return_depth else uv[0]


def project_many(X_world, cams: Sequence[Camera], return_depth: bool = False):
    """World points ``(..., 3)`` (e.g. ``(T, J, 3)``) → pixels ``(N, ..., 2)`` for N cameras.

    Batched: one matrix product per block of points for all cameras, then elementwise
    distortion per model group; no loop over frames or cameras. With ``return_depth`` also
    returns depth ``(N, ...)`` (in front where ``> 0``).
    """
    uv, depth = _project(X_world, _as_list(cams)[0])
    return (uv, depth) if return_depth else uv


def in_image(uv, cams, depth=None, margin: float = 0.0) -> np.ndarray:
    """Mask of pixels inside the image ``[margin, W − margin) × [margin, H − margin)``.

    ``uv`` is ``(..., 2)`` for one camera or ``(N, ..., 2)`` for N; with ``depth`` the point
    must also be in front (``depth > 0``).
    """
    uv = np.asarray(uv, dtype=np.float64)
    cl, single = _as_list(cams)
    shape = () if single else (len(cl),) + (1,) * (uv.ndim - 2)
    W = np.array([c.width for c in cl], dtype=np.float64).reshape(shape)
    H = np.array([c.height for c in cl], dtype=np.float64).reshape(shape)
    u, v = uv[..., 0], uv[..., 1]
    mask = (u >= margin) & (u < W - margin) & (v >= margin) & (v < H - margin)
    if depth is not None:
        mask &= np.asarray(depth) > 0
    return mask


def look_at(centre, target, up=(0.0, 0.0, 1.0), roll=0.0) -> np.ndarray:
    """World→camera rotation (OpenCV frame) of a camera at ``centre`` looking at ``target``.

    The optical axis (+z) points at ``target``; the image's up (−y) is as close to ``up`` as
    possible. ``roll`` (radians) then spins the camera about its optical axis: the image
    content turns clockwise on screen by ``roll``. Broadcasts over leading dimensions:
    ``centre``/``target`` ``(..., 3)``, ``roll`` ``(...)`` → ``(..., 3, 3)``.
    """
    centre = np.asarray(centre, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    up = np.asarray(up, dtype=np.float64)
    z = target - centre
    nz = np.linalg.norm(z, axis=-1, keepdims=True)
    if np.any(nz <= 1e-12):
        raise ValueError("look_at: centre and target coincide")
    z = z / nz
    x = np.cross(z, up)
    nx = np.linalg.norm(x, axis=-1, keepdims=True)
    if np.any(nx <= 1e-9 * np.linalg.norm(up)):
        raise ValueError("look_at: viewing direction is parallel to up")
    x = x / nx
    y = np.cross(z, x)
    R = np.stack(np.broadcast_arrays(x, y, z), axis=-2)
    roll = np.asarray(roll, dtype=np.float64)
    if np.any(roll != 0):
        lead = np.broadcast_shapes(R.shape[:-2], roll.shape)
        rv = np.zeros(lead + (3,))
        rv[..., 2] = roll
        Rz = Rotation.from_rotvec(rv.reshape(-1, 3)).as_matrix().reshape(lead + (3, 3))
        R = Rz @ R
    return R


# --------------------------------------------------------------------------------------
# Conversions
# --------------------------------------------------------------------------------------


def _pinhole_only(cam: Camera, what: str):
    if cam.model != "pinhole":
        raise ValueError(f"{what} has no fisheye model; camera {cam.name!r} is {cam.model}")


def to_h36m(cam: Camera) -> dict:
    """Camera → H36M/VideoPose3D camera dict (raw units: pixels, millimetres).

    ``orientation`` is the camera→world quaternion ``(w, x, y, z)`` (``w ≥ 0``),
    ``translation`` the centre in mm; ``id`` carries the name.
    """
    _pinhole_only(cam, "H36M")
    q = Rotation.from_matrix(cam.R.T).as_quat(canonical=True, scalar_first=True)
    return {
        "id": cam.name,
        "center": np.array([cam.cx, cam.cy]),
        "focal_length": np.array([cam.fx, cam.fy]),
        "radial_distortion": cam.dist[:3].copy(),
        "tangential_distortion": cam.dist[3:].copy(),
        "res_w": cam.width,
        "res_h": cam.height,
        "orientation": q,
        "translation": cam.C * 1000.0,
    }


def from_h36m(d: dict, name: str | None = None) -> Camera:
    """H36M/VideoPose3D camera dict (intrinsic and extrinsic keys merged) → Camera.

    Raw units (pixels, mm), as in VideoPose3D's ``h36m_dataset.py`` literals before its own
    normalisation; the quaternion is normalised (those literals are float32).
    """
    R_c2w = Rotation.from_quat(
        np.asarray(d["orientation"], dtype=np.float64), scalar_first=True
    ).as_matrix()
    dist = np.concatenate([np.ravel(d["radial_distortion"]), np.ravel(d["tangential_distortion"])])
    (fx, fy), (cx, cy) = np.ravel(d["focal_length"]), np.ravel(d["center"])
    return Camera(
        width=d["res_w"],
        height=d["res_h"],
        fx=fx,
        fy=fy,
        cx=cx,
        cy=cy,
        R=R_c2w.T,
        C=np.asarray(d["translation"], dtype=np.float64) / 1000.0,
        dist=dist,
        name=str(d.get("id", "")) if name is None else name,
    )


def to_opencv(cam: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Camera → ``(rvec, tvec, K, dist)``, the argument order of ``cv2.projectPoints``.

    ``dist`` is ``(k1, k2, p1, p2, k3)`` for pinhole, ``D = (k1..k4)`` for fisheye
    (``cv2.fisheye.projectPoints`` takes the same order). ``tvec = −R · C``.
    """
    rvec = Rotation.from_matrix(cam.R).as_rotvec()
    return rvec, cam.t, cam.K, cam.opencv_dist


def from_opencv(
    rvec, tvec, K, dist, width: int, height: int, model: str = "pinhole", name: str = ""
) -> Camera:
    """``(rvec or 3×3 R, tvec, K, dist)`` → Camera. Pinhole ``dist`` may have 4, 5 or more
    coefficients (beyond k3 they must be zero: the rational/thin-prism models are not supported)."""
    rvec = np.asarray(rvec, dtype=np.float64)
    R = rvec if rvec.shape == (3, 3) else Rotation.from_rotvec(rvec.ravel()).as_matrix()
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3) or K[0, 1] != 0 or np.any(K[2] != [0, 0, 1]) or K[1, 0] != 0:
        raise ValueError("K must be a 3×3 intrinsic matrix without skew")
    d = np.zeros(0) if dist is None else np.ravel(np.asarray(dist, dtype=np.float64))
    if model == "pinhole":
        if len(d) > 5 and np.any(d[5:] != 0):
            raise ValueError(
                "only OpenCV's k1 k2 p1 p2 k3 are supported (rational/prism terms must be 0)"
            )
        d = np.concatenate([d, np.zeros(max(0, 5 - len(d)))])[:5]
        d = d[[0, 1, 4, 2, 3]]  # (k1, k2, p1, p2, k3) → (k1, k2, k3, p1, p2)
    C = -R.T @ np.ravel(np.asarray(tvec, dtype=np.float64))
    return Camera(
        width, height, K[0, 0], K[1, 1], K[0, 2], K[1, 2], R=R, C=C, dist=d, model=model, name=name
    )


_UNIT = {"m": 1.0, "mm": 1000.0}


def to_mmpose(cam: Camera, *, unit: str) -> dict:
    """Camera → MMPose ``cameras.pkl`` entry (the ``SimpleCamera`` parameter dict).

    MMPose's ``R`` is camera→world (``SimpleCamera``: ``X_cam = (X − Tᵀ) @ R``, i.e.
    ``R_ours = R_mmposeᵀ``) and ``T`` (3, 1) is the camera centre. ``unit`` is that of ``T``:
    ``"m"`` for MMPose's current ``preprocess_h36m.py`` (which scales by 0.001), ``"mm"`` for
    older versions and raw H36M.
    """
    _pinhole_only(cam, "MMPose")
    return {
        "R": cam.R.T.copy(),
        "T": (cam.C * _UNIT[unit]).reshape(3, 1),
        "f": np.array([[cam.fx], [cam.fy]]),
        "c": np.array([[cam.cx], [cam.cy]]),
        "k": cam.dist[:3].reshape(3, 1).copy(),
        "p": cam.dist[3:].reshape(2, 1).copy(),
        "w": cam.width,
        "h": cam.height,
        "name": cam.name,
    }


def from_mmpose(d: dict, *, unit: str, name: str | None = None) -> Camera:
    """MMPose ``cameras.pkl`` entry → Camera (see :func:`to_mmpose` for ``R``/``T``/``unit``).

    Takes ``f``/``c`` or a 2×3 ``K``; ``k`` may have 3 or 6 entries (6: the last 3 must be 0);
    without ``k``/``p`` there is no distortion. ``w``/``h`` are required.
    """
    if "w" not in d or "h" not in d:
        raise ValueError("MMPose camera has no image size ('w', 'h')")
    if "f" in d and "c" in d:
        (fx, fy), (cx, cy) = np.ravel(d["f"]), np.ravel(d["c"])
    else:
        K = np.asarray(d["K"], dtype=np.float64)
        fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    k = np.ravel(d.get("k", np.zeros(3))).astype(np.float64)
    if len(k) == 6 and np.any(k[3:] != 0):
        raise ValueError("MMPose rational distortion (k4..k6) is not supported")
    dist = np.concatenate([k[:3], np.ravel(d.get("p", np.zeros(2)))])
    R = np.asarray(d["R"], dtype=np.float64).T
    C = np.ravel(np.asarray(d["T"], dtype=np.float64)) / _UNIT[unit]
    name = str(d.get("name", "")) if name is None else name
    return Camera(d["w"], d["h"], fx, fy, cx, cy, R=R, C=C, dist=dist, name=name)


def to_blender(cam: Camera, sensor_width: float = 36.0) -> dict:
    """Camera → Blender camera settings (sensor fit AUTO, pixel aspect 1, resolution 100 %).

    Returns ``lens`` (mm), ``sensor_width`` (mm), ``sensor_fit``, ``shift_x``, ``shift_y``,
    ``resolution_x``, ``resolution_y`` and ``matrix_world`` (4×4, camera→world, Blender camera
    axes: looks down local −Z, +Y up). Needs ``fx == fy`` and no distortion.
    """
    _pinhole_only(cam, "Blender")
    if not np.isclose(cam.fx, cam.fy, rtol=1e-12, atol=0):
        raise ValueError(f"Blender needs square pixels (fx == fy), got {cam.fx} and {cam.fy}")
    if np.any(cam.dist != 0):
        raise ValueError(
            "Blender cameras have no lens distortion; camera has non-zero coefficients"
        )
    s = max(cam.width, cam.height)
    M = np.eye(4)
    M[:3, :3] = cam.R.T @ _FLIP_YZ
    M[:3, 3] = cam.C
    return {
        "lens": cam.fx * sensor_width / s,
        "sensor_width": float(sensor_width),
        "sensor_fit": "AUTO",
        "shift_x": (cam.width / 2.0 - cam.cx) / s,
        "shift_y": (cam.cy - cam.height / 2.0) / s,
        "resolution_x": cam.width,
        "resolution_y": cam.height,
        "matrix_world": M,
    }


def from_blender(
    lens: float,
    sensor_width: float,
    shift_x: float,
    shift_y: float,
    resolution_x: int,
    resolution_y: int,
    matrix_world,
    sensor_fit: str = "AUTO",
    name: str = "",
) -> Camera:
    """Blender camera settings → Camera (inverse of :func:`to_blender`; ``from_blender(**d)``).

    ``f_px = lens / sensor_width · max(W, H)``, ``cx = W/2 − shift_x · max(W, H)``,
    ``cy = H/2 + shift_y · max(W, H)``; ``R = diag(1, −1, −1) · R_blender_w2c``. Scale in
    ``matrix_world`` is ignored (its rotation columns are normalised, as Blender does).
    """
    if sensor_fit != "AUTO":
        raise ValueError(f"only sensor_fit 'AUTO' is supported, got {sensor_fit!r}")
    M = np.asarray(matrix_world, dtype=np.float64)
    if M.shape != (4, 4):
        raise ValueError(f"matrix_world must be 4×4, got {M.shape}")
    W, H = resolution_x, resolution_y
    s = max(W, H)
    f = lens / sensor_width * s
    R_c2w = M[:3, :3] / np.linalg.norm(M[:3, :3], axis=0)
    R = _FLIP_YZ @ R_c2w.T
    return Camera(
        W, H, f, f, W / 2.0 - shift_x * s, H / 2.0 + shift_y * s, R=R, C=M[:3, 3], name=name
    )
