"""Several fits in lockstep: every pass over the data serves all of them (NumPy only).

K' models j = 0 … K'−1 (the K fold models and the full-data one) are fitted at the same time,
each by the unchanged optimizer, in its own thread, on its own
:class:`~sparklr.objective.LogisticObjective` whose source is :meth:`Lockstep.source_of` (j).
That source's ``sums(w, b)`` does not run a pass: it hands (w_j, b_j) to the batcher and
waits. When every model still running has handed in a request, the calling thread
(:meth:`Lockstep.run`) makes ONE multi-model pass (``source.multi_sums``, see
:mod:`sparklr.kernels.multi`) with W = [w_0 … w_{K'−1}] — always all K' columns, in model
order, zeros for a model not asking — and gives each model its column. So

* a pass costs one read of the data for up to K' evaluations;
* which models share a pass depends only on their own sequences of requests, never on
  timing, and column j's sums do not depend on the other columns (same shape, same column:
  bit-identical), so every model's fit is bit-identical run to run, alone or in company;
* a pass carries every model's Hessian pieces when any request in it asks for them (all of
  Newton's do; the Fisher curvature, as the single-model kernels') — the other sums of a
  column are the same with or without them;
* a model asking again at the point of its latest evaluation (the next λ's warm start, whose
  data sums are those at the previous optimum) is answered from that evaluation, no pass — a
  request for the Hessian only from an evaluation that had it;
* an exception in one fit stops the others at their next request and is raised (the lowest
  model's first); a failed pass is raised likewise; every thread is joined before returning.

The held-out log-loss of fold k_j at the latest point of model j comes with its sums
(:meth:`held_out`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from sparklr.kernels import FISHER, BlockSums
from sparklr.kernels.multi import ALL_ROWS, MultiSums


class MultiSource(Protocol):
    """Data that sums K' models in one pass (:meth:`sparklr.spark.blockset.BlockSet.multi_sums`)."""

    n_features: int

    def multi_sums(
        self, W: np.ndarray, B: np.ndarray, folds: np.ndarray, *, class_weight=None, hessian=False
    ) -> MultiSums: ...


class _Aborted(Exception):
    """Raised in a waiting fit when another fit or the pass failed."""


class ModelSource:
    """The :class:`~sparklr.objective.SumsSource` of model ``model`` inside a lockstep."""

    def __init__(self, lockstep: Lockstep, model: int):
        self.lockstep = lockstep
        self.model = model
        self.n_features = lockstep.source.n_features
        gram = getattr(lockstep.source, "gram_matvec", None)
        if gram is not None and lockstep.folds[model] == ALL_ROWS:
            self.gram_matvec = gram  # the full data's α = 1/L, as outside a lockstep

    def sums(
        self,
        w: np.ndarray,
        b: float,
        *,
        hessian: bool = False,
        class_weight: tuple[float, float] | None = None,
        curvature: str = FISHER,
    ) -> BlockSums:
        if hessian and curvature != FISHER:
            raise ValueError(f"a lockstep pass sums the {FISHER} curvature only, not {curvature}")
        if class_weight != self.lockstep.class_weight:
            raise ValueError("every model of a lockstep must share its class weight")
        w = np.asarray(w, dtype=np.float64)
        return self.lockstep.submit(self.model, w, float(b), hessian=hessian)


