"""Checkpoints of a training run: the optimizer state, what it was computed from, and which
failures keep it for ``--resume``.

``<staging>/checkpoint.json`` holds ``{"fingerprints": {"config": ..., "data": ...},
"state": OptimizerState.to_json()}``, and while a cross-validated path runs (``tune.folds``),
``"path"``: its progress at the latest λ boundary (:func:`write_section`; a run stopped there
has no "state" yet). The training job writes the state every
``train.checkpoint_every`` iterations and once at the end; ``--resume`` continues from it only
when both fingerprints match the new run's: the config's (the data and train sections, minus
the keys that only change reporting) and the data's (of the resident blocks). The staging
directory that holds it outlives a failed run only when resuming can help
(:func:`discard_on_failure`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from sparklr.app.fit import seeded_state
from sparklr.config import Config
from sparklr.errors import ConfigError, DataError, DivergenceError, OutputError
from sparklr.optimizers import OptimizerState
from sparklr.output import JsonText, discard, discard_unless_resumable, write_json_atomic

log = logging.getLogger("sparklr.train")

CHECKPOINT = "checkpoint.json"

#: Train keys that change what is logged or saved along the way, not the result.
REPORTING_KEYS = ("checkpoint_every", "log_every")


def require_checkpoint(staging: Path) -> None:
    """Refuse ``--resume`` when ``staging`` holds no checkpoint (checked before Spark starts)."""
    if not (staging / CHECKPOINT).is_file():
        raise ConfigError(f"--resume: no checkpoint at {staging / CHECKPOINT}")


def config_fingerprint(config: Config) -> str:
    """Fingerprint of what determines the result: the data and train sections, minus
    the keys that only change reporting."""
    reporting = dict.fromkeys(REPORTING_KEYS, 0)
    same = dataclasses.replace(config, train=dataclasses.replace(config.train, **reporting))
    return same.fingerprint("data", "train")


def fingerprints(config: Config, data_fingerprint: str) -> dict[str, str]:
    """What a checkpoint records and a resume must match: {"config": ..., "data": ...}."""
    return {"config": config_fingerprint(config), "data": data_fingerprint}


def initial_state(
    config: Config, n_features: int, staging: Path, fingerprints: dict, resume: bool
) -> OptimizerState:
    """The checkpointed state when resuming, else θ⁰ = (w⁰, 0) with
    w⁰ ~ init_scale · N(0, 1) seeded by ``train.seed``."""
    state = read_checkpoint(staging, fingerprints) if resume else None
    return seeded_state(config.train, n_features) if state is None else state


def _read_checked(staging: Path, fingerprints: dict) -> dict:
    """The checkpoint's JSON; ConfigError, naming it, when it cannot be read or when its
    config or data fingerprint differs from ``fingerprints``."""
    path = staging / CHECKPOINT
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--resume: cannot read checkpoint {path}: {exc}") from exc
    for key in ("config", "data"):
        if data.get("fingerprints", {}).get(key) != fingerprints[key]:
            raise ConfigError(
                f"--resume: the {key} differs from the checkpointed run's ({path}); "
                "start a fresh run instead"
            )
    return data


def read_checkpoint(staging: Path, fingerprints: dict) -> OptimizerState | None:
    """The state in ``staging``'s checkpoint, ready to continue (``stop_reason`` cleared);
    None when the run stopped before its fit (only a "path" section). Raises ConfigError as
    :func:`_read_checked`."""
    data = _read_checked(staging, fingerprints)
    if "state" not in data:
        return None
    state = OptimizerState.from_json(data["state"])
    state.stop_reason = None
    log.info("resuming at iteration %d from %s", state.iteration, staging / CHECKPOINT)
    return state


def write_checkpoint(staging: Path, state: OptimizerState, fingerprints: dict) -> None:
    """Write the optimizer state (keeping the checkpoint's "path" section), as compact JSON:
    it holds the whole history, so its cost grows with the iteration (see
    :func:`~sparklr.output.write_json_atomic`)."""
    _write(staging, fingerprints, state=state.to_json())


def write_section(staging: Path, key: str, value: dict, fingerprints: dict) -> None:
    """Write section ``key`` (e.g. "path") of the checkpoint, keeping its other sections."""
    _write(staging, fingerprints, **{key: value})


def read_section(staging: Path, key: str, fingerprints: dict) -> dict | None:
    """Section ``key`` of the checkpoint (None when absent); ConfigError as
    :func:`_read_checked`."""
    return _read_checked(staging, fingerprints).get(key)


def _write(staging: Path, fingerprints: dict, **sections) -> None:
    """Write ``sections`` into the checkpoint, keeping its other sections (when its
    fingerprints are these): each section is JSON text of its own, and the text of the
    sections this process wrote last is kept in memory (:data:`_LAST_WRITTEN`), so that
    writing the state does not read, parse and re-encode the CV's path beside it (26 MB at
    n_x = 16,384) and a path write does not read the section it replaces."""
    path = staging / CHECKPOINT
    texts = _kept_texts(path, fingerprints)
    texts.update({key: JsonText(json.dumps(v, allow_nan=False)) for key, v in sections.items()})
    write_json_atomic(path, {"fingerprints": fingerprints, **texts}, compact=True)
    _LAST_WRITTEN.clear()
    _LAST_WRITTEN[path] = (_identity(path), fingerprints, texts)


#: {checkpoint path: (its identity, fingerprints, {section: JSON text})} as this process
#: last wrote it (one checkpoint: its run's); used while the file is still that one.
_LAST_WRITTEN: dict[Path, tuple] = {}


def _kept_texts(path: Path, fingerprints: dict) -> dict[str, JsonText]:
    """The sections of the checkpoint at ``path`` as JSON text when its fingerprints are
    ``fingerprints`` ({} otherwise, or when unreadable): from memory when this process wrote
    the file as it is, else read (the first write after ``--resume``)."""
    last = _LAST_WRITTEN.get(path)
    if last is not None and last[0] == _identity(path):
        return dict(last[2]) if last[1] == fingerprints else {}
    if not path.is_file():
        return {}
    try:
        old = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    if old.get("fingerprints") != fingerprints:
        return {}
    return {k: JsonText(json.dumps(v)) for k, v in old.items() if k != "fingerprints"}


def _identity(path: Path) -> tuple | None:
    """What changes when the file at ``path`` is replaced or rewritten (None: no file)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@contextlib.contextmanager
def discard_on_failure(staging: Path, resume: bool) -> Iterator[None]:
    """Remove the staging directory when the body fails, unless its checkpoint can help.

    A config, data, divergence or output error means the run cannot succeed as configured:
    the directory goes, except that a refused or failed --resume keeps the checkpoint it was
    asked to continue from. Infrastructure failures, interrupts and bugs keep it only if it
    holds a checkpoint that --resume can continue from.
    """
    try:
        yield
    except (ConfigError, DataError, DivergenceError, OutputError):
        if resume:
            discard_unless_resumable(staging, CHECKPOINT)
        else:
            discard(staging)
        raise
    except BaseException:
        discard_unless_resumable(staging, CHECKPOINT)
        raise
