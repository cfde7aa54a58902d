"""NumPy kernels: the partial sums of the logistic loss and its derivatives over one block.

Notation (the seed's). A block holds m_p samples x⁽ⁱ⁾ with labels y_i ∈ {0, 1} and optional
sample weights v_i (1 when absent). For parameters (w, b)::

    z = wᵀx + b              a = σ(z) = 1 / (1 + e^(−z))            r = a − y
    L(z, y) = log(1 + e^z) − y z  = −(y ln a + (1 − y) ln(1 − a))

``L`` is evaluated as softplus(z) − y z with softplus(z) = max(z, 0) + log1p(e^(−|z|)), which
never forms ln(σ(z)) and neither overflows nor loses digits for any finite z.

Every block type's kernel (one module each: :mod:`sparklr.kernels.dense`) returns the block's
partial sums as :class:`BlockSums` (float64, whatever the storage dtype)::

    loss       = Σ v_i L(z_i, y_i)      grad_w = Σ v_i r_i x⁽ⁱ⁾   (= X(A−Y)ᵀ in the seed's layout)
    weight_sum = Σ v_i                  grad_b = Σ v_i r_i        (= Σ(A−Y))
    rows       = m_p                    correct = Σ v_i [1(z_i ≥ 0) = y_i]  (accuracy at ½)

and, when asked (``hessian``), the pieces of a curvature sum Σ v_i d_i [x⁽ⁱ⁾; 1][x⁽ⁱ⁾; 1]ᵀ::

    hess_ww = Σ v_i d_i x⁽ⁱ⁾ x⁽ⁱ⁾ᵀ       hess_wb = Σ v_i d_i x⁽ⁱ⁾       hess_bb = Σ v_i d_i

with d_i = a_i (1 − a_i) for ``curvature = FISHER`` (the Hessian of Σ v L: the information
matrix) or d_i = r_i² for ``curvature = ROBUST`` (the "meat" of the HC0 sandwich estimator; the
weight enters once: sample weights are frequency weights, v copies of a sample).

With ``class_weight`` = (c₀, c₁) every v_i is further multiplied by c_{y_i}
(``train.class_weight = "balanced"``). Dividing by m = Σ weight_sum gives J = (1/m) Σ v L,
∂J/∂w = (1/m) X(A−Y)ᵀ and ∂J/∂b (see :mod:`sparklr.objective`). Sums of blocks add
(:func:`sum_in_order`), so this package knows nothing of where the blocks live: no Spark.

Scoring (the model's metrics, unweighted per row, at raw (w, b)): every kernel also returns a
block's :class:`ScoreSummary` -- Σ L, rows, correct = Σ 1(z_i ≥ 0) = y_i, positives = Σ y_i,
the plot histogram of p = σ(z) in :data:`HISTOGRAM_BINS` bins ⌊p B⌋ (p = 1 in the last bin;
per bin rows, positives and Σ p) and the AUC tally (:class:`AucTally`). Summaries of blocks
merge (:func:`merge_scores`); the driver computes the AUC from the merged tally.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

#: The curvature sums a kernel can return in the hess_* fields (see the module docstring).
FISHER = "fisher"
ROBUST = "robust"
CURVATURES = (FISHER, ROBUST)


@dataclass
class BlockSums:
    """Partial sums of one or more blocks (see module docstring); add them to combine blocks."""

    loss: float
    grad_w: np.ndarray
    grad_b: float
    #: Σ v_i: the (sample × class) weight of the rows summed, m_p without weights.
    weight_sum: float
    rows: int
    correct: float = 0.0
    hess_ww: np.ndarray | None = field(default=None)
    hess_wb: np.ndarray | None = field(default=None)
    hess_bb: float | None = field(default=None)

    @classmethod
    def zeros(cls, n_features: int, hessian: bool = False) -> BlockSums:
        return cls(
            loss=0.0,
            grad_w=np.zeros(n_features),
            grad_b=0.0,
            weight_sum=0.0,
            rows=0,
            hess_ww=np.zeros((n_features, n_features)) if hessian else None,
            hess_wb=np.zeros(n_features) if hessian else None,
            hess_bb=0.0 if hessian else None,
        )

    @property
    def has_hessian(self) -> bool:
        return self.hess_ww is not None

    def __add__(self, other: BlockSums) -> BlockSums:
        both = self.has_hessian and other.has_hessian
        return BlockSums(
            loss=self.loss + other.loss,
            grad_w=self.grad_w + other.grad_w,
            grad_b=self.grad_b + other.grad_b,
            weight_sum=self.weight_sum + other.weight_sum,
            rows=self.rows + other.rows,
            correct=self.correct + other.correct,
            hess_ww=self.hess_ww + other.hess_ww if both else None,
            hess_wb=self.hess_wb + other.hess_wb if both else None,
            hess_bb=self.hess_bb + other.hess_bb if both else None,
        )


def sum_in_order(parts: list[BlockSums], n_features: int, hessian: bool = False) -> BlockSums:
    """Add partial sums left to right, so that the result does not depend on arrival order."""
    total = BlockSums.zeros(n_features, hessian)
    for part in parts:
        total = total + part
    return total


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z), stable for every finite z."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)) without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_and_softplus(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """σ(z) and softplus(z) from a single exponential."""
    z = np.asarray(z)
    dtype = z.dtype if z.dtype.kind == "f" else np.float64
    a, s, scratch = (np.empty(z.shape, dtype) for _ in range(3))
    sigmoid_and_softplus_into(z, a, s, scratch)
    return a, s


def sigmoid_and_softplus_into(
    z: np.ndarray, a: np.ndarray, s: np.ndarray, scratch: np.ndarray
) -> None:
    """σ(z) into ``a`` and softplus(z) into ``s`` (arrays of z's shape; ``scratch`` is
    overwritten): with e = e^(−|z|), σ(z) = max(e, [z ≥ 0]) / (1 + e) — 1/(1 + e) for z ≥ 0,
    e/(1 + e) below, as e ≤ 1 — and softplus(z) = max(z, 0) + log1p(e). No temporaries of
    z's size: kernels that loop over chunks pass the same buffers every time (fresh
    chunk-sized arrays cost more in page faults than this arithmetic)."""
    np.abs(z, out=scratch)
    np.negative(scratch, out=scratch)
    np.exp(scratch, out=scratch)
    np.log1p(scratch, out=s)
    np.maximum(scratch, z >= 0, out=a)
    scratch += 1.0
    a /= scratch
    np.maximum(z, 0.0, out=scratch)
    s += scratch


def row_weights(
    y: np.ndarray, sample_weight: np.ndarray | None, class_weight: tuple[float, float] | None
) -> np.ndarray | None:
    """v_i c_{y_i}: the sample weight times the row's class weight (None when both are absent,
    every row weighing 1)."""
    if class_weight is None:
        return sample_weight
    c = np.where(y == 1, class_weight[1], class_weight[0])
    return c if sample_weight is None else c * sample_weight


def log_loss_terms(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample loss L(z, y) = softplus(z) − y z."""
    return softplus(z) - y * z


