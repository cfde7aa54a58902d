"""The sparse benchmark's command line (sparklr.bench.sparse), without Spark."""

from sparklr.bench.sparse import QUICK, parse_args, shape_of
from sparklr.bench.sparse_data import SparseShape


def test_defaults_are_the_issue_shape():
    args = parse_args([])
    assert shape_of(args) == SparseShape()
    assert (args.rows, args.features, args.nnz) == (2_000_000, 1 << 20, 30.0)
    assert (args.reg_param, args.sparklr_input) == (1e-4, "vector")


def test_quick_overrides_the_sizes_only():
    args = parse_args(["--quick", "--sparklr-input", "columns", "--seed", "9"])
    assert all(getattr(args, key) == value for key, value in QUICK.items())
    assert args.sparklr_input == "columns" and shape_of(args).seed == 9
