"""Old import path of :mod:`hpd3d.mocap_dataset` (the adaptor needs no bpy)."""
from hpd3d.mocap_dataset import MocapDataset, MocapDataset as BlenderDataset, VideoPose3DSkeleton as Skeleton, videopose3d_camera  # noqa: F401,E501
__all__ = ["BlenderDataset", "MocapDataset", "Skeleton", "videopose3d_camera"]
