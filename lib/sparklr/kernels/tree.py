"""The fixed tree in which per-block results are combined (no Spark: the order alone).

P per-block results r_0 … r_{P−1} (:class:`~sparklr.kernels.BlockSums` or
:class:`~sparklr.kernels.ScoreSummary`) are combined in a tree of fan-in k fixed by P and the
depth d (MLlib's ``aggregationDepth``)::

    k = max(2, the least integer with k^d ≥ P)
    level:  r'_j = ((r_{jk} + r_{jk+1}) + …) + r_{jk+k−1}     for j = 0 … ⌈P/k⌉ − 1
    repeat the level while more than k results remain; then fold the last ≤ k left to right.

Each group is a contiguous run of indices added left to right, so the result depends on P and
d only: wherever a level is computed (on the executors, :mod:`sparklr.spark.treereduce`, or
here on the driver), and in whatever order the pieces arrive, the sum is bit-identical. The
driver receives at most k = ⌈P^(1/d)⌉ results when the levels run on the executors; d = 1 is
the flat left-to-right sum of all P.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def fan_in(parts: int, depth: int) -> int:
    """k = max(2, min{k : k^depth ≥ parts}) (exact integer arithmetic)."""
    if depth < 1:
        raise ValueError(f"the aggregation depth must be ≥ 1, got {depth}")
    k = 2
    while k**depth < parts:
        k += 1
    return k


def fold(parts: Sequence[T], add: Callable[[T, T], T]) -> T:
    """((p_0 + p_1) + p_2) + …: the combine of one group (at least one part)."""
    total = parts[0]
    for part in parts[1:]:
        total = add(total, part)
    return total


def combine_in_tree(parts: Sequence[T], k: int, add: Callable[[T, T], T]) -> T:
    """The tree of fan-in ``k`` over ``parts`` (module docstring); at least one part."""
    level = list(parts)
    while len(level) > k:
        level = [fold(level[i : i + k], add) for i in range(0, len(level), k)]
    return fold(level, add)
