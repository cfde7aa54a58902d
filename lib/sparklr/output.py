"""Atomic outputs on the driver's filesystem (no Spark).

A run never writes into ``output.path`` directly. It works in a staging directory next to
it, ``<parent>/.<name>.sparklr-partial`` (checkpoints live there too, so ``--resume`` can find
them), and publishes it with one ``rename`` when everything is written. A reader therefore
sees either no output or a complete one. Files are written to a temporary name, flushed,
fsynced and renamed.

The staging directory must sit on the same filesystem as ``output.path`` for the rename to
be atomic, hence next to it rather than in a temp dir. It is the only path outside
``output.path`` that sparklr creates or deletes; :func:`open_staging` marks it so that a
training run never deletes a directory it did not create (a foreign
``.<name>.sparklr-partial`` is an error). Every published output carries a hidden
``.sparklr-output`` file (Spark and Arrow readers skip dotfiles). Replacing an existing
``output.path`` (``overwrite = true``) moves it aside to ``.<name>.sparklr-old-XXXXXXXX`` for
the instant of the swap, and is refused unless it is empty or is a sparklr output (marker or
``model.json``), so that a mistyped path cannot wipe an unrelated directory.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparklr.errors import OutputError

STAGING_SUFFIX = ".sparklr-partial"
#: Present in every staging directory sparklr creates; removed just before publishing.
MARKER = ".sparklr-staging"
#: Present in every directory :func:`publish` puts in place.
PUBLISHED = ".sparklr-output"


#: Lists longer than this are written on one line (see :func:`write_json_atomic`).
LONG_LIST = 1000


@dataclass(frozen=True)
class JsonText:
    """JSON already encoded, which :func:`write_json_atomic` writes as it is: a long list of
    floats whose texts a CSV shares (:func:`float_list`), a checkpoint section kept from the
    previous write. Not a str (whose subclass would copy a 26 MB section, and which json.dumps
    would quote): json.dumps refuses it."""

    text: str


def float_list(texts: list[str]) -> JsonText | list[float]:
    """The JSON value of the floats whose ``repr`` texts are ``texts`` (a caller that writes
    them to a CSV too computes them once: repr is most of the cost of either file). A long
    list is the text :func:`write_json_atomic` would write for it; a short one, the floats
    (exact: float(repr(x)) == x). ValueError for a non-finite value, as json's."""
    bad = next((t for t in texts if t in ("nan", "inf", "-inf")), None)
    if bad is not None:
        raise ValueError(f"Out of range float values are not JSON compliant: {bad}")
    if len(texts) > LONG_LIST:
        return JsonText(f"[{', '.join(texts)}]")
    return [float(t) for t in texts]


