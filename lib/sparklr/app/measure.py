"""After the fit: what the training job measures of its model.

* :func:`measure_metrics`: log-loss, accuracy and AUC (with its error bound) on the training
  (and validation) data, one pass over resident blocks each (``model.metadata["metrics"]``),
  and the probability histograms the report draws;
* :func:`measure_inference`: standard errors, z, p-values and confidence intervals at the
  optimum (:mod:`sparklr.inference`), as ``train.inference`` says: ``model.metadata
  ["inference"]``, one extra pass over the resident blocks (two for ``robust``).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from sparklr.config import Config
from sparklr.errors import DataError
from sparklr.inference import InferenceResult, choose_method, infer_at
from sparklr.kernels import ScoreSummary
from sparklr.model import Model
from sparklr.objective import LogisticObjective
from sparklr.optimizers import OptimizerState
from sparklr.stats import FeatureMoments

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from sparklr.spark.blockset import BlockSet

log = logging.getLogger("sparklr.train")


def measure_metrics(
    config: Config, blocks: BlockSet, validation: DataFrame | None, model: Model
) -> dict[str, dict]:
    """Metrics of ``model`` on the training data (and ``validation``) into
    ``model.metadata["metrics"]`` (per data set: rows, log_loss, accuracy, auc,
    auc_error_bound, positives; unweighted per row); returns the probability histograms per
    data set (:meth:`~sparklr.kernels.ScoreSummary.histogram`).

    The training blocks are still resident: one scoring pass over them
    (:meth:`~sparklr.spark.blockset.BlockSet.score_summary`). The validation frame is built
    into blocks of its own -- rows with NaN, ±Inf or null in the label or a feature left out,
    whatever data.drop_invalid says -- scored in one pass and deleted."""
    t0 = time.perf_counter()
    w, b = model.coefficients, model.intercept
    summaries = {"train": blocks.score_summary(w, b)}
    if validation is not None:
        summaries["validation"] = _validation_summary(blocks, validation, config.data.label, w, b)
    metrics = {name: summary.metrics() for name, summary in summaries.items()}
    for name, values in metrics.items():
        log.info("%s metrics: %s", name, values)
    model.metadata["metrics"] = metrics
    log.info("metrics computed in %.1fs", time.perf_counter() - t0)
    return {name: summary.histogram() for name, summary in summaries.items()}


def _validation_summary(
    blocks: BlockSet, frame: DataFrame, label: str, w: np.ndarray, b: float
) -> ScoreSummary:
    """The validation frame's ScoreSummary: built as blocks like the training data's (same
    dtype), scored, unpersisted."""
    from sparklr.spark.blockset import BlockSet

    held_out = BlockSet(
        blocks.spark,
        frame,
        label,
        blocks.feature_names,
        dtype=blocks.dtype,
        drop_invalid=True,
        fit=False,
        design=blocks.design,
        block_type=blocks.block_type,
        aggregation_depth=blocks.aggregation_depth,
    )
    try:
        held_out.build()
        if held_out.dropped:
            log.info("validation: left out %d row(s) with NaN, ±Inf or null", held_out.dropped)
        return held_out.score_summary(w, b)
    except DataError as exc:
        raise DataError(f"validation data: {exc}") from exc
    finally:
        held_out.unpersist()


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
        reg_param=objective.reg_param,  # tune.folds' λ̂ when cross-validated
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
