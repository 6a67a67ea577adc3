"""``python -m blender.make_scene [out.blend]``: (re)make ``blender/HPD3D.blend``.

Builds the scene of :func:`blender.scene.build_scene` — floor, sun, an empty ``Cameras``
collection (cameras are created per run from the camera config), the capsule mannequin
on its H36M-17 armature with one target empty per joint — and saves it compressed.

Compatibility: save it with the pip ``bpy`` 4.5 LTS, the oldest Blender this project
runs; Blender 4.2 – 5.0 open it. The file holds no animation data (actions and their
4.4+ slots are made per run), so nothing in it depends on the slotted-action format that
Blender 4.2/4.3 cannot read, and 5.0 reads 4.5 files natively. Keep it small (< 2 MB).
"""

from __future__ import annotations

import sys
from pathlib import Path

import bpy

from .compat import quiet
from .scene import SCENE_FILE, build_scene


def make_scene(out=SCENE_FILE) -> Path:
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    build_scene()
    tmp = out.with_name(f".{out.name}.tmp.blend")
    with quiet():
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp), compress=True, copy=True)
    tmp.replace(out)
    return out


USAGE = """python -m blender.make_scene [OUT.blend]

(Re)makes the scene file blender.render opens (default blender/HPD3D.blend): floor, sun,
an empty Cameras collection and the capsule mannequin on its H36M-17 armature.

Examples:
  python -m blender.make_scene
  python -m blender.make_scene out/test_scene.blend
"""


def main(argv=None) -> int:
    from hpd3d.errors import InputError, cli_guard

    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE.rstrip())
        return 0

    @cli_guard
    def _make():
        if len(argv) > 1 or (argv and (argv[0].startswith("-") or "=" in argv[0]
                                       or not argv[0].endswith(".blend"))):
            raise InputError(None, f"arguments {argv}: expected one OUT.blend path (or none)")
        return make_scene(argv[0] if argv else SCENE_FILE)

    out = _make()
    print(f"make_scene: wrote {out} ({out.stat().st_size / 1024:.0f} KiB, "
          f"Blender {bpy.app.version_string})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
