"""The job-level benchmark's pieces that run without a job (sparklr.bench.job)."""

import pyarrow.parquet as pq
from sparklr.bench.job import numpy_step_seconds, parse_args, write_data


def test_data_are_written_once_into_the_asked_number_of_files(tmp_path):
    path = tmp_path / "d.parquet"
    write_data(path, rows=1000, features=3, files=4)
    files = sorted(path.iterdir())
    assert len(files) == 4
    table = pq.read_table(path)
    assert table.num_rows == 1000 and table.column_names == ["x0", "x1", "x2", "label"]
    assert set(table.column("label").to_pylist()) == {0, 1}
    stamp = files[0].stat().st_mtime_ns
    write_data(path, rows=1000, features=3, files=4)
    assert files[0].stat().st_mtime_ns == stamp  # reused, not rewritten
    assert numpy_step_seconds(path) > 0


def test_defaults_are_the_issue_measurement():
    args = parse_args([])
    assert (args.rows, args.features, args.files) == (2_000_000, 50, 4)
    assert (args.short, args.long, args.master) == (5, 45, "local[2]")
