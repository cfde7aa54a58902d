"""The inverse of the information matrix on its estimable coordinates (NumPy only).

Ĩ = Σ v a(1 − a) [x̃; 1][x̃; 1]ᵀ in training coordinates (:mod:`sparklr.inference`). The
intercept is profiled out first, S = Ĩ_ww − ĩ_wb ĩ_wbᵀ / ĩ_bb (the information of w̃ about
centred features), and by the block inverse, with g = ĩ_wb / ĩ_bb::

    Ĩ⁻¹ = [[S⁻¹, −S⁻¹g], [−gᵀS⁻¹, 1/ĩ_bb + gᵀS⁻¹g]]

S, scaled to unit diagonal (R = D^(-1/2) S D^(-1/2)), is factored by Cholesky in column order.
Coefficient j is **not estimable** (null values and a reason, never a huge number) when, with
τ = :data:`TOLERANCE` = 10⁻¹⁰:

* s_j = 0: a constant feature;
* S_jj / s_j² ≤ τ Σ v d x_j²: its variation is below τ of its mean square, i.e. it is constant
  to within the round-off of the sums;
* its Cholesky pivot, 1 − R²_j of x_j regressed (in the metric v d) on the intercept and the
  kept earlier features, is below τ: collinear; the later of collinear columns is dropped;
* its variance inflation factor VIF_j = S_jj (S⁻¹)_jj on the kept set exceeds 1/τ (the
  largest is dropped until none does; this catches collinearity hidden by round-off).

With VIF ≤ 1/τ the covariance keeps about ε/τ ≈ 10⁻⁶ relative accuracy at worst. Cost, in
LAPACK/BLAS calls: one Cholesky (n_x³/3 flops) and one inverse (≈ 2 n_x³) when nothing is
dropped; when a pivot is small, a blocked Cholesky that skips columns (the same n_x³/3 in
matrix products, panels of :data:`BLOCK` columns); one more inverse per column dropped on
its VIF (rare: round-off only).

The kept coefficients are those of the model without the dropped columns D (kept: E): when
those lie in the span of the kept ones (constant features, exact collinearity) the fit's z is
also reached with θ̃_E + B θ̃_D, B = Ĩ_EE⁻¹ Ĩ_ED (:func:`sparklr.inference.infer` folds them
so); otherwise (near-collinearity, a column constant only to within round-off) this is the
projection of their part of z onto the kept columns, one Newton step towards the refit.
"""

from __future__ import annotations

import math

import numpy as np

from sparklr.objective import FeatureMap

#: τ of the module docstring: 1 − R² below it (VIF above 1/τ) makes a coefficient not estimable.
TOLERANCE = 1e-10
#: Columns of the panel in which the Cholesky factorization with dropped columns is blocked.
BLOCK = 64


def invert_information(
    info: np.ndarray, fm: FeatureMap, *, intercept: bool = True
) -> tuple[np.ndarray, dict[int, str]]:
    """Ĩ⁻¹ on the estimable coordinates (zero elsewhere) and {index: reason} for the others.

    Without an ``intercept`` (b pinned at 0) there is nothing to profile out: S = Ĩ_ww, and
    the b row and column of Ĩ⁻¹ are 0."""
    n = len(info) - 1
    inverse = np.zeros_like(info)
    h_bb, h_wb = info[n, n], info[:n, n]
    if not intercept:
        h_bb, h_wb = 1.0, np.zeros(n)  # S = Ĩ_ww; g = 0
        info = info.copy()
        info[:n, n] = info[n, :n] = 0.0
        info[n, n] = 0.0
    if intercept and not h_bb > 0:
        reason = "no information: a(1 − a) = 0 for every sample"
        return inverse, dict.fromkeys(range(n + 1), reason)
    S = info[:n, :n] - np.outer(h_wb, h_wb) / h_bb
    reasons = _flat_features(info, S, fm)
    candidates = np.array([j for j in range(n) if j not in reasons], dtype=int)
    d = np.sqrt(np.diag(S)[candidates])
    keep, R_inv, found = _drop_collinear(S[np.ix_(candidates, candidates)] / np.outer(d, d))
    reasons.update({int(candidates[i]): why for i, why in found.items()})
    kept = candidates[keep]
    S_inv = R_inv / np.outer(d[keep], d[keep])
    g = h_wb[kept] / h_bb
    S_inv_g = S_inv @ g
    inverse[np.ix_(kept, kept)] = S_inv
    inverse[kept, n] = inverse[n, kept] = -S_inv_g
    if intercept:
        inverse[n, n] = 1.0 / h_bb + g @ S_inv_g
    return inverse, reasons


