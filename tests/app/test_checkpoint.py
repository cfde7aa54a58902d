"""Checkpoints (sparklr.app.checkpoint), without Spark: what the fingerprint covers, what a
resume refuses, and a write/read round trip."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from sparklr.app import checkpoint
from sparklr.config import load_config
from sparklr.errors import ConfigError
from sparklr.optimizers import IterationRecord, OptimizerState

BASE = ["data.path=/d.parquet", "train.max_iter=50"]


def fingerprint(*overrides: str) -> str:
    return checkpoint.config_fingerprint(load_config(None, [*BASE, *overrides]))


def test_fingerprint_ignores_reporting_keys_only():
    base = fingerprint()
    assert fingerprint("train.log_every=3", "train.checkpoint_every=7") == base
    for changed in [
        "train.max_iter=51",
        "train.seed=1",
        "train.optimizer=lbfgs",
        "data.path=/other.parquet",
        "data.partitions=3",
    ]:
        assert fingerprint(changed) != base, changed
    # Sections other than data and train do not determine the result either.
    assert fingerprint("output.path=/elsewhere", "spark.log_level=ERROR") == base


def _state() -> OptimizerState:
    record = IterationRecord(0, loss=0.69, grad_norm=0.5, step=0.1, seconds=0.01, accuracy=0.6)
    return OptimizerState(
        iteration=3,
        theta=np.array([0.25, -1.5, 1e-300, 0.1]),
        history=[record],
        memory={"s": [np.array([1.0, 2.0])]},
        stop_reason="max_iter",
    )


def test_round_trip_gives_the_state_back_ready_to_continue(tmp_path):
    config = load_config(None, BASE)
    prints = checkpoint.fingerprints(config, "data-1")
    state = _state()
    checkpoint.write_checkpoint(tmp_path, state, prints)
    checkpoint.require_checkpoint(tmp_path)  # present: no error
    back = checkpoint.initial_state(config, 3, tmp_path, prints, resume=True)
    assert back.iteration == 3 and back.theta.tobytes() == state.theta.tobytes()
    assert back.history == state.history
    np.testing.assert_array_equal(back.memory["s"][0], state.memory["s"][0])
    assert back.stop_reason is None  # cleared, so that the optimizer continues
    text = (tmp_path / checkpoint.CHECKPOINT).read_text()
    assert text.count("\n") == 1, "compact: one line (its cost grows with the history)"
    saved = json.loads(text)
    assert saved["state"]["history"] == [dataclasses.asdict(r) for r in state.history]
    assert saved["fingerprints"] == {
        "config": checkpoint.config_fingerprint(config),
        "data": "data-1",
    }


@pytest.mark.parametrize(
    "key, config_overrides, data",
    [("config", ["train.max_iter=51"], "data-1"), ("data", [], "data-2")],
)
def test_checkpoint_of_another_config_or_data_is_refused_naming_it(
    tmp_path, key, config_overrides, data
):
    checkpoint.write_checkpoint(
        tmp_path, _state(), checkpoint.fingerprints(load_config(None, BASE), "data-1")
    )
    other = load_config(None, [*BASE, *config_overrides])
    with pytest.raises(ConfigError, match=rf"the {key} differs .*checkpoint\.json"):
        checkpoint.initial_state(
            other, 3, tmp_path, checkpoint.fingerprints(other, data), resume=True
        )


def test_missing_or_unreadable_checkpoint_is_a_config_error_naming_the_file(tmp_path):
    prints = checkpoint.fingerprints(load_config(None, BASE), "data-1")
    with pytest.raises(ConfigError, match=r"no checkpoint at .*checkpoint\.json"):
        checkpoint.require_checkpoint(tmp_path)
    (tmp_path / checkpoint.CHECKPOINT).write_text("{not json")
    with pytest.raises(ConfigError, match=r"cannot read checkpoint .*checkpoint\.json"):
        checkpoint.read_checkpoint(tmp_path, prints)


def test_fresh_state_is_seeded_and_starts_at_b_zero(tmp_path):
    config = load_config(None, [*BASE, "train.seed=5", "train.init_scale=0.5"])
    state = checkpoint.initial_state(config, 4, tmp_path, {}, resume=False)
    expected = 0.5 * np.random.default_rng(5).standard_normal(4)
    assert state.iteration == 0 and state.theta.tobytes() == np.append(expected, 0.0).tobytes()


def test_a_resume_with_another_filter_is_refused():
    """data.filter and the validation keys are part of the fingerprint a resume must match."""
    base = fingerprint("data.filter=ds = '2026-12-01'")
    assert fingerprint("data.filter=ds = '2026-12-02'") != base
    assert fingerprint("data.filter=ds = '2026-12-01'", "data.options.mergeSchema=true") != base
    assert fingerprint("data.filter=ds = '2026-12-01'", "data.validation_filter=x") != base


def test_the_path_section_and_the_state_keep_each_other_and_a_path_only_checkpoint_starts_fresh(
    tmp_path,
):
    config = load_config(None, BASE)
    prints = checkpoint.fingerprints(config, "data-1")
    checkpoint.write_section(tmp_path, "path", {"done": 2}, prints)
    assert checkpoint.read_checkpoint(tmp_path, prints) is None  # stopped before its fit
    fresh = checkpoint.initial_state(config, 3, tmp_path, prints, resume=True)
    assert fresh.iteration == 0
    checkpoint.write_checkpoint(tmp_path, _state(), prints)
    assert checkpoint.read_section(tmp_path, "path", prints) == {"done": 2}
    checkpoint.write_section(tmp_path, "path", {"done": 3}, prints)
    assert checkpoint.read_checkpoint(tmp_path, prints).iteration == 3
    other = checkpoint.fingerprints(config, "data-2")
    with pytest.raises(ConfigError, match="data differs"):
        checkpoint.read_section(tmp_path, "path", other)


def test_writing_a_section_keeps_the_others_without_reading_the_file_it_wrote(
    tmp_path, monkeypatch
):
    """The state is written beside the CV's path section (26 MB when wide) from the text this
    process wrote, byte for byte; a file rewritten since by someone else is read instead."""
    prints = checkpoint.fingerprints(load_config(None, BASE), "data-1")
    path_section = {"done": 2, "theta": {"float64": "AAAAAAAA8D8="}, "x": [1.5, None]}
    checkpoint.write_section(tmp_path, "path", path_section, prints)
    file = tmp_path / checkpoint.CHECKPOINT
    with monkeypatch.context() as m:
        m.setattr(checkpoint.json, "loads", lambda *a: pytest.fail("the checkpoint was read"))
        checkpoint.write_checkpoint(tmp_path, _state(), prints)
    expected = {"fingerprints": prints, "path": path_section, "state": _state().to_json()}
    assert file.read_text() == json.dumps(expected) + "\n"
    other = {**expected, "path": {"done": 3}}
    file.write_text(json.dumps(other))  # another writer: the cached text is stale
    checkpoint.write_section(tmp_path, "state", {"iteration": 9}, prints)
    assert json.loads(file.read_text()) == {**other, "state": {"iteration": 9}}
    checkpoint.write_section(tmp_path, "path", {"done": 4}, {**prints, "data": "data-2"})
    assert json.loads(file.read_text()) == {
        "fingerprints": {**prints, "data": "data-2"},
        "path": {"done": 4},
    }


def test_a_sections_arrays_are_written_in_binary_beside_it_and_read_back_exactly(
    tmp_path, monkeypatch
):
    """ndarrays in a section go to one .f64 file per section write (the CV's θ and L-BFGS
    pairs), named in the JSON; a rewrite removes the file it replaced, keeps the other
    sections' files, and what is read back is bit for bit what was written."""
    monkeypatch.setattr(checkpoint, "BINARY_MIN_NUMBERS", 2)
    prints = checkpoint.fingerprints(load_config(None, BASE), "data-1")
    theta = np.array([0.1, -1e-300, 2.5e10, 1 / 3])
    pairs = [np.arange(3.0), np.array([np.pi])]
    checkpoint.write_section(tmp_path, "path", {"theta": theta, "pairs": pairs, "x": 1}, prints)
    checkpoint.write_section(tmp_path, "other", {"w": np.ones(2)}, prints)
    files = sorted(p.name for p in tmp_path.glob("*.f64"))
    assert len(files) == 2 and all(checkpoint.ARRAYS_FILE.fullmatch(f) for f in files)
    saved = json.loads((tmp_path / checkpoint.CHECKPOINT).read_text())
    assert set(saved["path"]["theta"]) == checkpoint.ARRAY_KEYS  # no numbers in the JSON
    back = checkpoint.read_section(tmp_path, "path", prints)
    assert back["theta"].tobytes() == theta.tobytes() and back["x"] == 1
    assert [p.tobytes() for p in back["pairs"]] == [p.tobytes() for p in pairs]
    (before,) = tmp_path.glob("checkpoint.path.*.f64")
    checkpoint.write_section(tmp_path, "path", {"theta": 2 * theta}, prints)
    assert not before.exists() and len(list(tmp_path.glob("checkpoint.other.*.f64"))) == 1
    assert checkpoint.read_section(tmp_path, "path", prints)["theta"].tobytes() == (
        (2 * theta).tobytes()
    )
    checkpoint.write_checkpoint(tmp_path, _state(), prints)  # no arrays: no new file
    assert len(list(tmp_path.glob("*.f64"))) == 2
    checkpoint.write_section(tmp_path, "other", {"w": np.ones(1)}, prints)  # under the minimum
    assert len(list(tmp_path.glob("*.f64"))) == 1  # inline now: its old file removed
    assert set(json.loads((tmp_path / checkpoint.CHECKPOINT).read_text())["other"]["w"]) == {
        "float64"
    }
    assert checkpoint.read_section(tmp_path, "other", prints)["w"].tobytes() == (
        np.ones(1).tobytes()
    )
    for bad in (np.array([np.nan, 1.0]), np.array([np.inf])):  # binary and inline alike
        with pytest.raises(ValueError, match="not JSON compliant"):
            checkpoint.write_section(tmp_path, "path", {"theta": bad}, prints)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda ref, d: (d / ref["float64_file"]).unlink(), "No such file"),
        (lambda ref, d: (d / ref["float64_file"]).write_bytes(b"\0" * 8), "outside"),
        (lambda ref, d: ref.update(float64_file="../model.json"), "not a checkpoint array"),
    ],
)
def test_a_missing_short_or_foreign_array_file_is_a_config_error_naming_the_checkpoint(
    tmp_path, monkeypatch, damage, message
):
    monkeypatch.setattr(checkpoint, "BINARY_MIN_NUMBERS", 2)
    prints = checkpoint.fingerprints(load_config(None, BASE), "data-1")
    checkpoint.write_section(tmp_path, "path", {"theta": np.arange(4.0)}, prints)
    file = tmp_path / checkpoint.CHECKPOINT
    saved = json.loads(file.read_text())
    damage(saved["path"]["theta"], tmp_path)
    file.write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match=f"cannot read checkpoint .*{message}"):
        checkpoint.read_section(tmp_path, "path", prints)