#: Bins of the probability histogram the report's ROC and calibration plots are drawn from.
HISTOGRAM_BINS = 1000
#: Bins of the AUC tally: its error bound is ~1/(4 AUC_BINS) · (density overlap), measured
#: ≤ 3.4e-6 on 200k-row synthetic data and 0 on the breast-cancer data; a block sends at most
#: min(m_p, AUC_BINS) of them. Data of at most this many rows are tallied exactly instead.
AUC_BINS = 1 << 16


@dataclass
class AucTally:
    """Rows and positives per score key, keys ascending and unique.

    A key is the bin index ⌊p · AUC_BINS⌋ (``exact`` False) or the probability p itself
    (``exact`` True). Pairs in different keys are ordered; pairs in one key count ½: the exact
    AUC's rule for ties when keys are probabilities, an approximation within
    :meth:`auc`'s bound when they are bins.
    """

    keys: np.ndarray
    count: np.ndarray
    positives: np.ndarray
    exact: bool = True

    @classmethod
    def of(cls, keys: np.ndarray, y: np.ndarray, exact: bool) -> AucTally:
        """The tally of one block's keys and labels y ∈ {0, 1}."""
        unique, inverse = np.unique(keys, return_inverse=True)
        count = np.bincount(inverse, minlength=len(unique)).astype(np.int64)
        positives = np.bincount(inverse[y == 1], minlength=len(unique)).astype(np.int64)
        return cls(unique, count, positives, exact)

    @classmethod
    def of_bins(cls, bins: np.ndarray, y: np.ndarray) -> AucTally:
        """The tally of bin indices in [0, AUC_BINS): a bincount, no sort."""
        count = np.bincount(bins, minlength=AUC_BINS)
        positives = np.bincount(bins[y == 1], minlength=AUC_BINS)
        keys = np.flatnonzero(count)
        return cls(keys.astype(np.float64), count[keys], positives[keys], exact=False)

    def auc(self) -> tuple[float | None, float | None]:
        """(AUC, bound) with P = Σ pos, N = Σ neg, over keys b ascending::

            AUC   = Σ_b neg_b (Σ_{b' > b} pos_b' + pos_b / 2) / (P N)  (trapezoid over keys)
            bound = Σ_b pos_b neg_b / (2 P N)                          (0 when ``exact``)

        The bound is the most the order within the keys can change the AUC. (None, None)
        with one class (the AUC is undefined)."""
        pos = self.positives.astype(np.float64)
        neg = self.count.astype(np.float64) - pos
        P, N = float(pos.sum()), float(neg.sum())
        if P == 0 or N == 0:
            return None, None
        above = P - np.cumsum(pos)
        ties = float(neg @ pos)
        auc = (float(neg @ above) + 0.5 * ties) / (P * N)
        return auc, 0.0 if self.exact else 0.5 * ties / (P * N)


