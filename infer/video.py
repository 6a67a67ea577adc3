"""Reading frames: any video OpenCV/FFmpeg reads, or a folder of images, streamed.

:func:`open_frames` checks the input before any work (it opens the file and decodes the
first selected frame, so an unreadable or empty video fails at once, naming the file) and
returns a :class:`FrameSource`: its :class:`VideoInfo` (size after rotation, fps, frame
count, focal length from the file's metadata when it has one) and an iterator over
``(frame_index, rgb uint8 (H, W, 3))``. Frames are decoded one at a time — by a reader
thread a few frames ahead when ``prefetch > 0`` — so memory stays flat in video length.

Rotation: phone videos store their orientation as metadata (``rotate`` / the display
matrix). We turn OpenCV's auto-rotation off, read ``CAP_PROP_ORIENTATION_META`` and rotate
ourselves, so the frames, their size and the 2D keypoints are always upright as a player
shows them.
"""

from __future__ import annotations

import queue
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from hpd3d.errors import InputError

from .quiet import quiet_stderr

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


@dataclass
class VideoInfo:
    path: str
    kind: str  # "video" | "images"
    width: int  # after rotation
    height: int
    fps: float  # of the selected frames (stride divides it)
    source_fps: float
    frames: int  # selected frames (start/end/stride applied); an estimate for some videos
    start: int
    stride: int
    rotation: int  # degrees clockwise applied to the decoded frames
    focal_35mm: float | None  # 35 mm-equivalent focal length from the metadata, mm
    focal_source: str | None  # where focal_35mm came from


