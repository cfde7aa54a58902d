"""The fixed combine tree (sparklr.kernels.tree): its fan-in and its order of additions."""

from __future__ import annotations

import numpy as np
import pytest
from sparklr.kernels.tree import combine_in_tree, fan_in, fold


@pytest.mark.parametrize(
    ("parts", "depth", "k"),
    [
        (1, 2, 2),
        (2, 2, 2),
        (7, 2, 3),
        (9, 2, 3),
        (10, 2, 4),
        (32, 2, 6),
        (1000, 2, 32),
        (1000, 3, 10),
        (7, 1, 7),
        (1, 1, 2),
    ],
)
def test_fan_in_is_the_least_k_with_k_to_the_depth_covering_p(parts, depth, k):
    assert fan_in(parts, depth) == k
    assert k**depth >= parts and (k == 2 or (k - 1) ** depth < parts)


def test_fan_in_refuses_depth_zero():
    with pytest.raises(ValueError, match="≥ 1"):
        fan_in(4, 0)


def test_fold_adds_left_to_right():
    assert fold(["a", "b", "c"], lambda x, y: f"({x}+{y})") == "((a+b)+c)"


def test_tree_groups_contiguous_runs_of_k_then_folds_the_rest():
    parts = [str(i) for i in range(7)]
    show = lambda x, y: f"({x}+{y})"  # noqa: E731
    assert combine_in_tree(parts, 3, show) == "((((0+1)+2)+((3+4)+5))+6)"
    assert combine_in_tree(parts, 7, show) == fold(parts, show)
    # two levels with k = 3: 10 parts → 4 groups → 2 (the first three and the last) → folded
    ten = [str(i) for i in range(10)]
    assert combine_in_tree(ten, 3, show) == "(((((0+1)+2)+((3+4)+5))+((6+7)+8))+9)"


def test_tree_sum_differs_from_the_flat_sum_only_by_rounding():
    values = list(np.random.default_rng(0).standard_normal((50, 3)) * 1e8)
    tree, flat = combine_in_tree(values, 4, np.add), fold(values, np.add)
    np.testing.assert_allclose(tree, flat, rtol=1e-12)
