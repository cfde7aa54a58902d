"""Bad input, bad configuration, bad output targets: the real job ends with one error line
naming the culprit, the documented exit code (sparklr.errors) and nothing left on disk.

Cases that fail before Spark run as separate ``jobs/train.py`` processes, concurrently, with
JAVA_HOME/SPARK_HOME pointing nowhere: they pass only if they fail without starting a JVM.
Cases that need the data run through the job's ``main`` in one subprocess that shares a
Spark session (batch_jobs.py); one case runs through ``spark-submit`` as well.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from sparklr.errors import ConfigError, DataError, DivergenceError, OutputError

from tests.app.conftest import (
    base_args,
    data_args,
    leftovers,
    no_java_env,
    run_batch,
    run_job,
    start_jobs,
    wait_jobs,
)

CONFIG, DATA, DIVERGED, OUTPUT = (
    ConfigError.exit_code,
    DataError.exit_code,
    DivergenceError.exit_code,
    OutputError.exit_code,
)


# --------------------------------------------------------------------------- before Spark


def test_config_and_output_errors_fail_fast_without_a_jvm(tmp_path, datasets, job_env):
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text('[train]\nmax_iter = 10\nlearning_rate = "auto\n')
    wrong_table = tmp_path / "table.toml"
    wrong_table.write_text('train = "fast"\n')
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "model.json").write_text("{}")
    a_file = tmp_path / "a_file"
    a_file.write_text("precious")
    target = tmp_path / "link_target"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    link = tmp_path / "link"
    link.symlink_to(target)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("precious")
    squatted = tmp_path / "squatted"
    (tmp_path / ".squatted.sparklr-partial").mkdir()
    (tmp_path / ".squatted.sparklr-partial" / "mine.txt").write_text("precious")

    good = data_args(datasets["good"])
    out = tmp_path / "out"
    # (argv, exit code, text the error must contain)
    cases = [
        ([*good, *base_args(out), "--set", "train.max_itr=5"], CONFIG, "train.max_itr"),
        ([*good, *base_args(out), "--set", "train.max_iter=ten"], CONFIG, "train.max_iter"),
        ([*good, *base_args(out), "--set", "train.max_iter=2.5"], CONFIG, "train.max_iter"),
        ([*good, *base_args(out), "--set", "train.max_iter=0"], CONFIG, "train.max_iter"),
        ([*good, *base_args(out), "--set", "train.max_iter=-3"], CONFIG, "train.max_iter"),
        ([*good, *base_args(out), "--set", "train.learning_rate=0"], CONFIG, "learning_rate"),
        ([*good, *base_args(out), "--set", "train.learning_rate=-0.1"], CONFIG, "learning_rate"),
        ([*good, *base_args(out), "--set", "train.learning_rate=fast"], CONFIG, "learning_rate"),
        ([*good, *base_args(out), "--set", "train.tol=-1e-6"], CONFIG, "train.tol"),
        ([*good, *base_args(out), "--set", "train.standardize=yes"], CONFIG, "standardize"),
        ([*good, *base_args(out), "--set", "data.format=jsn"], CONFIG, "data.format"),
        ([*good, *base_args(out), "--set", 'data.features=["a","a"]'], CONFIG, "a more than"),
        ([*good, *base_args(out), "--set", 'data.features=["a","label"]'], CONFIG, "'label'"),
        ([*good, *base_args(out), "--set", "train.max_iter"], CONFIG, "train.max_iter"),
        ([*good, *base_args(out), "--config", str(bad_toml)], CONFIG, str(bad_toml)),
        ([*good, *base_args(out), "--config", str(wrong_table)], CONFIG, "train"),
        ([*good, *base_args(out), "--config", str(tmp_path / "none.toml")], CONFIG, "none.toml"),
        ([*good, *base_args(out), "--resume"], CONFIG, "no checkpoint"),
        ([*good, *base_args(out), "--bogus-flag"], CONFIG, "command line"),
        (
            [*good, *base_args(existing, "--set", "output.overwrite=false")],
            OUTPUT,
            f"{existing} already exists",
        ),
        ([*good, *base_args(a_file)], OUTPUT, f"{a_file} exists and is not a directory"),
        ([*good, *base_args(a_file, "--set", "output.overwrite=true")], OUTPUT, str(a_file)),
        ([*good, *base_args(link, "--set", "output.overwrite=true")], OUTPUT, "symbolic link"),
        ([*good, *base_args(foreign, "--set", "output.overwrite=true")], OUTPUT, "not a sparklr"),
        ([*good, *base_args(a_file / "model")], OUTPUT, "is not a directory"),
        ([*good, *base_args(Path("/proc/sparklr-test/model"))], OUTPUT, "/proc/sparklr-test"),
        ([*good, *base_args(squatted)], OUTPUT, "not created by sparklr"),
        ([*good, *base_args(Path("."), "--set", "output.overwrite=true")], OUTPUT, "'.'"),
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    started = time.perf_counter()
    results = wait_jobs(start_jobs([c[0] for c in cases], no_java_env(job_env)))
    elapsed = time.perf_counter() - started
    for (args, code, needle), result in zip(cases, results, strict=True):
        assert result.rc == code, (args[-4:], result.stderr[-2000:])
        assert needle in result.error, (needle, result.error)
    # Nothing created, nothing deleted, nothing changed.
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert a_file.read_text() == "precious"
    assert (target / "keep.txt").read_text() == "precious" and link.is_symlink()
    assert (foreign / "notes.txt").read_text() == "precious"
    assert (tmp_path / ".squatted.sparklr-partial" / "mine.txt").read_text() == "precious"
    assert json.loads((existing / "model.json").read_text()) == {}
    assert not Path("/proc/sparklr-test").exists()
    print(f"{len(cases)} fail-fast cases in {elapsed:.1f}s")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; covered by /proc case")
def test_output_parent_not_writable(tmp_path, datasets, job_env):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        args = [*data_args(datasets["good"]), *base_args(locked / "model")]
        (result,) = wait_jobs(start_jobs([args], no_java_env(job_env)))
        assert result.rc == OUTPUT and "not writable" in result.error
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


# --------------------------------------------------------------------------- with Spark


def _data_cases(datasets, out: Path):
    d = datasets
    short = ["--set", "train.max_iter=5"]
    # (name, args, exit code, substrings the error must contain)
    return [
        ("missing", data_args(out.parent / "nope"), DATA, [str(out.parent / "nope"), "exist"]),
        ("csv_as_parquet", data_args(d["csv"]), DATA, [str(d["csv"]), "parquet"]),
        ("garbage_dir", data_args(d["garbage_dir"]), DATA, [str(d["garbage_dir"])]),
        ("corrupt_file", data_args(d["corrupt_dir"]), DATA, ["corrupt/part-1.parquet"]),
        ("empty", data_args(d["empty"]), DATA, ["0 rows"]),
        (
            "label_missing",
            data_args(d["good"], "parquet", "--set", "data.label=y"),
            DATA,
            ["'y'", "not found"],
        ),
        (
            "feature_missing",
            data_args(d["good"], "parquet", "--set", 'data.features=["a","zz"]'),
            DATA,
            ["zz", "not found"],
        ),
        (
            "feature_string",
            data_args(d["string_feature"], "parquet", "--set", 'data.features=["a","s"]'),
            DATA,
            ["s (string)", "not numeric"],
        ),
        ("label_string", data_args(d["string_label"]), DATA, ["'label'", "string"]),
        (
            "csv_word",
            data_args(d["csv_word"], "csv", "--set", 'data.features=["a","b"]'),
            DATA,
            ["a (string)", "not numeric"],
        ),
        (  # data.features = []: a number column that one bad cell made a string column
            "csv_word_default",
            data_args(d["csv_word"], "csv"),
            DATA,
            ["column 'a'", "'abc'", "input partition 0 row 11", "data.categorical"],
        ),
        (
            "nonfinite",
            data_args(d["nonfinite"]),
            DATA,
            ["3 row(s)", "NaN", "row 5", "'b' = nan", "data.drop_invalid"],
        ),
        ("null_feature", data_args(d["null"]), DATA, ["1 row(s)", "row 3", "'b' = nan"]),
        (
            "csv_null_label",
            data_args(d["csv_null_label"], "csv"),
            DATA,
            ["1 row(s)", "label = nan"],
        ),
        ("labels_int", data_args(d["labels_int"]), DATA, ["2 value(s) outside {0, 1}", "2.0"]),
        ("labels_half", data_args(d["labels_half"]), DATA, ["1 value(s)", "0.5"]),
        (
            "one_class",
            data_args(d["one_class"]),
            DATA,
            ["only one class (1)", "400 rows", "optimum does not exist"],
        ),
        (
            "diverged",
            data_args(
                d["good"],
                "parquet",
                "--set",
                "train.learning_rate=1000",
                "--set",
                "train.standardize=false",
            ),
            DIVERGED,
            ["diverged at iteration", "learning rate", '"auto"'],
        ),
        # Successes that must stay successes.
        (
            "drop_invalid",
            data_args(d["nonfinite"], "parquet", "--set", "data.drop_invalid=true", *short),
            0,
            [],
        ),
        (
            "empty_partitions",
            data_args(d["tiny"], "parquet", "--set", "data.partitions=24", *short),
            0,
            [],
        ),
        ("separable", data_args(d["separable"], "parquet", "--set", "train.max_iter=60"), 0, []),
        ("converges", data_args(d["good"], "parquet", "--set", "train.max_iter=200"), 0, []),
    ]


@pytest.fixture(scope="module")
def data_results(datasets, job_env, tmp_path_factory):
    root = tmp_path_factory.mktemp("failures")
    cases = _data_cases(datasets, root / "x")
    argv = [[*args, *base_args(root / name)] for name, args, _, _ in cases]
    started = time.perf_counter()
    results = run_batch(argv, job_env)
    print(f"{len(cases)} Spark cases in {time.perf_counter() - started:.1f}s")
    return root, {c[0]: (c, r) for c, r in zip(cases, results, strict=True)}


FAILING = [
    c[0]
    for c in _data_cases(
        {
            k: Path(k)
            for k in [
                "csv",
                "garbage_dir",
                "corrupt_dir",
                "empty",
                "good",
                "string_feature",
                "string_label",
                "csv_word",
                "nonfinite",
                "null",
                "csv_null_label",
                "labels_int",
                "labels_half",
                "one_class",
                "tiny",
                "separable",
            ]
        },
        Path("/x/y"),
    )
    if c[2] != 0
]


@pytest.mark.parametrize("name", FAILING)
def test_bad_data_fails_cleanly(data_results, name):
    root, results = data_results
    (_, _, code, needles), result = results[name]
    assert result.rc == code, result.stderr[-3000:]
    message = result.error
    for needle in needles:
        assert needle in message, (needle, message)
    assert leftovers(root / name) == [], "output or staging left behind"


def test_drop_invalid_drops_and_reports(data_results):
    root, results = data_results
    _, result = results["drop_invalid"]
    assert result.rc == 0, result.stderr[-3000:]
    assert "dropped 3 row(s)" in result.stderr
    assert "dropped: 3 row(s)" in result.stdout
    model = json.loads((root / "drop_invalid" / "model.json").read_text())
    assert model["dropped_rows"] == 3 and model["rows"] == 397
    assert leftovers(root / "drop_invalid") == ["drop_invalid"]


def test_empty_partitions_train(data_results):
    root, results = data_results
    _, result = results["empty_partitions"]
    assert result.rc == 0, result.stderr[-3000:]
    model = json.loads((root / "empty_partitions" / "model.json").read_text())
    assert model["partitions"] == 24 and model["rows"] == 16


def test_separable_data_is_flagged(data_results):
    root, results = data_results
    _, result = results["separable"]
    assert result.rc == 0, result.stderr[-3000:]
    assert "separable" in result.stderr
    model = json.loads((root / "separable" / "model.json").read_text())
    assert model["separation_suspected"] is True
    assert model["training_accuracy"] == 1.0
    # Control: ordinary data converges without the flag.
    _, control = results["converges"]
    assert control.rc == 0, control.stderr[-3000:]
    assert "separable" not in control.stderr
    model = json.loads((root / "converges" / "model.json").read_text())
    assert model["separation_suspected"] is False and model["stop_reason"] == "converged"


def test_unreadable_input_through_spark_submit(datasets, job_env, tmp_path):
    """The corrupt-file case again, through spark-submit: the exit code reaches the shell."""
    out = tmp_path / "model"
    result = run_job([*data_args(datasets["corrupt_dir"]), *base_args(out)], job_env, submit=True)
    assert result.rc == DATA, result.stderr[-3000:]
    assert "corrupt/part-1.parquet" in result.error
    assert leftovers(out) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(datasets, job_env, tmp_path):
    out = tmp_path / "model"
    result = run_batch([[*data_args(datasets["unreadable"]), *base_args(out)]], job_env)[0]
    assert result.rc == DATA and str(datasets["unreadable"]) in result.error
