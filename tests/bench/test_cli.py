"""The benchmark's command line: flags become Settings; bad values name the flag."""

from __future__ import annotations

import pytest
from sparklr.bench.cli import Settings, parse_args
from sparklr.errors import ConfigError


def test_benchmark_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="--rows"):
        parse_args(["--rows", "0"])


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--load-repeats", "0"], "--load-repeats"),
        (["--mllib-iterations", "0"], "--mllib-iterations"),
        (["--warmup", "-1"], "--warmup"),
        (["--dtype", "float16"], "bad command line"),
    ],
)
def test_each_bad_value_names_its_flag(argv, flag):
    with pytest.raises(ConfigError, match=flag):
        parse_args(argv)


def test_flags_become_settings_with_the_documented_defaults():
    settings = parse_args(["--skip-mllib", "--load-repeats", "2", "--tiny-rows", "50"])
    assert settings == Settings(skip_mllib=True, load_repeats=2, tiny_rows=50)
    # README: medians of 15 iterations after 3 warm-up, three loads of each, maxIter 10
    defaults = parse_args([])
    assert (defaults.iterations, defaults.warmup) == (15, 3)
    assert (defaults.load_repeats, defaults.mllib_iterations) == (3, 10)
    assert (defaults.rows, defaults.features, defaults.source) == (2_000_000, 50, "parquet")
