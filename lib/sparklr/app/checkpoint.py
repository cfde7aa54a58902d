"""Checkpoints of a training run: the optimizer state, what it was computed from, and which
failures keep it for ``--resume``.

``<staging>/checkpoint.json`` holds ``{"fingerprints": {"config": ..., "data": ...},
"state": OptimizerState.to_json()}``, and while a cross-validated path runs (``tune.folds``),
``"path"``: its progress at the latest λ boundary (:func:`write_section`; a run stopped there
has no "state" yet). The float64 ndarrays in a section come back as ndarrays; a section
with :data:`BINARY_MIN_NUMBERS` or more numbers in them has them written in binary, not as
JSON text: little-endian one after another, to ``checkpoint.<section>.<token>.f64`` beside
it, written before the JSON that names them (an array is
``{"float64_file": name, "offset": i, "count": n}``, in numbers), and the files no section
names any more are removed after it — the CV's path section at n_x = 16,384 holds ~2.4M
numbers, which as base64 in JSON cost ~0.18 s per write; smaller ones are base64 inline.
The training job writes the state every ``train.checkpoint_every`` iterations and once at
the end; ``--resume`` continues from it only when both fingerprints match the new run's: the
config's (the data and train sections, minus the keys that only change reporting) and the
data's (of the resident blocks). The staging directory that holds it outlives a failed run
only when resuming can help (:func:`discard_on_failure`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sparklr.app.fit import seeded_state
from sparklr.config import Config
from sparklr.errors import ConfigError, DataError, DivergenceError, OutputError
from sparklr.optimizers import OptimizerState
from sparklr.optimizers.base import array_from_json, array_to_json
from sparklr.output import JsonText, discard, discard_unless_resumable, write_json_atomic

log = logging.getLogger("sparklr.train")

CHECKPOINT = "checkpoint.json"
#: The binary files of a checkpoint's arrays: checkpoint.<section>.<token>.f64.
ARRAYS_FILE = re.compile(r"checkpoint\.[A-Za-z_]+\.[0-9a-f]{32}\.f64")
#: How a section's JSON names one of its arrays (offset and count in float64 numbers).
ARRAY_KEYS = {"float64_file", "offset", "count"}
#: A section with fewer numbers in its arrays keeps them inline, as base64 float64.
BINARY_MIN_NUMBERS = 1 << 16

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
    try:
        return _with_arrays(data, staging, {})
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--resume: cannot read checkpoint {path}: {exc}") from exc


def _with_arrays(value, staging: Path, files: dict[str, np.ndarray]):
    """``value`` with every array replaced by its float64 ndarray: a reference read from its
    file in ``staging`` (each file once: ``files``), an inline base64 one decoded; ValueError
    for a bad one."""
    if isinstance(value, dict) and set(value) == {"float64"}:
        return array_from_json(value)
    if isinstance(value, dict) and set(value) == ARRAY_KEYS:
        name, offset, count = value["float64_file"], value["offset"], value["count"]
        if not (isinstance(name, str) and ARRAYS_FILE.fullmatch(name)):
            raise ValueError(f"not a checkpoint array file: {name!r}")
        if name not in files:
            files[name] = np.fromfile(staging / name, dtype="<f8")
        whole = files[name]
        if not (isinstance(offset, int) and isinstance(count, int)) or not (
            0 <= offset <= offset + count <= len(whole)
        ):
            raise ValueError(f"array [{offset}, +{count}) is outside {name} ({len(whole)} numbers)")
        return whole[offset : offset + count].astype(np.float64)
    if isinstance(value, dict):
        return {k: _with_arrays(v, staging, files) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_arrays(v, staging, files) for v in value]
    return value


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
    writing the state does not read, parse and re-encode the CV's path beside it (its
    arrays are in their own file; an older checkpoint's base64 path was 26 MB at
    n_x = 16,384) and a path write does not read the section it replaces; then the array
    files that no section names are removed."""
    path = staging / CHECKPOINT
    texts = _kept_texts(path, fingerprints)
    for key, value in sections.items():
        texts[key] = _section_text(staging, key, value)
    write_json_atomic(path, {"fingerprints": fingerprints, **texts}, compact=True)
    _LAST_WRITTEN.clear()
    _LAST_WRITTEN[path] = (_identity(path), fingerprints, texts)
    named = {m for t in texts.values() for m in ARRAYS_FILE.findall(t.text)}
    for old in staging.glob("checkpoint.*.f64"):
        if ARRAYS_FILE.fullmatch(old.name) and old.name not in named:
            old.unlink(missing_ok=True)


def _section_text(staging: Path, key: str, value) -> JsonText:
    """Section ``key``'s JSON text, its float64 ndarrays written first to a new binary file
    of their own (module docstring; fsynced, as the JSON is, before the JSON names it) — or,
    below :data:`BINARY_MIN_NUMBERS` numbers in all, inline as base64 (a narrow model's
    checkpoint stays one file)."""
    arrays: list[np.ndarray] = []
    name = f"checkpoint.{key}.{uuid.uuid4().hex}.f64"

    def reference(obj) -> dict:
        a = _finite_array(obj)
        offset = sum(len(b) for b in arrays)
        arrays.append(a)
        return {"float64_file": name, "offset": offset, "count": len(a)}

    text = json.dumps(value, allow_nan=False, default=reference)
    if not arrays:
        return JsonText(text)
    if sum(len(a) for a in arrays) < BINARY_MIN_NUMBERS:
        return JsonText(json.dumps(value, allow_nan=False, default=array_to_json))
    with open(staging / name, "wb") as fh:
        for a in arrays:
            fh.write(a.data)
        fh.flush()
        os.fsync(fh.fileno())
    return JsonText(text)


def _finite_array(obj) -> np.ndarray:
    """``obj`` as contiguous little-endian float64 when it is an ndarray of finite numbers;
    json's own errors otherwise."""
    if not isinstance(obj, np.ndarray):
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
    a = np.ascontiguousarray(obj, dtype="<f8").ravel()
    if not np.isfinite(a).all():
        raise ValueError("Out of range float values are not JSON compliant")
    return a


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
