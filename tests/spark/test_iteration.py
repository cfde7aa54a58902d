"""The task of one evaluation (sparklr.spark.iteration), in this process, on blocks built here."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest
from sparklr.kernels.dense import block_sums
from sparklr.spark import blockfiles, iteration
from sparklr.spark.build import BuildSpec, build_block
from sparklr.spark.dense import DenseBlock
from sparklr.spark.iteration import FAULT_ENV, SumsParams, partition_sums

from tests.conftest import make_logistic_data

NAMES = ("a", "b")


@pytest.fixture(autouse=True)
def local_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARK_LOCAL_DIRS", str(tmp_path))
    monkeypatch.delenv(FAULT_ENV, raising=False)
    monkeypatch.setattr(blockfiles, "_OPEN", {})


def build(pid, X, y, v=None):
    columns = {"label": y, "a": X[:, 0], "b": X[:, 1], **({} if v is None else {"wt": v})}
    batch = pa.record_batch({k: pa.array(c, type=pa.float64()) for k, c in columns.items()})
    spec = BuildSpec("ds", NAMES, DenseBlock(), weight="" if v is None else "wt")
    return build_block(pid, [batch], len(y), spec)


def params(w, b, hessian=False, class_weight=None):
    return SumsParams(w, b, hessian, 1, class_weight, DenseBlock(), len(NAMES))


def test_a_block_is_summed_by_its_kernel_and_reported():
    X, y, w, b = make_logistic_data(40, 2, seed=1)
    v = np.linspace(0.1, 2.0, 40)
    meta = build(7, X, y, v)
    ((sums, report),) = partition_sums(7, iter([meta.to_row()]), params(w, b, True, (1.0, 3.0)))
    ref = block_sums(X, y, w, b, v, hessian=True, class_weight=(1.0, 3.0))
    assert sums.loss == ref.loss and sums.weight_sum == ref.weight_sum
    np.testing.assert_array_equal(sums.hess_ww, ref.hess_ww)
    assert (report.partition, report.pid, report.host) == (7, os.getpid(), os.uname().nodename)
    assert report.opened and not report.missed
    assert 0 <= report.kernel_seconds <= report.seconds
    ((_, again),) = partition_sums(7, iter([meta.to_row()]), params(w, b))
    assert not again.opened  # mapped once per worker


def test_an_empty_block_gives_zeros_without_files():
    meta = build(0, np.empty((0, 2)), np.empty(0))
    zeros = params(np.ones(2), 0.0, hessian=True)
    ((sums, report),) = partition_sums(0, iter([meta.to_row()]), zeros)
    assert sums.rows == 0 and sums.has_hessian and not report.opened and not report.missed


@pytest.mark.parametrize("name", ["X", "y", "v"])
def test_missing_files_are_a_miss(name):
    X, y, w, b = make_logistic_data(10, 2, seed=2)
    meta = build(3, X, y, np.ones(10))
    os.remove(f"{meta.path}.{name}.npy")
    ((sums, report),) = partition_sums(3, iter([meta.to_row()]), params(w, b))
    assert sums is None and report.missed and not report.opened


def test_fault_injection_fails_the_chosen_task_once(monkeypatch):
    class Attempt:
        def __init__(self, number):
            self.number = number

        def attemptNumber(self):
            return self.number

    monkeypatch.setenv(FAULT_ENV, "3:1")
    monkeypatch.setattr(iteration.TaskContext, "get", staticmethod(lambda: Attempt(0)))
    with pytest.raises(RuntimeError, match=r"injected fault \(evaluation 3, partition 1\)"):
        iteration._maybe_inject_fault(3, 1)
    iteration._maybe_inject_fault(3, 0)  # another partition
    iteration._maybe_inject_fault(2, 1)  # another evaluation
    monkeypatch.setattr(iteration.TaskContext, "get", staticmethod(lambda: Attempt(1)))
    iteration._maybe_inject_fault(3, 1)  # the retry succeeds
