"""L-BFGS on the driver (and OWL-QN for an L1 term), over the distributed oracle.

Quasi-Newton: from the last p pairs s_i = θ_{i+1} − θ_i, y_i = ∇f(θ_{i+1}) − ∇f(θ_i) (f = the
smooth part of J, L2 included) the two-loop recursion forms d = −H_k g with H_k the L-BFGS
approximation of the inverse Hessian from H_0 = γ I, γ = sᵀy / yᵀy of the newest pair
(Nocedal & Wright, Algorithm 7.4) — or, when J has an L2 term, from the diagonal H_0 that
adds its exact curvature l2 on w̃ to the data term's γ (:func:`initial_scaling`; on a 12-λ
path from λ_max this halved the passes). Then θ_{k+1} = θ_k + α d with α from a line search:

* no L1: a weak Wolfe line search by bisection (Lewis & Overton): starting at α = 1 (at
  α = min(1, 1/‖g‖) on the first iteration without an L2 term) it accepts α when
  J(θ + αd) ≤ J(θ) + c₁ α gᵀd  and  ∇J(θ + αd)ᵀd ≥ c₂ gᵀd  (c₁ = 10⁻⁴, c₂ = 0.9),
  halving the bracket otherwise. Both conditions come from the same pass, and the second
  guarantees sᵀy > 0, so H_k stays positive definite.
* L1 (λρ > 0, ρ = ``elastic_net``): OWL-QN (Andrew & Gao, 2007). g is replaced by the
  pseudo-gradient ◇J (the minimum-norm subgradient); d is computed from ◇J and projected so
  that d_j has the sign of −◇J_j (else 0); the trial point is projected onto the orthant of θ
  (ξ_j = sign(w̃_j), or sign(−◇J_j) at 0): a coordinate that would cross zero stops at 0.
  Backtracking from α = 1 accepts when J(θ⁺) ≤ J(θ) + c₁ ◇Jᵀ(θ⁺ − θ). The pairs use the
  smooth gradient.

Each trial is one pass over the data (loss and gradient together); the accepted trial's
pass is the next iteration's evaluation. When the predicted decrease is below J's round-off the
decrease test uses ‖∇J‖ instead (:func:`~sparklr.optimizers.base.sufficient_decrease`).

Stopping: the shared rule (‖∇J‖ ≤ tol or max_iter), plus "separated" when the problem is
unpenalized and the current θ classifies every sample correctly (no finite optimum exists;
see :func:`sparklr.optimizers.separation.separates`), plus "no_progress" when even a
steepest-descent step can no longer decrease J beyond its round-off.

State: the last ``lbfgs_memory`` pairs (default :data:`~sparklr.optimizers.base.LBFGS_MEMORY`)
live in ``state.memory`` ("s", "y": lists of vectors), so a resumed run continues bit for bit.
We use our own implementation rather than scipy's L-BFGS-B because its memory is internal to
scipy and cannot be checkpointed.
"""

from __future__ import annotations

import math

import numpy as np

from sparklr.objective import Evaluation, LogisticObjective
from sparklr.optimizers.base import (
    LBFGS_MEMORY,
    OptimizerOptions,
    OptimizerState,
    sufficient_decrease,
)
from sparklr.optimizers.driver import Method, Move
from sparklr.optimizers.separation import stop_if_separated

C1 = 1e-4
C2 = 0.9
MAX_TRIALS = 40


def two_loop(
    g: np.ndarray, S: list[np.ndarray], Y: list[np.ndarray], h0: np.ndarray | float | None = None
) -> np.ndarray:
    """H_k g by the two-loop recursion from H_0 = diag(``h0``) (default γ I, γ = sᵀy / yᵀy of
    the newest pair)."""
    q = g.copy()
    alphas = []
    for s, y in zip(reversed(S), reversed(Y), strict=True):
        rho = 1.0 / float(y @ s)
        a = rho * float(s @ q)
        q -= a * y
        alphas.append((rho, a))
    if h0 is not None:
        q *= h0
    elif S:
        q *= float(S[-1] @ Y[-1]) / float(Y[-1] @ Y[-1])
    for (s, y), (rho, a) in zip(zip(S, Y, strict=True), reversed(alphas), strict=True):
        beta = rho * float(y @ q)
        q += (a - beta) * s
    return q


def initial_scaling(g: np.ndarray, S: list[np.ndarray], Y: list[np.ndarray], l2: float):
    """H_0 for the two-loop recursion when J has an L2 term l2 ½‖w̃‖² (b̃ unpenalized).

    J's curvature is the data term's plus exactly l2 on w̃, so H_0 = diag(1/(1/γ + l2) on w̃,
    γ on b̃), γ the data term's own scale: sᵀy_d / y_dᵀy_d of the newest pair with
    y_d = y − l2 [s_w̃; 0], or min(1, 1/‖g‖) before any pair. Where l2 dominates (the top of a
    regularization path) a scalar γ I would mix the two curvatures — b̃'s ¼ and w̃'s l2 — and
    the line search would spend a pass per halving to undo it. None (the scalar γ I) when
    l2 = 0 or the newest pair shows no data curvature."""
    if l2 <= 0:
        return None
    if S:
        s, y = S[-1], Y[-1].copy()
        y[:-1] -= l2 * s[:-1]
        curvature = float(s @ y)
        if not curvature > 0:
            return None
        gamma = curvature / float(y @ y)
    else:
        gamma = min(1.0, 1.0 / max(float(np.linalg.norm(g)), 1e-300))
    h0 = np.full(len(g), 1.0 / (1.0 / gamma + l2))
    h0[-1] = gamma
    return h0