class Lockstep:
    """The batcher of the module docstring over ``source``, one model per entry of ``folds``
    (a fold k, or :data:`~sparklr.kernels.multi.ALL_ROWS`)."""

    def __init__(
        self,
        source: MultiSource,
        folds: Sequence[int],
        class_weight: tuple[float, float] | None = None,
    ):
        self.source = source
        self.folds = np.asarray(folds, dtype=np.int64)
        self.class_weight = class_weight
        #: Multi-model passes made so far.
        self.passes = 0
        self._cond = threading.Condition()
        #: Per model waiting: (w, b, whether it asks for the Hessian).
        self._requests: dict[int, tuple[np.ndarray, float, bool]] = {}
        self._answers: dict[int, BlockSums] = {}
        self._running: set[int] = set()
        self._failed = False
        #: Per model: (its latest point, its sums there, (held-out Σ L, rows) there).
        self._latest: dict[int, tuple[bytes, BlockSums, tuple[float, int]]] = {}

    def source_of(self, model: int) -> ModelSource:
        return ModelSource(self, model)

    def held_out(self, model: int, w: np.ndarray, b: float) -> tuple[float, int] | None:
        """(Σ L, rows) over fold k_model's held-out rows at (w, b) when (w, b) is the model's
        latest evaluated point, else None."""
        latest = self._latest.get(model)
        return latest[2] if latest and latest[0] == _key(w, b) else None

    # ------------------------------------------------------------ the fits' side
    def submit(self, model: int, w: np.ndarray, b: float, *, hessian: bool = False) -> BlockSums:
        """Model ``model``'s sums at (w, b), with the Hessian pieces when ``hessian``, from the
        next pass (or its latest evaluation, when that had what is asked)."""
        with self._cond:
            latest = self._latest.get(model)
            if latest and latest[0] == _key(w, b) and (latest[1].has_hessian or not hessian):
                return latest[1]
            self._requests[model] = (w, b, hessian)
            self._cond.notify_all()
            while model not in self._answers and not self._failed:
                self._cond.wait()
            if model not in self._answers:
                raise _Aborted
            return self._answers.pop(model)

    # ------------------------------------------------------------ the batcher's side
    def run(self, jobs: Sequence[Callable[[], Any] | None]) -> list[Any]:
        """Run ``jobs[j]()`` (model j's fit; None = not this round) in lockstep; their
        results in model order (None for a model not run)."""
        results: list[Any] = [None] * len(jobs)
        errors: dict[int, BaseException] = {}
        self._failed = False
        self._running = {j for j, job in enumerate(jobs) if job is not None}

        def body(j: int, job: Callable[[], Any]) -> None:
            try:
                results[j] = job()
            except _Aborted:
                pass
            except BaseException as exc:  # raised below, after every thread is joined
                errors[j] = exc
                self._failed = True
            finally:
                with self._cond:
                    self._running.discard(j)
                    self._cond.notify_all()

        threads = [
            threading.Thread(target=body, args=(j, job), name=f"lockstep-{j}", daemon=True)
            for j, job in enumerate(jobs)
            if job is not None
        ]
        for thread in threads:
            thread.start()
        try:
            self._serve()
        except BaseException as exc:
            errors[len(jobs)] = exc
            with self._cond:
                self._failed = True
                self._cond.notify_all()
        for thread in threads:
            thread.join()
        self._requests.clear()
        self._answers.clear()
        if errors:
            raise errors[min(errors)]
        return results

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._failed and not self._running <= self._requests.keys():
                    self._cond.wait()
                if self._failed or not self._running:
                    return
                batch = dict(sorted(self._requests.items()))
                self._requests.clear()
            answers = self._pass(batch)
            with self._cond:
                self._answers.update(answers)
                self._cond.notify_all()

    def _pass(self, batch: dict[int, tuple[np.ndarray, float, bool]]) -> dict[int, BlockSums]:
        """One multi-model pass for the requests in ``batch`` (always K' columns), with the
        Hessian pieces when any request asks."""
        models = len(self.folds)
        W = np.zeros((self.source.n_features, models))
        B = np.zeros(models)
        for j, (w, b, _) in batch.items():
            W[:, j], B[j] = w, b
        hessian = any(asks for _, _, asks in batch.values())
        sums = self.source.multi_sums(
            W, B, self.folds, class_weight=self.class_weight, hessian=hessian
        )
        self.passes += 1
        answers = {}
        for j, (w, b, _) in batch.items():
            answers[j] = sums.model(j)
            held = (float(sums.held_loss[j]), int(sums.held_rows[j]))
            self._latest[j] = (_key(w, b), answers[j], held)
        return answers


def _key(w: np.ndarray, b: float) -> bytes:
    """The exact point (bit patterns of w and b)."""
    return np.asarray(w, dtype=np.float64).tobytes() + np.float64(b).tobytes()
