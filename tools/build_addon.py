"""Build the Blender add-on zip (``make addon``): blender/addon + the work module + hpd3d.

Layout: ``hpd3d_pose_import/{__init__.py, blender_manifest.toml, import_skeleton.py,
compat.py, hpd3d/*.py}`` — one folder, as both the 4.2+ extension installer and the
legacy add-on installer accept. Blender's Python must have scipy (``hpd3d`` uses it).
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAME = "hpd3d_pose_import"


def build(out) -> Path:
    out = Path(out)
    files = {
        "__init__.py": REPO / "blender/addon/__init__.py",
        "blender_manifest.toml": REPO / "blender/addon/blender_manifest.toml",
        "import_skeleton.py": REPO / "blender/import_skeleton.py",
        "compat.py": REPO / "blender/compat.py",
    }
    for f in sorted((REPO / "hpd3d").glob("*.py")):
        files[f"hpd3d/{f.name}"] = f
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for arc, src in sorted(files.items()):
            info = zipfile.ZipInfo(f"{NAME}/{arc}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, src.read_bytes())
    tmp.replace(out)
    return out


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else REPO / "out" / f"{NAME}.zip"))