class FrameSource:
    """Iterate ``(index, rgb)`` over the selected frames; ``close()`` when done."""

    def __init__(self, info: VideoInfo, gen_factory, prefetch: int = 0):
        self.info = info
        self._factory = gen_factory
        self._prefetch = prefetch

    def __iter__(self):
        gen = self._factory()
        if self._prefetch <= 0:
            yield from gen
            return
        q: queue.Queue = queue.Queue(maxsize=self._prefetch)
        stop = threading.Event()
        end = object()

        def work():
            try:
                for item in gen:
                    while not stop.is_set():
                        try:
                            q.put(item, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                q.put(end)
            except BaseException as e:  # noqa: BLE001 - re-raised in the consumer
                q.put(e)

        t = threading.Thread(target=work, name="frame-reader", daemon=True)
        t.start()
        try:
            while True:
                item = q.get()
                if item is end:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while t.is_alive():  # drain so the reader can see ``stop``
                try:
                    q.get(timeout=0.05)
                except queue.Empty:
                    pass
            t.join()


def _select(total: int | None, start: int, end: int | None, stride: int, path) -> range:
    if start < 0 or stride < 1 or (end is not None and end < 0):
        raise InputError(path, f"bad frame range start={start} end={end} stride={stride}: "
                               "need start ≥ 0, end ≥ 0, stride ≥ 1")
    stop = total if end is None else (end if total is None else min(end, total))
    return range(start, stop if stop is not None else 1 << 62, stride)


def open_frames(path, start: int = 0, end: int | None = None, stride: int = 1,
                fps: float | None = None, prefetch: int = 8) -> FrameSource:
    """Open a video file or an image folder; checked now (raises :class:`InputError`)."""
    path = Path(path)
    if path.is_dir():
        return _open_images(path, start, end, stride, fps)
    if not path.exists():
        raise InputError(path, "no such file")
    return _open_video(path, start, end, stride, fps, prefetch)


# -- image folders --------------------------------------------------------------------
def _read_image(p: Path) -> np.ndarray:
    img = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if img is None:
        raise InputError(p, "not a readable image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _open_images(folder: Path, start, end, stride, fps) -> FrameSource:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS)
    if not files:
        raise InputError(folder, f"no images ({', '.join(IMAGE_EXTS)}) in this folder")
    sel = _select(len(files), start, end, stride, folder)
    if len(sel) == 0:
        raise InputError(folder, f"zero frames selected (start={start} end={end}, "
                                 f"{len(files)} images)")
    first = _read_image(files[sel[0]])
    h, w = first.shape[:2]
    f35, src = exif_focal_35mm(files[sel[0]])
    src_fps = float(fps) if fps else 30.0
    info = VideoInfo(str(folder), "images", w, h, src_fps / stride, src_fps, len(sel),
                     start, stride, 0, f35, src)

    def gen():
        for i in sel:
            img = _read_image(files[i])
            if img.shape[:2] != (h, w):
                raise InputError(files[i], f"image size {img.shape[1]}x{img.shape[0]} differs "
                                           f"from the first image's {w}x{h}")
            yield i, img

    return FrameSource(info, gen, prefetch=0)


def exif_focal_35mm(path) -> tuple[float | None, str | None]:
    """An image's EXIF 35 mm-equivalent focal length (tag 0xA405), if present."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            exif = im.getexif().get_ifd(0x8769)  # the Exif sub-IFD
            v = exif.get(0xA405)
        if v:
            return float(v), "exif FocalLengthIn35mmFilm"
    except Exception:  # noqa: BLE001 - no metadata is the common case
        pass
    return None, None


# -- videos ---------------------------------------------------------------------------
def _capture(path: Path) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise InputError(path, "not a readable video (OpenCV/FFmpeg cannot open it)")
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)  # we rotate ourselves (below)
    return cap


def _rotation(cap) -> int:
    r = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0)) % 360
    return r if r in _ROTATE else 0


def _open_video(path: Path, start, end, stride, fps, prefetch) -> FrameSource:
    with quiet_stderr():  # FFmpeg/OpenCV complain on fd 2 about a bad file: our one line says it
        return _probe_video(path, start, end, stride, fps, prefetch)


def _probe_video(path: Path, start, end, stride, fps, prefetch) -> FrameSource:
    cap = _capture(path)
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        src_fps = float(fps) if fps else float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not np.isfinite(src_fps) or src_fps <= 0:
            src_fps = 30.0
        rot = _rotation(cap)
        sel = _select(total if total > 0 else None, start, end, stride, path)
        if start > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        ok, frame = cap.read()
        if not ok or frame is None:
            raise InputError(path, "zero frames: no frame could be decoded"
                             + (f" at or after frame {start}" if start else ""))
    finally:
        cap.release()
    if rot in (90, 270):
        frame = cv2.rotate(frame, _ROTATE[rot])
    h, w = frame.shape[:2]
    n = len(sel) if total > 0 else 0
    f35, src = mp4_focal_35mm(path)
    info = VideoInfo(str(path), "video", w, h, src_fps / stride, src_fps, n, start, stride,
                     rot, f35, src)

    def gen():
        cap = _capture(path)
        try:
            if start > 0:
                cap.set(cv2.CAP_PROP_POS_FRAMES, start)
            i = start
            stop = sel.stop
            while i < stop:
                if (i - start) % stride == 0:
                    ok, frame = cap.read()
                    if not ok:
                        return
                    if rot:
                        frame = cv2.rotate(frame, _ROTATE[rot])
                    yield i, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                elif not cap.grab():  # skipped frames: no colour conversion
                    return
                i += 1
        finally:
            cap.release()

    return FrameSource(info, gen, prefetch=prefetch)


# -- QuickTime / MP4 metadata: a phone's 35 mm-equivalent focal length ----------------
_FOCAL_KEY = b"com.apple.quicktime.camera.focal_length.35mm_equivalent"


def _boxes(buf: bytes, pos: int, end: int):
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", buf[pos : pos + 8])
        head = 8
        if size == 1:
            size = struct.unpack(">Q", buf[pos + 8 : pos + 16])[0]
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            return
        yield kind, pos + head, pos + size
        pos += size


def _read_moov(path: Path, limit: int = 64 << 20) -> bytes | None:
    with open(path, "rb") as f:
        pos = 0
        while True:
            f.seek(pos)
            head = f.read(16)
            if len(head) < 8:
                return None
            size, kind = struct.unpack(">I4s", head[:8])
            h = 8
            if size == 1:
                size, h = struct.unpack(">Q", head[8:16])[0], 16
            if size == 0 or size < h:
                return None
            if kind == b"moov":
                if size > limit:
                    return None
                f.seek(pos)
                return f.read(size)
            pos += size


def mp4_focal_35mm(path) -> tuple[float | None, str | None]:
    """The ``com.apple.quicktime.camera.focal_length.35mm_equivalent`` metadata item of a
    QuickTime/MP4 file (``moov/meta`` keys + ilst, as phones write it), if present."""
    try:
        moov = _read_moov(Path(path))
        if moov is None or _FOCAL_KEY not in moov:
            return None, None
        for kind, a, b in _boxes(moov, 8, len(moov)):
            if kind == b"udta":  # some writers nest meta in udta
                metas = [(k, x, y) for k, x, y in _boxes(moov, a, b) if k == b"meta"]
            elif kind == b"meta":
                metas = [(kind, a, b)]
            else:
                continue
            for _, ma, mb in metas:
                keys, ilst = [], None
                children = list(_boxes(moov, ma, mb))
                if not any(k == b"keys" for k, _, _ in children):  # ISO meta: version/flags
                    children = list(_boxes(moov, ma + 4, mb))
                for k, x, y in children:
                    if k == b"keys":
                        n = struct.unpack(">I", moov[x + 4 : x + 8])[0]
                        p = x + 8
                        for _ in range(n):
                            ks = struct.unpack(">I", moov[p : p + 4])[0]
                            keys.append(moov[p + 8 : p + ks])
                            p += ks
                    elif k == b"ilst":
                        ilst = (x, y)
                if _FOCAL_KEY not in keys or ilst is None:
                    continue
                want = keys.index(_FOCAL_KEY) + 1
                for k, x, y in _boxes(moov, *ilst):
                    if struct.unpack(">I", k)[0] != want:
                        continue
                    for dk, dx, dy in _boxes(moov, x, y):
                        if dk != b"data":
                            continue
                        typ = struct.unpack(">I", moov[dx : dx + 4])[0] & 0xFFFFFF
                        val = moov[dx + 8 : dy]
                        if typ == 23 and len(val) == 4:
                            v = struct.unpack(">f", val)[0]
                        elif typ == 24 and len(val) == 8:
                            v = struct.unpack(">d", val)[0]
                        elif typ in (21, 22) and 1 <= len(val) <= 8:
                            v = int.from_bytes(val, "big", signed=typ == 21)
                        else:
                            v = float(val.decode("utf-8").strip())
                        if np.isfinite(v) and v > 0:
                            return float(v), "quicktime focal_length.35mm_equivalent"
    except Exception:  # noqa: BLE001 - malformed metadata: no focal length
        pass
    return None, None
