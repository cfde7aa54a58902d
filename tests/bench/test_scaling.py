"""The scaling series' command line and report (sparklr.bench.scaling), without a cluster."""

import argparse
import json
import math

from sparklr.bench.scaling import (
    Measurement,
    Series,
    _figures,
    fits,
    format_report,
    main,
    parse_args,
    take_points,
)
from sparklr.output import write_json_atomic


def test_defaults_are_the_issue_series_and_quick_is_tiny():
    args = parse_args([])
    assert args.executors == [2, 4, 8]
    assert args.blocks == [2, 4, 8, 16, 32, 64, 128, 256]
    quick = parse_args(["--quick"])
    assert (quick.executors, quick.blocks) == ([2], [2, 4])
    assert max(quick.rows) <= 20_000
    assert parse_args(["--blocks", "3,5"]).blocks == [3, 5]


def test_report_lists_every_point_every_fit_and_the_prediction():
    ms = [
        Measurement(n, p, rows, 10, rows * 88, 0.03 + 0.002 * p + rows * 1e-8, 0.02 + 0.002 * p, n)
        for n in (2, 4)
        for p in (2, 8, 32)
        for rows in (1000, 100_000)
    ]
    fitted = fits(ms, cpus=2)
    assert [len(v) for v in fitted.values()] == [3, 3]
    assert all(m.per_byte == 0.0 for m in fitted["empty"])
    text = format_report(ms, fitted, cpus=2)
    assert len([ln for ln in text.splitlines() if ln.startswith(("  2", "  4"))]) == len(ms)
    assert "  P   " in text and "(best sums fit)" in text.split("  P   ")[-1].splitlines()[0]
    assert "100 executors x 8 cores, 800 blocks" in text
    # the figures are exact for g = P: the residual column is zero on every point
    rows = [ln for ln in text.splitlines() if ln.startswith(("  2", "  4"))]
    assert all(abs(float(ln.split()[-1])) < 1e-4 for ln in rows)


def test_report_says_when_one_executor_count_cannot_tell_the_forms_apart():
    ms = [
        Measurement(2, p, rows, 10, rows * 88, 0.03 + 0.002 * p + rows * 1e-8, 0.02 + 0.001 * p, 2)
        for p in (2, 4, 8)
        for rows in (1000, 100_000)
    ]
    text = format_report(ms, fits(ms, cpus=2), cpus=2)
    assert "cannot tell them apart" in text


def _measurement(n: int, p: int, rows: int) -> Measurement:
    return Measurement(n, p, rows, 10, rows * 88, 0.03 + 0.002 * p + rows * 1e-8, 0.02, n)


def test_take_points_goes_p_outer_saves_each_and_skips_after_the_deadline():
    args = argparse.Namespace(blocks=[2, 8], rows=[1000, 5000])
    series, saves = Series([], [], [], []), []
    take_points(4, args, series, math.inf, lambda: saves.append(len(series.measurements)),
                lambda rows, blocks: _measurement(4, blocks, rows))  # fmt: skip
    assert [(m.blocks, m.rows) for m in series.measurements] == [
        (2, 1000), (2, 5000), (8, 1000), (8, 5000)
    ]  # fmt: skip
    assert saves == [1, 2, 3, 4] and series.skipped == []
    late = Series([], [], [], [])
    take_points(8, args, late, -math.inf, lambda: None, lambda rows, blocks: 1 / 0)
    assert late.measurements == []
    assert late.skipped == [(8, 2, 1000), (8, 2, 5000), (8, 8, 1000), (8, 8, 5000)]


def test_json_of_a_series_cut_short_has_no_fit_and_refit_reports_a_saved_one(tmp_path, capsys):
    one = Series([_measurement(2, 2, 1000)], [(2, 4, 1000)], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0])
    assert "fits" not in _figures(one, cpus=2) and _figures(one, 2)["skipped"] == [(2, 4, 1000)]
    ms = [_measurement(n, p, r) for n in (2, 4) for p in (2, 8, 32) for r in (1000, 100_000)]
    path = tmp_path / "scaling.json"
    write_json_atomic(path, _figures(Series(ms, [], [0.5] * 3, [0.7] * 3), cpus=2))
    saved = json.loads(path.read_text())
    assert saved["loadavg_start"] == [0.5] * 3 and len(saved["measurements"]) == len(ms)
    assert main(["--refit", str(path)]) == 0
    assert capsys.readouterr().out.strip() == format_report(ms, fits(ms, 2), 2)
