"""blender stage: everything that runs inside Blender (or with the pip ``bpy`` module).

- :mod:`blender.render` — BVH → VideoPose3D dataset (+ rendered video) CLI
- :mod:`blender.render_bvh` — its worker: the run over a shard's files, one file at a time
- :mod:`blender.bvh_import` — Blender's BVH importer, joints read back once per frame
- :mod:`blender.scene` — the scene file, the mannequin, cameras, rendering
- :mod:`blender.make_scene` — regenerates ``blender/HPD3D.blend``
- :mod:`blender.compat` — Blender 4.2 – 5.0 API differences
- :mod:`blender.adaptor` — old import path of :mod:`hpd3d.mocap_dataset` (VideoPose3D ``MocapDataset``)
- :mod:`blender.import_skeleton` — 3D keypoints → rigged, animated armature (CLI + add-on work)
- :mod:`blender.addon` — the add-on: File > Import > 3D pose keypoints, sidebar panel

Importing this package imports nothing heavy; ``bpy`` is imported by the modules that
need it.
"""
