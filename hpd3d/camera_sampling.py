"""Camera sampling for synthetic views: rings or spheres around the subject.

Shared by the synth stage and the Blender stage (the same ``conf/camera`` configs).

A :class:`CameraConfig` gives ranges; :func:`sample_cameras` draws ``count`` cameras for
one sequence that look at the subject (with jitter and roll), with random lenses
(focal length, principal point, resolution, radial + tangential distortion, or the
fisheye model). Each camera must see the whole sequence in front of it, stay clear of the
body, and keep at least ``min_in_frame`` of the keypoints inside the image; candidates
are drawn in batches and the first that qualifies is kept. The achieved in-frame
fraction is returned so the caller can report it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hpd3d.camera import Camera, in_image, look_at, project_many


@dataclass
class CameraConfig:
    layout: str = "ring"  # ring: evenly spaced azimuths (+ jitter); sphere: uniform azimuth
    count: int = 4
    distance: tuple = (3.5, 6.0)  # metres from the look-at target
    elevation_deg: tuple = (-5.0, 25.0)  # camera above (+) / below (−) the target
    azimuth_jitter_deg: float = 15.0  # ring only
    target_height: float = 0.0  # look-at point above the mean pelvis, metres
    look_at_jitter: float = 0.15  # metres, uniform per axis
    roll_deg: tuple = (-5.0, 5.0)
    focal_mm: tuple = (20.0, 50.0)  # 36 mm sensor width equivalent (Blender's AUTO fit)
    sensor_mm: float = 36.0
    resolutions: tuple = ((1000, 1000), (1920, 1080), (1280, 720), (1080, 1920))
    principal_jitter: float = 0.02  # fraction of the image size
    distortion_prob: float = 0.5
    k1: tuple = (-0.25, 0.1)
    k2: tuple = (-0.05, 0.05)
    k3: tuple = (-0.01, 0.01)
    p: tuple = (-0.002, 0.002)  # p1, p2
    fisheye_prob: float = 0.0
    fisheye_k: tuple = ((-0.05, 0.05), (-0.01, 0.01), (-0.005, 0.005), (-0.002, 0.002))
    min_in_frame: float = 0.9  # required fraction of keypoints inside the image
    min_clearance: float = 0.5  # metres from the camera centre to every joint
    min_height: float = 0.3  # metres: every camera centre at least this far above the floor
    tries: int = 64
    extra: dict = field(default_factory=dict)

    def check(self, where: str = "camera") -> None:
        def rng_ok(name, lo_min=None):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{where}.{name}: min {lo} > max {hi}")
            if lo_min is not None and lo <= lo_min:
                raise ValueError(f"{where}.{name}: must be > {lo_min}, got {lo}")

        if self.layout not in ("ring", "sphere"):
            raise ValueError(f"{where}.layout: 'ring' or 'sphere', got {self.layout!r}")
        if self.count < 1 or self.tries < 1:
            raise ValueError(f"{where}: count and tries must be ≥ 1")
        rng_ok("distance", 0.0)
        rng_ok("focal_mm", 0.0)
        for name in ("elevation_deg", "roll_deg", "k1", "k2", "k3", "p"):
            rng_ok(name)
        lo, hi = self.elevation_deg
        if lo <= -90 or hi >= 90:
            raise ValueError(f"{where}.elevation_deg: must lie inside (−90, 90)")
        if self.distance[0] <= self.min_clearance:
            raise ValueError(f"{where}.distance: min {self.distance[0]} m puts the camera "
                             f"inside the body (min_clearance {self.min_clearance} m)")
        if not self.min_height >= 0:
            raise ValueError(f"{where}.min_height: must be ≥ 0 (metres above the floor), "
                             f"got {self.min_height}")
        if self.sensor_mm <= 0 or not self.resolutions:
            raise ValueError(f"{where}: sensor_mm must be > 0 and resolutions non-empty")
        for w, h in self.resolutions:
            if w <= 0 or h <= 0:
                raise ValueError(f"{where}.resolutions: non-positive size {w}x{h}")
        if not (0 <= self.min_in_frame <= 1 and 0 <= self.distortion_prob <= 1
                and 0 <= self.fisheye_prob <= 1):
            raise ValueError(f"{where}: fractions and probabilities must lie in [0, 1]")


def _candidates(rng: np.random.Generator, cfg: CameraConfig, target: np.ndarray, slot: int,
                n: int, names: str, floor: float = -np.inf) -> list[Camera]:
    """``n`` candidate cameras for ring slot ``slot``, every centre at least
    ``cfg.min_height`` above ``floor`` (world z): each candidate's elevation range is cut
    from below where the camera would sit lower (raised to the lowest allowed elevation
    when even the top of the range is too low)."""
    if cfg.layout == "ring":
        az0 = 2 * np.pi * slot / cfg.count
        az = az0 + np.radians(rng.uniform(-1, 1, n) * cfg.azimuth_jitter_deg)
    else:  # uniform on the sphere band between the elevation limits
        az = rng.uniform(0, 2 * np.pi, n)
    u = rng.random(n)  # where in the (cut) elevation range
    dist = rng.uniform(*cfg.distance, n)
    look = target + rng.uniform(-1, 1, (n, 3)) * cfg.look_at_jitter
    # sin(elevation) ≥ s_min keeps the centre look_z + dist·sin(el) at floor + min_height
    s_min = np.clip((floor + cfg.min_height - look[:, 2]) / dist, -1.0, 1.0)
    s0, s1 = np.sin(np.radians(cfg.elevation_deg))
    if cfg.layout == "ring":  # uniform in elevation
        lo, hi = np.radians(cfg.elevation_deg)
        lo = np.maximum(lo, np.arcsin(s_min))
        el = np.where(lo <= hi, lo + (hi - lo) * u, lo)
    else:  # uniform in sin(elevation): uniform on the sphere band
        lo = np.maximum(s0, s_min)
        el = np.arcsin(np.where(lo <= s1, lo + (s1 - lo) * u, lo))
    centre = look + dist[:, None] * np.stack(
        [np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)
    R = look_at(centre, look, roll=np.radians(rng.uniform(*cfg.roll_deg, n)))
    res = np.asarray(cfg.resolutions)[rng.integers(len(cfg.resolutions), size=n)]
    f = rng.uniform(*cfg.focal_mm, n) / cfg.sensor_mm * res.max(axis=1)
    pp = res / 2 + rng.uniform(-1, 1, (n, 2)) * cfg.principal_jitter * res
    fisheye = rng.random(n) < cfg.fisheye_prob
    distort = rng.random(n) < cfg.distortion_prob
    cams = []
    for i in range(n):
        if fisheye[i]:
            model, dist_c = "fisheye", [rng.uniform(*r) for r in cfg.fisheye_k]
        elif distort[i]:
            model = "pinhole"
            dist_c = [rng.uniform(*cfg.k1), rng.uniform(*cfg.k2), rng.uniform(*cfg.k3),
                      rng.uniform(*cfg.p), rng.uniform(*cfg.p)]
        else:
            model, dist_c = "pinhole", None
        cams.append(Camera(int(res[i, 0]), int(res[i, 1]), f[i], f[i], pp[i, 0], pp[i, 1],
                           R=R[i], C=centre[i], dist=dist_c, model=model, name=f"{names}{slot}"))
    return cams


def sample_cameras(rng: np.random.Generator, cfg: CameraConfig, seq: np.ndarray,
                   name: str = "cam", check_every: int = 5,
                   floor: float | None = None) -> tuple[list[Camera], np.ndarray]:
    """``cfg.count`` cameras for sequence ``seq`` (T, J, 3) and each one's in-frame fraction.

    Every camera centre lies at least ``cfg.min_height`` above ``floor`` (world z; default
    the lowest joint of the whole sequence): no camera looks up from under the ground.

    Candidates are checked on every ``check_every``-th frame; a camera that qualifies
    nowhere among ``cfg.tries`` candidates is replaced by the best one found (its fraction
    is returned, so the caller can report or require it).
    """
    target = seq[:, 0].mean(axis=0) + np.array([0.0, 0.0, cfg.target_height])
    floor = float(seq[..., 2].min()) if floor is None else float(floor)
    probe = seq[::check_every]
    cams, fractions = [], []
    for slot in range(cfg.count):
        best, best_frac = None, -np.inf
        for start in range(0, cfg.tries, 8):  # candidates in small batches, stop when found
            cands = _candidates(rng, cfg, target, slot, min(8, cfg.tries - start), name, floor)
            uv, depth = project_many(probe, cands, return_depth=True)
            centres = np.stack([c.C for c in cands])
            clear = np.linalg.norm(probe[None] - centres[:, None, None], axis=-1).min(axis=(1, 2))
            ok = (depth > 0.1).all(axis=(1, 2)) & (clear >= cfg.min_clearance)
            frac = np.where(ok, in_image(uv, cands, depth).mean(axis=(1, 2)), -1.0)
            i = int(np.argmax(frac >= cfg.min_in_frame)) if (frac >= cfg.min_in_frame).any() \
                else int(np.argmax(frac))
            if frac[i] > best_frac:
                best, best_frac = cands[i], frac[i]
            if best_frac >= cfg.min_in_frame:
                break
        cams.append(best)
        fractions.append(best_frac)
    return cams, np.asarray(fractions)
