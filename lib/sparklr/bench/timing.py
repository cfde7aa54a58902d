"""Stopwatches: medians, repeated and interleaved timings, and the timed GD step."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def median(values: list[float]) -> float | None:
    """The median, or None for no values."""
    return float(statistics.median(values)) if values else None


def timed(fn: Callable[[], Any], repeats: int, warmup: int) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    laps = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        laps.append(time.perf_counter() - t0)
    return laps


def interleaved(
    jobs: dict[str, Callable[[], Any]], repeats: int, warmup: int
) -> dict[str, list[float]]:
    """Wall seconds of each job, the jobs taken in turn (one of each per round), so that a noisy
    machine slows all of them alike; the first ``warmup`` rounds are not timed."""
    laps: dict[str, list[float]] = {name: [] for name in jobs}
    for k in range(warmup + repeats):
        for name, job in jobs.items():
            t0 = time.perf_counter()
            job()
            lap = time.perf_counter() - t0
            if k >= warmup:
                laps[name].append(lap)
    return laps


def initial_theta(n_params: int) -> np.ndarray:
    """The benchmarks' seeded start: w⁰ small and random, b⁰ = 0."""
    theta = np.random.default_rng(0).standard_normal(n_params) * 0.01
    theta[-1] = 0.0
    return theta


class GradientWalk:
    """Plain GD on one objective, one step per call: θ ← θ − α∇J(θ), one evaluation each (the
    iteration of :mod:`sparklr.optimizers.gd` without its bookkeeping)."""

    def __init__(self, objective, theta: np.ndarray, learning_rate: float):
        self.objective = objective
        self.theta = theta.copy()
        self.learning_rate = learning_rate
        self.loss = float("nan")

    def step(self) -> None:
        evaluation = self.objective.evaluate(self.theta)
        self.theta = self.theta - self.learning_rate * evaluation.grad
        self.loss = evaluation.loss
