"""``sys.path`` for a script that a Blender binary runs with ``-P``: the packages the toolkit
needs beyond Blender's own (scipy, hydra, tqdm) from the repository's ``.venv`` or
``$HPD3D_SITE_PACKAGES``, appended after Blender's own modules (its bpy, its numpy).

The script first puts the repository itself on ``sys.path`` (two lines it cannot import),
then calls :func:`add_site_packages`.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def add_site_packages() -> None:
    pyver = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = REPO / ".venv" / "lib" / pyver / "site-packages"
    for p in filter(None, [os.environ.get("HPD3D_SITE_PACKAGES"), str(site)]):
        if Path(p).is_dir() and p not in sys.path:
            sys.path.append(p)