class LbfgsStep(Method):
    """The quasi-Newton step from the pairs in memory ("s", "y"), then the new pair."""

    def __init__(self, objective: LogisticObjective, lbfgs_memory: int = LBFGS_MEMORY):
        if lbfgs_memory < 1:
            raise ValueError(f"lbfgs keeps at least one (s, y) pair, got {lbfgs_memory}")
        self.objective = objective
        self.lbfgs_memory = lbfgs_memory

    def stop(self, current: Evaluation) -> str | None:
        return stop_if_separated(self.objective, current)

    def step(self, current: Evaluation, state: OptimizerState) -> Move | str:
        S = [np.asarray(v, dtype=np.float64) for v in state.memory.get("s", [])]
        Y = [np.asarray(v, dtype=np.float64) for v in state.memory.get("y", [])]
        l1 = self.objective.l1
        result = _search(self.objective, current, S, Y, l1)
        if result is None and S:  # the quasi-Newton direction failed: forget the pairs
            S, Y = [], []
            result = _search(self.objective, current, S, Y, l1)
        if result is None:
            return "no_progress"
        alpha, trial = result
        s = trial.theta - current.theta
        y = trial.grad - current.grad
        if float(s @ y) > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            S.append(s)
            Y.append(y)
            del S[: -self.lbfgs_memory], Y[: -self.lbfgs_memory]
        return Move(trial.theta, alpha, trial, {"s": S, "y": Y})


def _search(objective, current: Evaluation, S, Y, l1: float):
    """Direction + line search; (step, evaluation at θ⁺) or None when it fails."""
    pg = current.pseudo_gradient
    h0 = initial_scaling(pg, S, Y, objective.l2)
    d = -two_loop(pg, S, Y, h0)
    if l1:
        d[:-1] = np.where(d[:-1] * pg[:-1] < 0, d[:-1], 0.0)
    if not float(pg @ d) < 0:
        return None
    alpha = 1.0 if S or h0 is not None else min(1.0, 1.0 / max(float(np.linalg.norm(pg)), 1e-300))
    if l1:
        return _backtrack_orthant(objective, current, pg, d, alpha)
    return _wolfe(objective, current, d, alpha)


def _wolfe(objective, current: Evaluation, d: np.ndarray, alpha: float):
    dg0 = float(current.grad @ d)
    lo, hi = 0.0, math.inf
    for _ in range(MAX_TRIALS):
        candidate = objective.evaluate(current.theta + alpha * d)
        if not sufficient_decrease(current, candidate, alpha * dg0, C1):
            hi = alpha
        elif float(candidate.grad @ d) < C2 * dg0:
            lo = alpha
        else:
            return alpha, candidate
        alpha = 0.5 * (lo + hi) if math.isfinite(hi) else 2.0 * alpha
    return None


def _backtrack_orthant(objective, current: Evaluation, pg: np.ndarray, d: np.ndarray, alpha):
    theta = current.theta
    orthant = np.where(theta[:-1] != 0, np.sign(theta[:-1]), -np.sign(pg[:-1]))
    for _ in range(MAX_TRIALS):
        candidate_theta = theta + alpha * d
        w = candidate_theta[:-1]
        candidate_theta[:-1] = np.where(np.sign(w) == orthant, w, 0.0)
        candidate = objective.evaluate(candidate_theta)
        decrease = float(pg @ (candidate_theta - theta))
        if sufficient_decrease(current, candidate, decrease, C1):
            return alpha, candidate
        alpha *= 0.5
    return None


def shift_pairs(memory: dict, l2_change: float) -> dict:
    """The pairs of ``memory`` as they are for J at another λ (the regularization path).

    f = the logistic loss + ½ l2 ‖w̃‖², so when l2 becomes l2 + Δ each pair's gradient
    difference becomes, exactly, y_i + Δ [s_i,w̃; 0] (the intercept is not penalized), while
    s_i stays. A pair that loses sᵀy > 0 (Δ < 0: λ decreasing) is dropped. Only the pairs
    are carried: {} when ``memory`` holds none.
    """
    pairs = []
    for s, y in zip(memory.get("s", []), memory.get("y", []), strict=True):
        s = np.asarray(s, dtype=np.float64)
        shifted = np.array(y, dtype=np.float64)
        shifted[:-1] += l2_change * s[:-1]
        if float(s @ shifted) > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(shifted)):
            pairs.append((s, shifted))
    return {"s": [s for s, _ in pairs], "y": [y for _, y in pairs]} if pairs else {}


def method(objective: LogisticObjective, options: OptimizerOptions) -> Method:
    """The registry's step for ``train.optimizer = lbfgs`` (see :mod:`sparklr.optimizers`)."""
    return LbfgsStep(objective, options.lbfgs_memory)