def _flat_features(info: np.ndarray, S: np.ndarray, fm: FeatureMap) -> dict[int, str]:
    """Constant features, and features constant to within round-off (module docstring)."""
    n = len(S)
    s, c = fm.scale, fm.shift
    safe = np.where(s == 0, 1.0, s)
    mean_square = np.diag(info)[:n] / safe**2 + 2 * c * info[:n, n] / safe + c**2 * info[n, n]
    flat = ~(np.diag(S) / safe**2 > TOLERANCE * mean_square)
    reasons = {int(j): "constant feature" for j in np.flatnonzero(s == 0)}
    for j in np.flatnonzero(flat & (s != 0)):
        reasons[int(j)] = f"constant to within round-off (variance < {TOLERANCE:g} × mean square)"
    return reasons


def _drop_collinear(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Keep mask, (R_KK)⁻¹ and {index: reason}: pivots, then variance inflation factors."""
    keep, pivots = pivot_check(R)
    found = {
        int(j): f"collinear: 1 − R² = {max(pivots[j], 0.0):.2g} < {TOLERANCE:g}"
        for j in np.flatnonzero(~keep)
    }
    while True:
        R_inv = _inverse_of_kept(R, keep)
        vif = np.diag(R_inv)
        if not len(vif) or vif.max() <= 1.0 / TOLERANCE:
            return keep, R_inv, found
        worst = int(np.argmax(vif))
        j = int(np.flatnonzero(keep)[worst])
        keep[j] = False
        found[j] = f"collinear: variance inflation factor {vif[worst]:.2g} > {1 / TOLERANCE:g}"


def name_partners(reasons, dropped, B, info_diag, names) -> None:
    """Add to each collinear column's reason the (up to 3) kept features that span it."""
    n = len(names) - 1
    for col, j in enumerate(dropped):
        if not reasons[j].startswith("collinear"):
            continue
        weight = np.abs(B[:n, col]) * np.sqrt(np.maximum(info_diag[:n], 0.0))
        order = [
            k for k in np.argsort(-weight, kind="stable")[:3] if weight[k] > 1e-3 * weight.max()
        ]
        if order:
            partners = ", ".join(names[k] for k in order)
            reasons[j] = reasons[j].replace("collinear", f"collinear with {partners}", 1)


def pivot_check(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky of R in column order, skipping columns whose pivot is below τ (blocked)."""
    n = len(R)
    try:
        pivots = np.diag(np.linalg.cholesky(R)) ** 2
        if np.all(pivots >= TOLERANCE):
            return np.ones(n, dtype=bool), pivots
    except np.linalg.LinAlgError:
        pass
    A = R.copy()  # lower triangle becomes L; the trailing block the Schur complement
    keep = np.zeros(n, dtype=bool)
    pivots = np.zeros(n)
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        for j in range(lo, hi):
            pivots[j] = A[j, j]
            if pivots[j] < TOLERANCE:
                A[j:, j] = 0.0
                continue
            keep[j] = True
            A[j:, j] /= math.sqrt(pivots[j])
            A[j + 1 :, j + 1 : hi] -= np.outer(A[j + 1 :, j], A[j + 1 : hi, j])
        panel = A[hi:, lo:hi]
        A[hi:, hi:] -= panel @ panel.T
    return keep, pivots


def _inverse_of_kept(R: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """(R_KK)⁻¹, K = the kept columns (every pivot ≥ τ: LU is as accurate as Cholesky here)."""
    idx = np.flatnonzero(keep)
    inverse = np.linalg.inv(R[np.ix_(idx, idx)]) if len(idx) else np.zeros((0, 0))
    return (inverse + inverse.T) / 2
