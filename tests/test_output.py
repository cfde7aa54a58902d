"""output.py: atomic publish, and refusing every target it must not touch (no Spark)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sparklr.errors import OutputError
from sparklr.output import (
    MARKER,
    check_output_target,
    discard_unless_resumable,
    open_staging,
    publish,
    staging_path,
    write_json_atomic,
)


def _model_dir(path, value):
    path.mkdir()
    (path / "model.json").write_text(json.dumps({"v": value}))


def test_publish_new_output(tmp_path):
    out = tmp_path / "model"
    staging = open_staging(out, resume=False)
    assert staging == tmp_path / ".model.sparklr-partial" and (staging / MARKER).exists()
    write_json_atomic(staging / "model.json", {"v": 1})
    publish(staging, out, overwrite=False)
    assert json.loads((out / "model.json").read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    # The staging marker is not published; the published-output marker is.
    assert sorted(p.name for p in out.iterdir()) == [".sparklr-output", "model.json"]


def test_publish_replaces_a_model_only_with_overwrite(tmp_path):
    out = tmp_path / "model"
    _model_dir(out, "old")
    staging = open_staging(out, resume=False)
    write_json_atomic(staging / "model.json", {"v": "new"})
    with pytest.raises(OutputError, match="already exists"):
        publish(staging, out, overwrite=False)
    assert json.loads((out / "model.json").read_text()) == {"v": "old"}
    publish(staging, out, overwrite=True)
    assert json.loads((out / "model.json").read_text()) == {"v": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_refuses_file_symlink_and_foreign_directory(tmp_path, overwrite):
    a_file = tmp_path / "file"
    a_file.write_text("keep")
    target = tmp_path / "target"
    _model_dir(target, "keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("keep")
    for path, message in [
        (a_file, "not a directory"),
        (link, "symbolic link"),
        (foreign, "already exists" if not overwrite else "not a sparklr model directory"),
        (a_file / "sub", "is not a directory"),
        (Path("."), "must name a directory"),
        (Path("/"), "must name a directory"),
        (tmp_path / "x" / "..", "must name a directory"),
    ]:
        with pytest.raises(OutputError, match=message):
            check_output_target(path, overwrite)
    assert a_file.read_text() == "keep" and (foreign / "thesis.tex").read_text() == "keep"
    assert link.is_symlink() and (target / "model.json").exists()


def test_empty_or_published_directory_may_be_replaced(tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    check_output_target(out, overwrite=True)
    scored = tmp_path / "scored"  # e.g. predict.py's Parquet output: no model.json
    scored.mkdir()
    (scored / "part-0.parquet").write_text("x")
    with pytest.raises(OutputError, match="not a sparklr"):
        check_output_target(scored, overwrite=True)
    (scored / ".sparklr-output").touch()
    check_output_target(scored, overwrite=True)
    with pytest.raises(OutputError, match="already exists"):
        check_output_target(out, overwrite=False)


def test_staging_never_deletes_what_sparklr_did_not_create(tmp_path):
    out = tmp_path / "model"
    squatter = staging_path(out)
    squatter.mkdir()
    (squatter / "data.csv").write_text("keep")
    with pytest.raises(OutputError, match="not created by sparklr"):
        open_staging(out, resume=False)
    assert (squatter / "data.csv").read_text() == "keep"
    squatter_link = staging_path(tmp_path / "other")
    squatter_link.symlink_to(squatter)
    with pytest.raises(OutputError, match="not a directory"):
        open_staging(tmp_path / "other", resume=False)
    assert (squatter / "data.csv").exists()


def test_staging_reuse_on_resume_and_cleanup(tmp_path):
    out = tmp_path / "model"
    staging = open_staging(out, resume=False)
    (staging / "checkpoint.json").write_text("{}")
    assert (open_staging(out, resume=True) / "checkpoint.json").exists()  # kept for --resume
    discard_unless_resumable(staging, "checkpoint.json")
    assert staging.exists()
    assert not (open_staging(out, resume=False) / "checkpoint.json").exists()  # fresh run
    discard_unless_resumable(staging, "checkpoint.json")
    assert not staging.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to read-only directories")
def test_unwritable_parent(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            check_output_target(locked / "model", overwrite=False)
    finally:
        locked.chmod(0o700)


def test_uncreatable_staging(tmp_path):
    with pytest.raises(OutputError, match="cannot create"):
        open_staging(tmp_path.parent / "/proc/sparklr-no/model", resume=False)


def test_write_json_atomic_compact_is_one_line_that_reads_back(tmp_path):
    path = tmp_path / "x.json"
    data = {"state": {"history": [{"loss": 0.5, "k": 1}] * 3, "theta": [0.1, -2.0]}}
    write_json_atomic(path, data, compact=True)
    text = path.read_text()
    assert text.count("\n") == 1 and json.loads(text) == data
    with pytest.raises(ValueError):
        write_json_atomic(path, {"a": float("nan")}, compact=True)
    assert json.loads(path.read_text()) == data
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_write_json_atomic_refuses_nan_and_leaves_no_temp(tmp_path):
    path = tmp_path / "x.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(ValueError):
        write_json_atomic(path, {"a": float("nan")})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_long_lists_are_written_on_one_line_and_read_back_equal(tmp_path):
    """A wide model's coefficients and a checkpoint's lbfgs memory (lists of > LONG_LIST
    numbers, at any depth) go on one line each; everything else is indented as before."""
    import json

    from sparklr.output import LONG_LIST, write_json_atomic

    long = [float(v) / 7 for v in range(LONG_LIST + 1)]
    data = {"coefficients": long, "state": {"memory": {"S": [{"ndarray": long}]}, "k": 1}}
    path = tmp_path / "m.json"
    write_json_atomic(path, data)
    text = path.read_text()
    assert json.loads(text) == data
    assert len(text.splitlines()) < 20  # not one line per number
    small = {"coefficients": long[:3], "nested": [1, {"z": []}]}
    write_json_atomic(path, small)
    assert path.read_text() == json.dumps(small, indent=2) + "\n"


def test_float_list_is_written_as_the_floats_would_be_in_either_mode(tmp_path):
    """float_list's texts, long (one line from the texts) or short (indented floats), give
    the bytes the floats themselves give; its JSON reads back to the exact floats."""
    import numpy as np
    from sparklr.output import LONG_LIST, float_list, write_json_atomic

    rng = np.random.default_rng(3)
    for n in (3, LONG_LIST + 1):
        values = (rng.standard_normal(n) * np.logspace(-300, 300, n)).tolist()
        texts = [repr(v) for v in values]
        for compact in (False, True):
            plain, shared = tmp_path / "plain.json", tmp_path / "shared.json"
            doc = {"b": 1.5, "points": [{"w": values, "k": "x"}, {"w": []}]}
            write_json_atomic(plain, doc, compact=compact)
            shared_doc = {"b": 1.5, "points": [{"w": float_list(texts), "k": "x"}, {"w": []}]}
            write_json_atomic(shared, shared_doc, compact=compact)
            assert shared.read_text() == plain.read_text(), (n, compact)
            back = json.loads(shared.read_text())["points"][0]["w"]
            assert np.array_equal(np.array(back), np.array(values))


def test_json_text_is_written_verbatim_and_a_non_finite_float_list_refused(tmp_path):
    from sparklr.output import JsonText, float_list, write_json_atomic

    path = tmp_path / "c.json"
    section = {"s": [1, 2.5, "x"], "t": None}
    write_json_atomic(path, {"f": {"a": 1}, "kept": JsonText(json.dumps(section))}, compact=True)
    assert path.read_text() == json.dumps({"f": {"a": 1}, "kept": section}) + "\n"
    with pytest.raises(ValueError, match="nan"):
        float_list(["1.0", "nan"])
