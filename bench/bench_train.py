"""Training and inference throughput of the lifters on this CPU, against naive baselines,
and the MPJPE SimpleBaseline3D reaches on held-out procedural data in a fixed CPU budget.

    .venv/bin/python bench/bench_train.py                   # throughput tables, 60 s budget run
    .venv/bin/python bench/bench_train.py --budget-s 600    # the 10-minute figure
    .venv/bin/python bench/bench_train.py --budget-s 0      # throughput only

Tables (median of ``--repeats`` timings each; a third of them for models over 5 M parameters):

1. batch building: our vectorised ``LiftingDataset.__getitems__`` (one numpy gather for the
   whole batch, noise and normalisation on arrays) vs a per-sample ``__getitem__`` +
   ``default_collate`` loop (what a plain PyTorch Dataset does), samples/s and the ratio;
2. training step (forward + backward + AdamW) per model, samples/s at the stated batch;
3. inference: whole sequences lifted in batches (``train.models.lift_sequence``) vs one
   frame (one window) per call, frames/s and the ratio;
4. budget run: SimpleBaseline3D (``--channels``) trained for ``--budget-s`` seconds of
   wall time on the procedural training set, then evaluated on held-out procedural clips
   (another library seed, no knee augmentation) — MPJPE / P-MPJPE in mm.

Datasets: ``--data`` and ``--test`` folders, else generated once into ``out/bench/``
with ``python -m synth.augment_h36m`` (480 and 60 procedural clips).
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hpd3d.noise import add_noise  # noqa: E402
from train.data import DataConfig, build_data, window_for  # noqa: E402
from train.data.sources import bounds  # noqa: E402
from train.evaluation import evaluate  # noqa: E402
from train.models import build_model, lift_sequence  # noqa: E402

MODELS = {  # name → (build kwargs, training batch, note)
    "simplebaseline": (dict(name="simplebaseline"), 1024, "MMPose size, 1024 ch"),
    "simplebaseline-256": (dict(name="simplebaseline", channels=256), 1024,
                           "256 ch, the default lifter"),
    "videopose3d-27": (dict(name="videopose3d", receptive_field=27), 1024, "1024 ch"),
    "videopose3d-27-256": (dict(name="videopose3d", receptive_field=27, channels=256), 1024,
                           "256 ch"),
    "videopose3d-243": (dict(name="videopose3d", receptive_field=243), 256, "1024 ch"),
    "motionbert-lite-27": (dict(name="motionbert", size="lite", maxlen=243), 8, "27-frame clips"),
}


def n3(x: float) -> str:
    """A rate for the tables: thousands separators, 3 significant digits below 100."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def ensure_data(args) -> tuple[Path, Path]:
    data = Path(args.data) if args.data else REPO / "out/bench/procedural"
    test = Path(args.test) if args.test else REPO / "out/bench/procedural_test"
    jobs = [(data, ["procedural.clips=480"]),
            (test, ["procedural.clips=60", "procedural.seed=1", "seed=1", "knee=none"])]
    for folder, extra in jobs:
        if not (folder / "data_3d_synth.npz").is_file():
            print(f"generating {folder} ...", flush=True)
            subprocess.run([sys.executable, "-m", "synth.augment_h36m", f"out={folder}",
                            "plots=false", *extra], cwd=REPO, check=True,
                           stdout=subprocess.DEVNULL)
    return data, test


# -- 1. batch building --------------------------------------------------------------------
def naive_item(ds, i: int, rng) -> dict:
    """One sample the way a per-sample Dataset builds it."""
    t = ds.table
    f, valid = ds.frames(np.array([i]))
    f = f[0]
    uv, conf = t.uv[f].copy(), t.conf[f].copy()
    if t.noise_on[ds.anchor[i]]:
        uv, conf = add_noise(uv, rng, ds.noise)
    w, h = t.wh[t.view_of[ds.anchor[i]]]
    lo, hi = bounds(np.array([w, h]), t.margin)
    x2d = ds.norm.inputs(np.clip(uv, lo, hi), w, h)
    xyz = t.xyz[f] if ds.window.all_targets else t.xyz[ds.anchor[i]][None]
    if rng.random() < ds.flip_prob:
        from train.data import flip_batch

        one = np.ones(1, bool)
        x2d, conf, xyz = (a[0] for a in flip_batch(x2d[None], conf[None], xyz[None], one))
    inputs = np.concatenate([x2d, conf[..., None]], axis=-1).astype(np.float32)
    return dict(inputs=torch.from_numpy(inputs), target=torch.from_numpy(np.float32(xyz)),
                valid=torch.from_numpy(valid[0] if ds.window.all_targets else np.ones(1, bool)))


