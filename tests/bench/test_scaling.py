"""The scaling series' command line and report (sparklr.bench.scaling), without a cluster."""

from sparklr.bench.scaling import Measurement, fits, format_report, parse_args


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
    assert "prediction (P, the best sums fit)" in text  # the figures were made with g = P
    assert "100 executors x 8 cores, 800 blocks" in text


def test_report_says_when_one_executor_count_cannot_tell_the_forms_apart():
    ms = [
        Measurement(2, p, rows, 10, rows * 88, 0.03 + 0.002 * p + rows * 1e-8, 0.02 + 0.001 * p, 2)
        for p in (2, 4, 8)
        for rows in (1000, 100_000)
    ]
    text = format_report(ms, fits(ms, cpus=2), cpus=2)
    assert "cannot tell them apart" in text
