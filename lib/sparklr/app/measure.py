"""After the fit: what the training job measures of its model.

* :func:`measure_metrics`: log-loss, accuracy and AUC on the training (and validation) data,
  computed on the executors (``model.metadata["metrics"]``), and the probability histograms the
  report draws;
* :func:`measure_inference`: standard errors, z, p-values and confidence intervals at the
  optimum (:mod:`sparklr.inference`), as ``train.inference`` says: ``model.metadata
  ["inference"]``, one extra pass over the resident blocks (two for ``robust``).
"""

from __future__ import annotations

import logging
import time

from sparklr.config import Config
from sparklr.inference import InferenceResult, choose_method, infer_at
from sparklr.model import Model
from sparklr.objective import LogisticObjective
from sparklr.optimizers import OptimizerState
from sparklr.stats import FeatureMoments

log = logging.getLogger("sparklr.train")


def measure_metrics(config: Config, frames, model: Model) -> dict[str, dict]:
    """Metrics of ``model`` on the frames, into ``model.metadata["metrics"]``; returns the
    probability histograms per data set."""
    from sparklr.spark.scoring import model_metrics

    t0 = time.perf_counter()
    metrics, histograms = {}, {}
    parts = [("train", frames.train), ("validation", frames.validation)]
    for name, frame in parts:
        if frame is None:
            continue
        metrics[name], histograms[name] = model_metrics(
            frame, config.data.label, model.feature_names, model.coefficients, model.intercept
        )
        log.info("%s metrics: %s", name, metrics[name])
    model.metadata["metrics"] = metrics
    log.info("metrics computed in %.1fs", time.perf_counter() - t0)
    return histograms


def measure_inference(
    config: Config,
    objective: LogisticObjective,
    state: OptimizerState,
    moments: FeatureMoments,
    model: Model,
) -> InferenceResult | None:
    """The inference table of the fit, into ``model.metadata["inference"]``, or None (logged
    with the reason) when ``train.inference`` and the fit say there is none."""
    t = config.train
    method, reason = choose_method(
        t.inference,
        reg_param=t.reg_param,
        class_weighted=t.class_weight != "none",
        n_features=len(model.feature_names),
        separated=bool(model.metadata.get("separation_suspected")),
    )
    if method is None:
        log.info("%s", reason)
        return None
    t0 = time.perf_counter()
    result = infer_at(
        method,
        objective,
        state.theta,
        positives=moments.positives,
        feature_names=model.feature_names,
        ci_level=t.ci_level,
        stop_reason=state.stop_reason,
    )
    if result.warning:
        log.warning("%s", result.warning)
    model.metadata["inference"] = result.to_json()
    log.info("inference (%s) computed in %.1fs", method, time.perf_counter() - t0)
    return result
