"""Training on several processes: ``torchrun --nproc_per_node=N -m train ... launcher=pytorch``.

mmengine's Runner sets a launcher up for GPUs only (it calls ``torch.cuda.set_device`` and
gives DDP ``device_ids``). :func:`setup` makes the same command work on CPUs too: it starts
the process group with the ``gloo`` backend before the Runner looks, and wraps the model
in DDP without device ids. On GPUs it changes nothing (NCCL, mmengine's defaults).

What DDP changes, and what not: rank ``r`` of ``n`` takes every n-th index of one shared
epoch order (:class:`train.data.SourceSampler`), so with ``trainer.batch_size`` per
process ``B`` a step of ``n`` processes sees exactly the samples one process with batch
``n · B`` sees, and the averaged gradient is the same; only layers that mix a batch
(BatchNorm statistics) see ``B`` instead of ``n · B`` samples.
"""

from __future__ import annotations

import os

import torch

from hpd3d.errors import InputError

LAUNCHERS = ("none", "pytorch", "slurm", "mpi")


def setup(launcher: str) -> dict | None:
    """Start the process group for ``launcher`` (before the data loaders are built, so
    the sampler sees its rank and the world size); returns the Runner's
    ``model_wrapper_cfg`` (None: mmengine's default)."""
    if launcher not in LAUNCHERS:
        raise InputError(None, f"launcher={launcher!r}: one of {', '.join(LAUNCHERS)}")
    if launcher == "none":
        return None
    import torch.distributed as dist
    from mmengine.dist import init_dist

    gpu = torch.cuda.is_available()
    if launcher == "pytorch" and ("RANK" not in os.environ or "WORLD_SIZE" not in os.environ):
        raise InputError(None, "launcher=pytorch needs torchrun (RANK/WORLD_SIZE unset): "
                               "torchrun --nproc_per_node=N -m train ... launcher=pytorch")
    if not gpu and launcher != "pytorch":
        raise InputError(None, f"launcher={launcher} needs GPUs; on CPUs start the "
                               f"processes with torchrun and launcher=pytorch")
    if not dist.is_initialized():
        if gpu:
            init_dist(launcher, backend="nccl")
        else:
            dist.init_process_group("gloo")
    if gpu:
        return None
    return dict(type="MMDistributedDataParallel", device_ids=None, broadcast_buffers=False)


def is_main() -> bool:
    """Rank 0 (or no process group): the process that writes the run's files."""
    from mmengine.dist import is_main_process

    return is_main_process()
