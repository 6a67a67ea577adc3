"""Small helpers that hide API differences between Blender 4.2 LTS and 5.0.

Each helper decides by ``bpy.app.version`` (an optional ``version`` argument lets tests
pin the decision); only the branch of the Blender that runs is exercised for real.

- Engine names: EEVEE is ``BLENDER_EEVEE_NEXT`` from 4.2 to 4.5 and ``BLENDER_EEVEE``
  before 4.2 and again from 5.0 on.
- Animation: Blender 4.4 introduced slotted (layered) actions; ``Action.fcurves`` still
  works in 4.4/4.5 as a legacy view and is gone in 5.0. From 4.4 on F-curves live in a
  channelbag: ``action.layers[0].strips[0].channelbag(slot).fcurves``.
- Output: Blender 5.0 splits image and video output: ``image_settings.media_type`` must
  be ``'VIDEO'`` before ``file_format = 'FFMPEG'`` (``'IMAGE'`` for PNG).
- Sequencer: ``SequenceEditor.strips`` (4.4+) replaced ``.sequences`` (removed in 5.0).
- :func:`quiet`: Blender's importers and renderer print to the C-level stdout; this
  silences file descriptor 1 around a call.
"""

from __future__ import annotations

import contextlib
import os
import sys

import bpy

__all__ = [
    "version", "eevee_engine", "engine_name", "new_action", "action_fcurves",
    "set_video_output", "set_image_output", "sequencer_strips", "quiet",
]


def version(v=None) -> tuple[int, int, int]:
    return tuple(bpy.app.version if v is None else v)[:3]


def eevee_engine(v=None) -> str:
    """The EEVEE render engine identifier for this Blender."""
    return "BLENDER_EEVEE_NEXT" if (4, 2) <= version(v)[:2] < (5, 0) else "BLENDER_EEVEE"


def engine_name(name: str, v=None) -> str:
    """``workbench`` | ``eevee`` | ``cycles`` → Blender's engine identifier."""
    names = {"workbench": "BLENDER_WORKBENCH", "eevee": eevee_engine(v), "cycles": "CYCLES"}
    try:
        return names[name.lower()]
    except KeyError:
        raise ValueError(f"render engine {name!r}: one of {sorted(names)}") from None


def new_action(obj, name: str, v=None):
    """A new action assigned to ``obj`` and the F-curve collection to fill.

    Returns ``(action, fcurves)``; ``fcurves.new(data_path, index=i)`` works on both the
    legacy ``Action.fcurves`` (< 4.4) and a 4.4+ channelbag.
    """
    action = bpy.data.actions.new(name)
    adt = obj.animation_data or obj.animation_data_create()
    if version(v) >= (4, 4, 0):
        slot = action.slots.new(id_type=obj.id_type, name=obj.name)
        adt.action = action
        adt.action_slot = slot
        return action, action_fcurves(action, slot, ensure=True)
    adt.action = action
    return action, action.fcurves


def action_fcurves(action, slot=None, ensure: bool = False, v=None):
    """The F-curves of ``action`` (for ``slot``, default its first) on any Blender.

    4.4+: ``action.layers[0].strips[0].channelbag(slot).fcurves`` (``ensure`` creates the
    layer, strip and channelbag when missing); older: ``action.fcurves``. Returns an
    empty tuple when the action has no channelbag for the slot and ``ensure`` is False.
    """
    if version(v) < (4, 4, 0):
        return action.fcurves
    if slot is None:
        if not action.slots:
            return ()
        slot = action.slots[0]
    if not action.layers:
        if not ensure:
            return ()
        action.layers.new("Layer")
    layer = action.layers[0]
    if not layer.strips:
        if not ensure:
            return ()
        layer.strips.new(type="KEYFRAME")
    bag = layer.strips[0].channelbag(slot, ensure=ensure)
    return () if bag is None else bag.fcurves


def set_video_output(scene, codec: str = "H264", container: str = "MPEG4",
                     crf: str = "HIGH", v=None) -> None:
    """Render to a video file (H.264 in MP4 by default) through Blender's own FFmpeg."""
    img = scene.render.image_settings
    if version(v) >= (5, 0, 0):
        img.media_type = "VIDEO"
    img.file_format = "FFMPEG"
    ff = scene.render.ffmpeg
    ff.format = container
    ff.codec = codec
    ff.constant_rate_factor = crf
    ff.ffmpeg_preset = "GOOD"
    ff.gopsize = 12
    img.color_mode = "RGB"


def set_image_output(scene, file_format: str = "PNG", rgba: bool = False, v=None) -> None:
    """Render to still images (PNG by default), RGBA when ``rgba``."""
    img = scene.render.image_settings
    if version(v) >= (5, 0, 0):
        img.media_type = "IMAGE"
    img.file_format = file_format
    img.color_mode = "RGBA" if rgba else "RGB"
    img.color_depth = "8"


def sequencer_strips(scene, v=None):
    """The top-level strip collection of ``scene``'s sequence editor (created if needed)."""
    sed = scene.sequence_editor or scene.sequence_editor_create()
    return sed.strips if version(v) >= (4, 4, 0) else sed.sequences


@contextlib.contextmanager
def quiet(enabled: bool = True):
    """Silence the C-level stdout (Blender's ``Fra:`` and importer prints) inside the block."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    fd = 1  # Blender writes to the process's stdout, whatever sys.stdout is
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, fd)
        os.close(saved)