@dataclass
class ScoreSummary:
    """What scoring one or more blocks at (w, b) gives (module docstring); merge with
    :func:`merge_scores`."""

    rows: int
    loss: float
    correct: int
    positives: int
    #: The plot histogram (length HISTOGRAM_BINS): rows, positives, Σ p per bin.
    count: np.ndarray
    bin_positives: np.ndarray
    sum_probability: np.ndarray
    tally: AucTally

    @classmethod
    def zeros(cls) -> ScoreSummary:
        empty = np.zeros(0, dtype=np.int64)
        return cls(
            rows=0,
            loss=0.0,
            correct=0,
            positives=0,
            count=np.zeros(HISTOGRAM_BINS, dtype=np.int64),
            bin_positives=np.zeros(HISTOGRAM_BINS, dtype=np.int64),
            sum_probability=np.zeros(HISTOGRAM_BINS),
            tally=AucTally(np.zeros(0), empty, empty),
        )

    @classmethod
    def of_margins(cls, z: np.ndarray, y: np.ndarray, *, exact_auc: bool) -> ScoreSummary:
        """The summary of rows with margins z = wᵀx + b and labels y, all at once (the CSR
        kernel's; the dense kernel builds the same fields chunk by chunk)."""
        p, softplus = sigmoid_and_softplus(z)
        coarse = probability_bins(p, HISTOGRAM_BINS)
        positive = y == 1
        keys = p if exact_auc else probability_bins(p, AUC_BINS)
        return cls(
            rows=len(z),
            loss=float((softplus - y * z).sum()),
            correct=int(np.count_nonzero((z >= 0) == positive)),
            positives=int(np.count_nonzero(positive)),
            count=np.bincount(coarse, minlength=HISTOGRAM_BINS),
            bin_positives=np.bincount(coarse[positive], minlength=HISTOGRAM_BINS),
            sum_probability=np.bincount(coarse, weights=p, minlength=HISTOGRAM_BINS),
            tally=AucTally.of(keys, y, exact=True) if exact_auc else AucTally.of_bins(keys, y),
        )

    def metrics(self) -> dict:
        """rows, log_loss = Σ L / rows, accuracy (at ½), auc, auc_error_bound, positives;
        None for what is undefined (no rows; AUC with one class)."""
        auc, bound = self.tally.auc()
        return {
            "rows": self.rows,
            "log_loss": self.loss / self.rows if self.rows else None,
            "accuracy": self.correct / self.rows if self.rows else None,
            "auc": auc,
            "auc_error_bound": bound,
            "positives": self.positives,
        }

    def histogram(self) -> dict[str, list]:
        """The plot histogram as the report takes it: bins, count, positives, sum_probability."""
        return {
            "bins": HISTOGRAM_BINS,
            "count": self.count.tolist(),
            "positives": self.bin_positives.tolist(),
            "sum_probability": self.sum_probability.tolist(),
        }


def merge_scores(parts: list[ScoreSummary]) -> ScoreSummary:
    """The summary of all ``parts``, added left to right (independent of arrival order)."""
    total = ScoreSummary.zeros()
    for part in parts:
        for f in fields(ScoreSummary):
            if f.name != "tally":
                setattr(total, f.name, getattr(total, f.name) + getattr(part, f.name))
    total.tally = merge_tallies([part.tally for part in parts if part.rows])
    return total


def add_scores(a: ScoreSummary, b: ScoreSummary) -> ScoreSummary:
    """The summary of two (the pairwise step of the reduce tree, :mod:`sparklr.kernels.tree`)."""
    return merge_scores([a, b])


def merge_tallies(tallies: list[AucTally]) -> AucTally:
    """One tally of several (same kind of keys), summing rows and positives per key."""
    if not tallies:
        return ScoreSummary.zeros().tally
    exact = {t.exact for t in tallies}
    if len(exact) > 1:
        raise ValueError("cannot merge exact and binned AUC tallies")
    keys = np.concatenate([t.keys for t in tallies])
    unique, inverse = np.unique(keys, return_inverse=True)
    count = np.zeros(len(unique), dtype=np.int64)
    positives = np.zeros(len(unique), dtype=np.int64)
    np.add.at(count, inverse, np.concatenate([t.count for t in tallies]))
    np.add.at(positives, inverse, np.concatenate([t.positives for t in tallies]))
    return AucTally(unique, count, positives, exact.pop())


def probability_bins(p: np.ndarray, bins: int) -> np.ndarray:
    """⌊p · bins⌋, with p = 1 in the last bin (int64)."""
    return np.minimum(np.floor(p * bins).astype(np.int64), bins - 1)