def bench_batches(data: Path, batch: int, repeats: int) -> list[str]:
    from torch.utils.data import default_collate

    rows = []
    cfg = DataConfig.from_dict(dict(dir=str(data), name="synth"))
    models = (("1 frame (SimpleBaseline)", build_model("simplebaseline", channels=8)),
              ("27 frames (VideoPose3D-27)",
               build_model("videopose3d", receptive_field=27, channels=8)))
    for name, model in models:
        _, train, _ = build_data(cfg, window_for(model), need_val=False)
        idx = np.random.default_rng(0).permutation(len(train))[:batch]
        ours = timed(lambda: train.__getitems__(idx), repeats)
        rng = np.random.default_rng(0)
        naive = timed(lambda: default_collate([naive_item(train, int(i), rng) for i in idx]),
                      max(1, repeats // 2))
        rows.append(f"| {name} | {batch} | {n3(batch / ours)} | {n3(batch / naive)} | "
                    f"{naive / ours:.0f}× |")
    return ["| window | batch | vectorised samples/s | per-sample loop samples/s | ratio |",
            "|---|---|---|---|---|", *rows]


# -- 2. training steps --------------------------------------------------------------------
def bench_training(repeats: int) -> list[str]:
    rows = []
    for key, (kw, batch, note) in MODELS.items():
        kw = dict(kw)
        m = build_model(kw.pop("name"), **kw)
        win = window_for(m, 27 if m.name == "motionbert" else None)
        x = torch.randn(batch, win.length, 17, 3)
        y = torch.randn(batch, win.length if win.all_targets else 1, 17, 3)
        opt = torch.optim.AdamW(m.parameters(), 1e-4)
        m.train()

        def step():
            out = m(x, single_frame=True) if win.single_frame else m(x)
            loss = (out - y).norm(dim=-1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

        t = timed(step, repeats if m.num_parameters() < 5e6 else max(1, repeats // 3))
        rows.append(f"| {key} ({note}) | {m.num_parameters() / 1e6:.2f} M | "
                    f"{batch} × {win.length} | {n3(batch / t)} |")
    return ["| model | parameters | batch × frames | training samples/s |",
            "|---|---|---|---|", *rows]


# -- 3. inference -------------------------------------------------------------------------
@torch.no_grad()
def bench_inference(repeats: int, frames: int = 2000, views: int = 4) -> list[str]:
    rows = []
    for key, (kw, _, note) in MODELS.items():
        kw = dict(kw)
        m = build_model(kw.pop("name"), **kw).eval()
        win = window_for(m, 27 if m.name == "motionbert" else None)
        n = frames if m.name != "motionbert" else 270
        x = np.random.default_rng(0).standard_normal((views, n, 17, 3)).astype(np.float32)
        reps = repeats if m.num_parameters() < 5e6 else max(1, repeats // 3)
        batched = timed(lambda: lift_sequence(m, x, window=win), reps)
        xt = torch.from_numpy(x[0])
        k = 200 if m.name != "motionbert" else 10  # naive: one output frame per call

        def per_frame():
            for t in range(k):
                if m.name == "videopose3d":
                    lo = t - win.anchor
                    idx = torch.arange(lo, lo + win.length).clamp_(0, n - 1)
                    m(xt[idx][None], single_frame=True)
                elif m.name == "motionbert":
                    idx = torch.arange(t, t + win.length).clamp_(0, n - 1)
                    m(xt[idx][None])
                else:
                    m(xt[t : t + 1][None])

        naive = timed(per_frame, max(1, reps // 2))
        fb, fn = views * n / batched, k / naive
        rows.append(f"| {key} ({note}) | {n3(fb)} | {n3(fn)} | {fb / fn:.0f}× |")
    return ["| model | batched frames/s | per-frame calls frames/s | ratio |",
            "|---|---|---|---|", *rows]


# -- 4. MPJPE within a CPU budget ---------------------------------------------------------
def budget_run(data: Path, test: Path, budget_s: float, channels: int, batch: int, lr: float,
               seed: int = 0) -> dict:
    """Train SimpleBaseline3D for ``budget_s`` seconds (cosine lr over the budget), then
    evaluate on the held-out set."""
    from train.mm_model import LifterModel
    from train.models import save_checkpoint

    torch.manual_seed(seed)
    model = build_model("simplebaseline", channels=channels, dropout=0.25)
    cfg = DataConfig.from_dict(dict(dir=str(data), name="synth"))
    win = window_for(model)
    _, train, _ = build_data(cfg, win, seed=seed, need_val=False)
    wrapper = LifterModel(model)
    opt = torch.optim.AdamW(model.parameters(), lr, weight_decay=1e-4)
    t0 = time.perf_counter()
    it, epoch, samples = 0, 0, 0
    done = False
    while not done:
        train.set_epoch(epoch)
        order = np.random.default_rng([seed, epoch]).permutation(len(train))
        for s in range(0, len(order) - batch + 1, batch):
            frac = (time.perf_counter() - t0) / budget_s
            if frac >= 1:
                done = True
                break
            for g in opt.param_groups:
                cosine = 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * frac))
                g["lr"] = lr * cosine * min(1.0, (it + 1) / 100)  # warm-up, then cosine
            b = train.__getitems__(order[s : s + batch])
            pred = wrapper.predict_tensor(b["inputs"])
            loss = sum(wrapper.losses(pred, b["target"], b["valid"]).values())
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            it += 1
            samples += batch
        epoch += 1
    train_s = time.perf_counter() - t0
    ckpt = REPO / "out/bench/budget_simplebaseline.pt"
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(model.eval(), ckpt, normalization=train.norm.to_dict(), window=win.to_dict())
    test_cfg = DataConfig.from_dict(dict(dir=str(test), name="synth",
                                         sources=[dict(dir=str(test), name="synth", use="val")]))
    s = evaluate(ckpt, test_cfg, "val", progress=False)[0]
    return dict(train_s=train_s, iterations=it, samples=samples, epochs=samples / len(train),
                mpjpe=s["mpjpe_mm"], p_mpjpe=s["p_mpjpe_mm"], n_mpjpe=s["n_mpjpe_mm"],
                frames=s["frames"], checkpoint=str(ckpt))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget-s", type=float, default=60.0,
                    help="CPU budget of the MPJPE run, seconds (0: skip it)")
    ap.add_argument("--channels", type=int, default=1024,
                    help="SimpleBaseline3D width in the budget run (1024: MMPose's)")
    ap.add_argument("--batch", type=int, default=1024, help="batch size of the budget run")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--data", help="procedural training dataset folder (name synth)")
    ap.add_argument("--test", help="held-out dataset folder (name synth)")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data, test = ensure_data(args)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"medians of {args.repeats} runs\n")
    if not args.skip_throughput:
        sections = (
            ("batch building", lambda: bench_batches(data, 1024, args.repeats)),
            ("training step (forward + backward + AdamW)", lambda: bench_training(args.repeats)),
            ("inference (4 views × 2000 frames; MotionBERT 4 × 270)",
             lambda: bench_inference(args.repeats)),
        )
        for title, fn in sections:
            print(f"## {title}\n")
            print("\n".join(fn()), "\n", flush=True)
    if args.budget_s > 0:
        r = budget_run(data, test, args.budget_s, args.channels, args.batch, args.lr)
        print(f"## SimpleBaseline3D ({args.channels} ch, batch {args.batch}) in a "
              f"{args.budget_s:.0f} s budget\n")
        print(f"trained {r['train_s']:.0f} s: {r['iterations']} iterations, {r['samples']:,} "
              f"samples ({r['epochs']:.2f} epochs); held-out procedural ({r['frames']} frames): "
              f"MPJPE {r['mpjpe']:.1f} mm, P-MPJPE {r['p_mpjpe']:.1f} mm, "
              f"N-MPJPE {r['n_mpjpe']:.1f} mm")


if __name__ == "__main__":
    main()
