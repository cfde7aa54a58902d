"""The reduce of one pass: per-block results combined on the executors in the fixed tree of
:mod:`sparklr.kernels.tree`, so the driver receives O(k · n_x) numbers, not O(P · n_x).

A pass's tasks yield (result or None on a miss, :class:`~sparklr.spark.iteration.TaskReport`)
per block. Each partition folds its own into one :class:`Partial` (index = its partition).
A tree level keys every partial by its group j = index // k and shuffles it to partition j
(``partitionBy`` with the identity), where the group's k children are added in index order as
they become contiguous (pieces arrive in any order; a child that arrives early waits, so a
group task holds at most k partials). The levels run while more than k partials remain; the
driver collects the last ≤ k and folds them (:func:`~sparklr.kernels.tree.combine_in_tree`,
which also does every level itself when the tree is skipped). Same P and depth, same tree:
bit-identical sums whatever the timing and whether the levels ran here or there.

A result of None (a block whose files are gone) makes every partial above it None; the
reports of all blocks travel up with the partials, in partition order, so the driver still
sees every block's report and repairs the misses.

Every partial the driver receives comes as one payload pickled by PySpark's own serializer (the
one ``collect`` uses: the driver reads its own tasks' results, as always), so that
:class:`Received` can count their number and bytes (the instrumentation of
``BlockSet.last_received``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from pyspark import RDD
from pyspark.serializers import CPickleSerializer

from sparklr.kernels.tree import combine_in_tree, fold


@dataclass(frozen=True)
class Partial:
    """The combined result of a run of blocks (None when one of them missed) and their
    reports, in partition order; ``index`` is its position at its tree level."""

    index: int
    value: object | None
    reports: tuple


@dataclass(frozen=True)
class Received:
    """What the driver received for one pass: the number of partials and their pickled bytes."""

    parts: int
    bytes: int


def reduce_pass(
    results: RDD, partitions: int, k: int, add: Callable, *, tree: bool
) -> tuple[object | None, list, Received]:
    """(the combined result or None after a miss, the reports in partition order, what the
    driver received) of ``results``, an RDD of (result or None, report) per block over
    ``partitions`` partitions, in the fan-in ``k`` tree; its levels run on the executors when
    ``tree``, else all on the driver."""
    partials = results.mapPartitionsWithIndex(partial(_leaf, add=add))
    count = partitions
    while tree and count > k:
        count = -(-count // k)
        partials = (
            partials.map(partial(_keyed, k=k))
            .partitionBy(count, _identity)
            .mapPartitionsWithIndex(partial(_combine_group, k=k, add=add))
        )
    payloads = partials.map(_dumps).collect()
    received = Received(len(payloads), sum(len(p) for p in payloads))
    level = sorted((_SERIALIZER.loads(p) for p in payloads), key=lambda p: p.index)
    reports = [r for p in level for r in p.reports]
    value = combine_in_tree([p.value for p in level], k, _add_or_none(add))
    return value, reports, received


def _leaf(index: int, items: Iterator[tuple], add: Callable) -> list[Partial]:
    results, reports = [], []
    for result, report in items:
        results.append(result)
        reports.append(report)
    return [Partial(index, fold(results, _add_or_none(add)), tuple(reports))]


def _keyed(p: Partial, k: int) -> tuple[int, Partial]:
    return p.index // k, p


def _identity(key: int) -> int:
    return key


def _combine_group(group: int, items: Iterator[tuple[int, Partial]], k: int, add: Callable):
    """Task of one tree level: group ``group``'s children added in index order."""
    add = _add_or_none(add)
    waiting: dict[int, Partial] = {}
    expected = group * k
    value, reports = None, []
    for _, child in items:
        waiting[child.index] = child
        while expected in waiting:
            ready = waiting.pop(expected)
            value = ready.value if expected == group * k else add(value, ready.value)
            reports.extend(ready.reports)
            expected += 1
    if waiting:
        raise RuntimeError(f"tree group {group}: children {sorted(waiting)} out of sequence")
    return [Partial(group, value, tuple(reports))]


def _add_or_none(add: Callable) -> Callable:
    return lambda a, b: None if a is None or b is None else add(a, b)


_SERIALIZER = CPickleSerializer()


def _dumps(p: Partial) -> bytes:
    return _SERIALIZER.dumps(p)
