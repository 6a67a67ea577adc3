"""hpd3d: the shared vocabulary of the toolkit.

Skeleton layouts and joint maps, rotations, camera models, file formats, BVH I/O and
metrics. numpy + scipy only: this package must import inside Blender's Python, which
has no torch. Stages (``synth``, ``blender``, ``train``, ``infer``) import from here;
nothing here imports a stage.
"""

__version__ = "0.1.0"
