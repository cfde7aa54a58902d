"""What the block build must find before anything is fitted or scored (driver side): the
checks over the build's :class:`~sparklr.spark.build.BlockMeta` rows of a
:class:`~sparklr.spark.blockset.BlockSet`."""

from __future__ import annotations

from sparklr.errors import DataError


def check_blocks(blocks) -> None:
    """Raise a :class:`~sparklr.errors.DataError` for what the build of ``blocks`` (a
    :class:`~sparklr.spark.blockset.BlockSet`) found wrong: non-finite values (unless
    dropped), labels outside {0, 1}, negative weights, no rows; for a set to fit, no weight or
    one class. Each message names the column and an example row."""
    nonfinite = sum(m.nonfinite for m in blocks.metas)
    if nonfinite and not blocks.drop_invalid:
        example = next(m.nonfinite_example for m in blocks.metas if m.nonfinite)
        raise DataError(
            f"{nonfinite} row(s) have NaN, ±Inf or null in the label or features "
            f"(e.g. {example}); fix the data or set data.drop_invalid = true to drop them"
        )
    bad = sum(m.bad_labels for m in blocks.metas)
    if bad:
        example = next(m.bad_label_example for m in blocks.metas if m.bad_labels)
        hint = ""
        if example == repr(-1.0):
            hint = (
                "; labels −1/+1 (the LIBSVM convention) must be mapped to 0/1 first, "
                "e.g. rewrite the file with label (y + 1) / 2"
            )
        raise DataError(
            f"label column {blocks.label!r} has {bad} value(s) outside {{0, 1}} "
            f"(e.g. {example}){hint}"
        )
    bad_weights = sum(m.bad_weights for m in blocks.metas)
    if bad_weights:
        example = next(m.bad_weight_example for m in blocks.metas if m.bad_weights)
        raise DataError(
            f"weight column {blocks.weight!r} has {bad_weights} negative value(s) "
            f"(e.g. {example}); sample weights must be finite and ≥ 0"
        )
    if blocks.rows == 0:
        raise DataError(
            "the dataset has 0 rows" + (" after dropping invalid rows" if blocks.dropped else "")
        )
    if blocks.fit:
        _check_fit(blocks)


def _check_fit(blocks) -> None:
    """What fitting needs beyond valid rows: weight to fit, and both classes."""
    if blocks.weight and not blocks.moments.total_weight > 0:
        raise DataError(f"weight column {blocks.weight!r} sums to 0: there is nothing to fit")
    positives = blocks.moments.positives
    if positives in (0, blocks.moments.total_weight):
        only = 1 if positives else 0
        raise DataError(
            f"label column {blocks.label!r} has only one class ({only}) in {blocks.rows} rows: "
            "the maximum-likelihood optimum does not exist (J → 0 as |b| → ∞)"
        )
