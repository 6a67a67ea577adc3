"""Small helpers shared by the stages' CLIs: typed config sections, shard specs and the
names and folders shards write (one definition for synth, blender and merge)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from hpd3d.errors import InputError


def from_section(cls, section: dict | None, where: str):
    """Build dataclass ``cls`` from a plain config dict; returns ``(obj, enabled)``.

    ``enabled`` (default True) is popped first; an unknown key is an :class:`InputError`
    naming the section, so a typo in an override never passes silently.
    """
    section = dict(section or {})
    enabled = bool(section.pop("enabled", True))
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(section) - names
    if unknown:
        raise InputError(None, f"{where}: unknown option(s) {sorted(unknown)}; "
                               f"known: {sorted(names)}")
    return cls(**section), enabled


def parse_shard(spec) -> tuple[int, int]:
    """``"i/n"`` → ``(i, n)`` with ``0 ≤ i < n``."""
    try:
        i, n = (int(x) for x in str(spec).split("/"))
    except ValueError:
        raise InputError(None, f"shard={spec!r}: expected i/n, e.g. 0/4") from None
    if not 0 <= i < n:
        raise InputError(None, f"shard={spec!r}: need 0 ≤ i < n")
    return i, n


# -- the one entry-point shape ---------------------------------------------------------
CONF_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "conf"


def config_error(e: BaseException) -> str:
    """One line for a Hydra / OmegaConf composition error (typo, bad override, missing
    group option): no traceback, no "use +key=" advice (a typo is a typo)."""
    import re

    text = str(e)
    m = re.search(r"Could not override '([^']+)'", text)
    if m and "not in struct" in str(e.__cause__ or ""):
        return (f"unknown key {m.group(1)!r} (a typo? `--help` lists every setting; a new "
                f"key cannot be added from the command line)")
    m = re.search(r"Could not find '([^'/]+)/([^']+)'.*?Available options in '[^']+':\s*(.*?)"
                  r"(?:\nConfig search path|$)", text, re.S)
    if m:
        options = ", ".join(x.strip() for x in m.group(3).split() if x.strip())
        return f"{m.group(1)}={m.group(2)}: no such option; available: {options}"
    lines = []
    for x in (e, e.__cause__):
        if x is None:
            continue
        for line in str(x).splitlines():
            line = line.strip()
            if line.startswith("Config search path"):
                break
            if (not line or line.startswith(("To append to your config", "full_key:",
                                            "object_type=", "reference_type=", "Set the "))
                    or line in lines):
                continue
            lines.append(line)
    text = "; ".join(lines).replace("Available options in", "available options in")
    text = text.replace(":;", ":").replace("\t", "")
    return text or type(e).__name__


def _is_config_error(e: BaseException) -> bool:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    return isinstance(e, (HydraException, OmegaConfBaseException))


def _plain_group_overrides(config_name: str, args: list[str]) -> list[str]:
    """``+exp=x`` → ``exp=x`` for a group already in the config's defaults list as
    ``exp: null`` (the lightning-hydra-template way: both spellings select it)."""
    out = []
    for a in args:
        if a.startswith("+") and not a.startswith("++") and "=" in a:
            group = a[1:].split("=", 1)[0]
            path = CONF_DIR / f"{config_name}.yaml"
            if (CONF_DIR / group).is_dir() and path.is_file() and any(
                    line.strip().startswith(f"- {group}:") for line in path.read_text().splitlines()):
                a = a[1:]
        out.append(a)
    return out


def hydra_main(config_name: str):
    """``@hydra.main`` on ``conf/<config_name>.yaml`` + :func:`hpd3d.errors.cli_guard`, and
    Hydra's own errors (a typo in an override, an unknown group option, a parse error) as
    one line ``error: conf/<config_name>.yaml: <problem>`` with exit status 2.

    The decorated ``main(argv=None)`` reads ``sys.argv`` (``argv``: the arguments instead,
    for tests that run a command in-process).
    """
    import functools
    import os
    import sys

    from .errors import cli_guard

    def deco(fn):
        guarded = cli_guard(fn)

        @functools.wraps(fn)
        def main(argv=None):
            import hydra

            entry = hydra.main(version_base="1.3", config_path=str(CONF_DIR),
                               config_name=config_name)(guarded)
            saved_argv, saved_env = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
            args = saved_argv[1:] if argv is None else [str(a) for a in argv]
            sys.argv = [saved_argv[0] if saved_argv else config_name,
                        *_plain_group_overrides(config_name, args)]
            os.environ["HYDRA_FULL_ERROR"] = "1"  # let Hydra's errors reach us (one line)
            try:
                return entry()
            except Exception as e:  # noqa: BLE001 - Hydra/OmegaConf config errors only
                if not _is_config_error(e):
                    raise
                print(f"error: conf/{config_name}.yaml: {config_error(e)}", file=sys.stderr)
                sys.exit(2)
            finally:
                sys.argv = saved_argv
                if saved_env is None:
                    os.environ.pop("HYDRA_FULL_ERROR", None)
                else:
                    os.environ["HYDRA_FULL_ERROR"] = saved_env

        return main

    return deco


def print_help(config_name: str, overrides=()) -> None:
    """What ``--help`` prints for a command that composes its config without
    ``@hydra.main`` (``blender.render``): its ``hydra.help.template`` with ``$CONFIG``."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=list(overrides),
                      return_hydra_config=True)
    template = OmegaConf.select(cfg, "hydra.help.template", default="") or ""
    body = {k: v for k, v in OmegaConf.to_container(cfg).items() if k != "hydra"}
    print(template.replace("$CONFIG", OmegaConf.to_yaml(body)).rstrip())
def shard_name(name: str, shard: tuple[int, int]) -> str:
    """The dataset name shard ``(i, n)`` writes: ``<name>-<i>of<n>`` (``name`` when n = 1)."""
    i, n = shard
    return name if n == 1 else f"{name}-{i}of{n}"


def shard_dir(out, shard: tuple[int, int]) -> Path:
    """The folder shard ``(i, n)`` writes into: ``<out>/shard-<i>of<n>`` (``out`` when n = 1)."""
    i, n = shard
    return Path(out) if n == 1 else Path(out) / f"shard-{i}of{n}"


def find_shards(folder, name: str) -> list[tuple[Path, str]]:
    """``(folder, shard name)`` of every ``data_3d_<name>-<i>of<n>.npz`` below ``folder``,
    in shard order; an :class:`InputError` if none is there, one is missing or they come
    from different splits."""
    folder = Path(folder)
    pat = re.compile(rf"data_3d_{re.escape(name)}-(\d+)of(\d+)\.npz$")
    found = {}
    for p in sorted(folder.rglob("data_3d_*.npz")):
        m = pat.match(p.name)
        if m:
            key = (int(m.group(1)), int(m.group(2)))
            if key in found:
                raise InputError(p, f"shard {key[0]}/{key[1]} is also in {found[key].parent}")
            found[key] = p
    if not found:
        raise InputError(folder, f"no shards data_3d_{name}-<i>of<n>.npz found")
    counts = {n for _, n in found}
    if len(counts) != 1:
        raise InputError(folder, f"shards of different splits: n = {sorted(counts)}")
    (n,) = counts
    missing = [i for i in range(n) if (i, n) not in found]
    if missing:
        raise InputError(folder, f"shards missing: {missing} of {n}")
    return [(found[(i, n)].parent, shard_name(name, (i, n))) for i in range(n)]
