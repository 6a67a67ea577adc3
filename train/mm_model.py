"""The lifter as an mmengine model, and its validation metric (the worker half of the
training glue; :mod:`train.hooks` holds the hooks, :mod:`train.runner` builds the run).

- :class:`LifterModel` wraps a :class:`train.models.Lifter`; ``mode='loss'`` gives
  ``loss_mpjpe`` (+ optional ``loss_n_mpjpe``, ``loss_velocity``), a non-finite loss stops
  training *before* the optimizer step (:class:`NonFiniteLoss`), so the weights and every
  saved checkpoint stay good.
- :class:`PoseMetric` (an mmengine ``BaseMetric``): MPJPE, P-MPJPE, N-MPJPE in mm over the
  valid target frames.
- :data:`HEADS`, :func:`freeze_backbone`: which layers stay trainable with
  ``freeze_backbone`` / keep ``lr_mult`` 1 with ``backbone_lr_mult``.
"""

from __future__ import annotations

import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel

from hpd3d.metrics import mpjpe, n_mpjpe, p_mpjpe
from train.models import Lifter

# The last layer of each lifter: what stays trainable with freeze_backbone, and what keeps
# lr_mult 1 with backbone_lr_mult.
HEADS = {"simplebaseline": ("shrink",), "videopose3d": ("shrink",), "motionbert": ("head",)}


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN/inf; raised before the optimizer step."""


def is_head(model: Lifter, name: str) -> bool:
    return any(name == h or name.startswith(h + ".") for h in HEADS[model.name])


def freeze_backbone(model: Lifter) -> int:
    """Make every parameter but the head's untrainable; returns how many were frozen."""
    n = 0
    for name, p in model.named_parameters():
        if not is_head(model, name):
            p.requires_grad_(False)
            n += p.numel()
    return n


def masked_mean(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    w = valid.to(x.dtype)
    return (x * w).sum() / w.sum().clamp_min(1.0)


class LifterModel(BaseModel):
    """A lifter plus its loss. Batches are dicts ``inputs`` (B, L, 17, 3), ``target``
    (B, Lt, 17, 3), ``valid`` (B, Lt)."""

    def __init__(self, lifter: Lifter, single_frame: bool = False, loss: dict | None = None,
                 frozen_backbone: bool = False):
        super().__init__()
        self.lifter = lifter
        self.single_frame = single_frame
        self.loss_weights = {"mpjpe": 1.0, "n_mpjpe": 0.0, "velocity": 0.0, **(loss or {})}
        self.frozen_backbone = frozen_backbone

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.frozen_backbone:  # frozen layers keep their BatchNorm statistics
            for name, m in self.lifter.named_modules():
                if name and not is_head(self.lifter, name):
                    m.eval()
        return self

    def predict_tensor(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.single_frame:
            return self.lifter(inputs, single_frame=True)
        return self.lifter(inputs)

    def losses(self, pred, target, valid) -> dict:
        w = self.loss_weights
        err = torch.linalg.vector_norm(pred - target, dim=-1).mean(-1)  # (B, Lt)
        out = {"loss_mpjpe": w["mpjpe"] * masked_mean(err, valid)}
        if w["n_mpjpe"]:
            pp = (pred * pred).sum((-2, -1), keepdim=True)
            gp = (target * pred).sum((-2, -1), keepdim=True)
            scaled = gp / pp.clamp_min(1e-8) * pred
            nerr = torch.linalg.vector_norm(scaled - target, dim=-1).mean(-1)
            out["loss_n_mpjpe"] = w["n_mpjpe"] * masked_mean(nerr, valid)
        if w["velocity"] and pred.shape[1] > 1:
            dv = torch.diff(pred, dim=1) - torch.diff(target, dim=1)
            verr = torch.linalg.vector_norm(dv, dim=-1).mean(-1)
            out["loss_velocity"] = w["velocity"] * masked_mean(verr, valid[:, 1:] & valid[:, :-1])
        return out

    def forward(self, inputs, target=None, valid=None, mode: str = "tensor"):
        pred = self.predict_tensor(inputs)
        if mode == "loss":
            return self.losses(pred, target, valid)
        if mode == "predict":
            return [dict(pred=pred.detach().cpu().numpy(), target=target.cpu().numpy(),
                         valid=valid.cpu().numpy())]
        return pred

    def train_step(self, data, optim_wrapper):
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode="loss")
        parsed, log_vars = self.parse_losses(losses)
        if not torch.isfinite(parsed):
            bad = ", ".join(f"{k}={v.item():.4g}" for k, v in losses.items())
            raise NonFiniteLoss(f"the training loss is not finite ({bad})")
        optim_wrapper.update_params(parsed)
        return {k: v.detach() if torch.is_tensor(v) else v for k, v in log_vars.items()}


class PoseMetric(BaseMetric):
    """MPJPE / P-MPJPE / N-MPJPE in millimetres over the valid target frames."""

    default_prefix = "val"

    def process(self, data_batch, data_samples) -> None:
        for s in data_samples:
            pred, gt, valid = s["pred"], s["target"], s["valid"].astype(bool)
            p, g = pred[valid], gt[valid]  # (n, 17, 3)
            if len(p) == 0:
                continue
            self.results.append(dict(
                n=len(p),
                mpjpe=float(mpjpe(p, g, reduce=False).sum()),
                p_mpjpe=float(p_mpjpe(p, g, reduce=False).sum()),
                n_mpjpe=float(n_mpjpe(p, g, reduce=False).sum()),
            ))  # fmt: skip

    def compute_metrics(self, results: list) -> dict:
        n = sum(r["n"] for r in results)
        if n == 0:
            return {k: float("nan") for k in ("mpjpe", "p_mpjpe", "n_mpjpe")}
        return {k: 1000.0 * sum(r[k] for r in results) / n for k in ("mpjpe", "p_mpjpe", "n_mpjpe")}