def write_json_atomic(path: Path, data: Any, *, compact: bool = False) -> None:
    """Write ``data`` as JSON to ``path`` via a temporary file and a rename, indented by 2;
    lists of more than :data:`LONG_LIST` numbers or strings (a wide model's coefficients and
    names, lbfgs's memory in a checkpoint) go on one line each, by json's C encoder: the
    indenting encoder is pure Python (4.5 s and a line per number for a million coefficients;
    2.3 s and one line this way, on the loaded test machine). ``compact``: all of it on one
    line by the C encoder, for files only programs read (a checkpoint of a 2,000-iteration
    history: 12 ms instead of 200-400 ms, loaded machine). A :class:`JsonText` anywhere in
    ``data`` is written verbatim."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "w") as fh:
            for chunk in _json_chunks(data, None if compact else ""):
                fh.write(chunk)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _json_chunks(data: Any, indent: str | None):
    """json.dumps(data, indent=2), or on one line when ``indent`` is None, except that a
    JsonText is itself and, indented, lists of more than LONG_LIST scalars, at any depth, are
    one line from the C encoder."""
    compact = indent is None
    inner = None if compact else indent + "  "
    comma, close = (", ", "") if compact else (",", f"\n{indent}")
    start = "" if compact else f"\n{inner}"
    if isinstance(data, JsonText):
        yield data.text
    elif isinstance(data, dict) and data and _special(data, compact):
        yield "{"
        for i, (key, value) in enumerate(data.items()):
            yield (comma if i else "") + f"{start}{json.dumps(key)}: "
            yield from _json_chunks(value, inner)
        yield close + "}"
    elif isinstance(data, list) and data and _special(data, compact) and not _long(data):
        yield "["
        for i, value in enumerate(data):
            yield (comma if i else "") + start
            yield from _json_chunks(value, inner)
        yield close + "]"
    else:
        one_line = compact or _long(data)
        body = json.dumps(data, indent=None if one_line else 2, allow_nan=False)
        yield body if compact else body.replace("\n", "\n" + indent)


def _long(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) > LONG_LIST
        and not isinstance(value[0], (dict, list))
    )


def _special(value: Any, compact: bool) -> bool:
    """Whether ``value`` is or holds what json.dumps must not write as a whole: a JsonText,
    and unless ``compact`` a long list."""
    if isinstance(value, JsonText) or (not compact and _long(value)):
        return True
    if isinstance(value, dict):
        return any(_special(v, compact) for v in value.values())
    if isinstance(value, list):
        return any(_special(v, compact) for v in value if isinstance(v, (dict, list, JsonText)))
    return False


def staging_path(output: Path) -> Path:
    return output.parent / f".{output.name}{STAGING_SUFFIX}"


def check_output_target(output: Path, overwrite: bool) -> None:
    """Refuse targets we must not replace: an existing output without overwrite, a file, a link,
    a directory that is not a sparklr output, a path without a name (``/``, ``.``, ``..``)."""
    if output.name in ("", ".", "..") or Path(os.path.abspath(output)).name == "":
        raise OutputError(f"output.path {str(output)!r} must name a directory to create")
    if output.is_symlink():
        raise OutputError(f"output.path {output} is a symbolic link; refusing to replace it")
    if output.exists():
        if not output.is_dir():
            raise OutputError(f"output.path {output} exists and is not a directory")
        if not overwrite:
            raise OutputError(
                f"output.path {output} already exists; set output.overwrite = true to replace it"
            )
        if any(output.iterdir()) and not (
            (output / PUBLISHED).is_file() or (output / "model.json").is_file()
        ):
            raise OutputError(
                f"output.path {output} exists and is not a sparklr model directory "
                "(no model.json); refusing to replace it"
            )
    parent = output.parent
    for ancestor in [parent, *parent.parents]:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise OutputError(f"output.path {output}: {ancestor} is not a directory")
            if not os.access(ancestor, os.W_OK | os.X_OK):
                raise OutputError(f"output.path {output}: directory {ancestor} is not writable")
            break


def open_staging(output: Path, *, resume: bool) -> Path:
    """Create (or, when resuming, reuse) the staging directory of ``output``."""
    staging = staging_path(output)
    if staging.is_symlink() or (staging.exists() and not staging.is_dir()):
        raise OutputError(f"staging path {staging} exists and is not a directory")
    if staging.exists() and not (staging / MARKER).exists():
        raise OutputError(
            f"staging path {staging} exists but was not created by sparklr; remove it yourself"
        )
    if staging.exists() and not resume:
        shutil.rmtree(staging)
    try:
        staging.mkdir(parents=True, exist_ok=True)
        (staging / MARKER).touch()
    except OSError as exc:
        raise OutputError(f"cannot create {staging}: {exc.strerror or exc}") from exc
    return staging


def publish(staging: Path, output: Path, overwrite: bool) -> None:
    """Move the finished staging directory to ``output`` (replacing it when allowed)."""
    check_output_target(output, overwrite)
    (staging / PUBLISHED).touch()
    (staging / MARKER).unlink(missing_ok=True)
    old = None
    if output.exists():
        old = output.parent / f".{output.name}.sparklr-old-{uuid.uuid4().hex[:8]}"
        os.rename(output, old)
    try:
        os.rename(staging, output)
    except OSError:
        if old is not None:
            os.rename(old, output)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def discard(staging: Path) -> None:
    """Remove a staging directory after a failure that makes it worthless (never through a
    symbolic link)."""
    if staging.is_dir() and not staging.is_symlink():
        shutil.rmtree(staging, ignore_errors=True)


def discard_unless_resumable(staging: Path, checkpoint: str) -> None:
    """After a failure: keep the staging directory only when it holds a checkpoint that
    ``--resume`` can continue from."""
    if not (staging / checkpoint).exists():
        discard(staging)
