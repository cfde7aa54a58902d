"""From a data description to the [label, features...] DataFrames the blocks are built from
(and the validation DataFrame the model is measured on)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparklr.encoding import CategoricalRules, Design
from sparklr.errors import DataError
from sparklr.spark.blocktype import BlockType
from sparklr.spark.columns import resolve_roles
from sparklr.spark.data import NUMERIC_TYPES, select_columns
from sparklr.spark.levels import discover_design
from sparklr.spark.parquet import ParquetPlan, list_local_parquet, plan_parquet_blocks
from sparklr.spark.sources import Source, pyarrow_reason, read_source
from sparklr.spark.synthetic import (
    SyntheticPlan,
    SyntheticSpec,
    plan_synthetic_blocks,
    synthetic_frame,
)

log = logging.getLogger("sparklr.data")

#: How Parquet training data are read (data.reader); see :func:`load_frames`.
READERS = ("auto", "pyarrow", "spark")


def load_training_frame(
    spark: SparkSession,
    *,
    fmt: str,
    path: str,
    label: str,
    features: list[str],
    partitions: int = 0,
    synthetic: tuple[int, int, int, int] | None = None,
    weight: str = "",
) -> tuple[DataFrame, list[str]]:
    """(training frame, feature names) of :func:`load_frames`, without a validation set;
    synthetic rows as a Spark DataFrame too (``reader`` "spark")."""
    frames = load_frames(
        spark,
        fmt=fmt,
        path=path,
        label=label,
        features=features,
        partitions=partitions,
        synthetic=synthetic,
        weight=weight,
        reader="spark" if fmt == "synthetic" else "auto",
        dataframe=True,
    )
    return frames.train, frames.names


@dataclass(frozen=True)
class Frames:
    """The training frame ([label, *names] or [label, *names, weight], doubles; None when
    ``synthetic`` generates the blocks), the validation frame ([label, *names], or None) and
    the feature names."""

    train: DataFrame | None
    validation: DataFrame | None
    names: list[str]
    #: How pyarrow reads the training blocks straight from the Parquet files; None = through
    #: Spark's scan of ``train`` (CSV, synthetic, a validation split, or data.reader = "spark").
    parquet: ParquetPlan | None = None
    #: The input feature columns and the encoding of the categorical ones (``names`` are its
    #: feature names); with categorical columns the frames hold them raw.
    design: Design | None = None
    #: Every input column's role (sparklr.spark.columns), for the log and model.json.
    roles: dict[str, str] | None = None
    #: How the blocks store the features: None = dense rows of double columns; for a vector
    #: column (or LIBSVM) the type :mod:`sparklr.spark.vector_input` chose.
    block_type: BlockType | None = None
    #: How the build tasks generate synthetic rows themselves (no Spark SQL, no DataFrame).
    synthetic: SyntheticPlan | None = None


def load_frames(
    spark: SparkSession,
    *,
    fmt: str = "",
    path: str = "",
    source: Source | None = None,
    label: str,
    features: list[str],
    partitions: int = 0,
    synthetic: tuple[int, int, int, int] | None = None,
    weight: str = "",
    validation_source: Source | None = None,
    validation_fraction: float = 0.0,
    validation_seed: int = 0,
    reader: str = "auto",
    categorical: Categorical | None = None,
    features_col: str = "",
    block_type: str = "auto",
    num_features: int = 0,
    dtype: str = "float64",
    dataframe: bool = False,
) -> Frames:
    """The training frame: the rows of ``source`` (:func:`~sparklr.spark.sources.read_source`:
    a file in a format, or a catalog table, with reader options and a filter; ``fmt`` and
    ``path`` are the shorthand ``Source(fmt, path)``), or ``synthetic`` = (rows, features,
    partitions, seed) generated when the format is "synthetic"; its columns checked,
    optionally repartitioned; with ``weight`` it is [label, *features, weight] (the weight
    numeric). Plus a validation frame and, for Parquet, how pyarrow reads the blocks.

    ``validation_source``: a second dataset with the same label and feature columns.
    ``validation_fraction`` (0 < f < 1): a seeded random split of the input, done before
    repartitioning. Spark's ``randomSplit`` sorts each partition before sampling, so
    the split — and with it the training blocks — is the same on every evaluation of the
    lineage and on every run with the same input, partitioning and seed.

    ``reader`` (Parquet only): "auto" plans a pyarrow read of the files
    (:func:`~sparklr.spark.parquet.plan_parquet_blocks`, ``partitions`` blocks, or
    :func:`default_block_count` when 0) and falls back to Spark's reader when pyarrow cannot
    read them; "pyarrow" fails instead of falling back; "spark" always reads through Spark. A
    ``validation_fraction`` split, a filter, or a reader option pyarrow does not honour
    (:func:`~sparklr.spark.sources.pyarrow_reason`) always goes through Spark.

    Synthetic rows (no validation data, no categorical column, ``reader`` not "spark"): no
    DataFrame at all; ``synthetic`` holds the :class:`~sparklr.spark.synthetic.SyntheticPlan`
    from which the build tasks generate their rows, in ``partitions`` blocks (or
    :func:`default_block_count`) of contiguous row ranges.

    ``categorical``: the categorical columns and the rules of their encoding; every column's
    role is resolved (:mod:`sparklr.spark.columns`) and logged, and the levels are found in
    one pass (:mod:`sparklr.spark.levels`).

    Local Parquet whose blocks pyarrow reads is listed without Spark SQL (no DataFrame:
    ``train`` None, see :func:`_listed_parquet`) unless ``dataframe`` asks for the frame.

    ``features_col`` (a Spark ML vector column) or the format "libsvm": see
    :func:`sparklr.spark.vector_loading.load_vector_frames` (``block_type``, ``num_features``
    and ``dtype`` are its).
    """
    rules = categorical or Categorical()
    if reader not in READERS:
        raise DataError(f"unknown reader {reader!r}; use one of {', '.join(READERS)}")
    source = source or Source(fmt, path)
    if validation_source and validation_fraction:
        raise DataError("give either a validation dataset or a validation fraction, not both")
    if features_col or source.format == "libsvm":
        from sparklr.spark.vector_loading import load_vector_frames

        return load_vector_frames(
            spark,
            source=source,
            label=label,
            features_col=features_col or "features",
            partitions=partitions,
            weight=weight,
            validation_source=validation_source,
            validation_fraction=validation_fraction,
            validation_seed=validation_seed,
            reader=reader,
            block_type=block_type,
            num_features=num_features,
            dtype=dtype,
            dataframe=dataframe,
        )
    if source.format == "synthetic":
        generator = SyntheticSpec(*synthetic)
        features = list(features) or generator.names
        if reader != "spark" and not (validation_fraction or validation_source):
            planned = _synthetic_plan(spark, generator, label, features, rules, weight, partitions)
            if planned is not None:
                return planned
        raw, _ = synthetic_frame(spark, *synthetic)
    else:
        validated = bool(validation_fraction or validation_source or dataframe)
        listed = _listed_parquet(
            spark, source, reader, validated, (label, list(features), rules, weight), partitions
        )
        if listed is not None:
            return listed
        raw = read_source(spark, source)
    roles = resolve_roles(raw.schema, label, list(features), list(rules.columns), weight)
    roles.log()
    design = discover_design(raw, roles, rules.encoding)
    frame, names = design_frame(raw, label, design, weight), design.feature_names
    blocks = partitions or default_block_count(spark)
    validation = None
    if validation_fraction:
        frame, validation = split_validation(frame, validation_fraction, validation_seed)
    elif validation_source:
        if validation_source.format == "synthetic":
            raise DataError("a validation dataset needs a file format or a table")
        validation = design_frame(read_source(spark, validation_source), label, design)
    plan = None
    if source.format == "parquet" and reader != "spark":
        if validation_fraction:
            reason = "data.validation_fraction splits the rows in Spark"
        elif pyarrow_reason(source):
            reason = pyarrow_reason(source)
        else:
            columns = [label, *design.columns] + ([weight] if weight else [])
            categorical = tuple(design.categorical)
            planned = plan_parquet_blocks(raw.inputFiles(), columns, blocks, categorical)
            reason = planned if isinstance(planned, str) else ""
            plan = None if reason else planned
        if reason and reader == "pyarrow":
            raise DataError(f'data.reader = "pyarrow" cannot read {source.path}: {reason}')
        if reason:
            log.info("reading %s through Spark: %s", source.path, reason)
    if plan is None:
        frame = to_blocks(frame, partitions, blocks)
    return Frames(frame, validation, names, plan, design, roles.roles)


def _listed_parquet(
    spark: SparkSession,
    source: Source,
    reader: str,
    validated: bool,
    columns: tuple[str, list[str], Categorical, str],
    partitions: int,
) -> Frames | None:
    """The frames of a local Parquet input whose blocks pyarrow reads, listed without Spark
    SQL (:func:`~sparklr.spark.parquet.list_local_parquet`: the same files and schema, and
    from them the same roles and plan as through Spark's reader); None when Spark's reader is
    needed: validation data, a filter or a reader option, categorical columns (their level
    pass), or a listing or plan pyarrow refuses."""
    if source.format != "parquet" or reader == "spark" or validated or pyarrow_reason(source):
        return None
    listing = list_local_parquet(source.path)
    if isinstance(listing, str):
        log.debug("listing %s through Spark: %s", source.path, listing)
        return None
    label, features, rules, weight = columns
    roles = resolve_roles(listing.schema, label, features, list(rules.columns), weight)
    if roles.categorical:
        return None
    design = Design(roles.features)
    blocks = partitions or default_block_count(spark)
    read = [label, *design.columns] + ([weight] if weight else [])
    plan = plan_parquet_blocks(listing.files, read, blocks)
    if isinstance(plan, str):
        return None
    roles.log()
    return Frames(None, None, design.feature_names, plan, design, roles.roles)


def _synthetic_plan(
    spark: SparkSession,
    generator: SyntheticSpec,
    label: str,
    features: list[str],
    rules: Categorical,
    weight: str,
    partitions: int,
) -> Frames | None:
    """The Frames of synthetic rows generated by the build tasks (no DataFrame), in
    ``partitions`` blocks (or :func:`default_block_count`); None when a column is categorical
    (its levels are counted through Spark)."""
    roles = resolve_roles(generator.schema, label, features, list(rules.columns), weight)
    if roles.categorical:
        return None
    roles.log()
    design = Design(roles.features)
    columns = [label, *design.columns] + ([weight] if weight else [])
    plan = plan_synthetic_blocks(generator, columns, partitions or default_block_count(spark))
    return Frames(
        None, None, design.feature_names, design=design, roles=roles.roles, synthetic=plan
    )


@dataclass(frozen=True)
class Categorical:
    """The data.categorical* keys as plain values: which columns, and how they are encoded."""

    columns: tuple[str, ...] = ()
    encoding: CategoricalRules = field(default_factory=CategoricalRules)


def design_frame(raw: DataFrame, label: str, design: Design, weight: str = "") -> DataFrame:
    """[label, *design.columns, (weight)]: doubles, except the categorical columns (raw)."""
    present = set(raw.columns)
    missing = [c for c in [label, *design.columns] if c not in present]
    if missing:
        raise DataError(f"column(s) not found: {', '.join(missing)}")
    names = [label, *design.columns, *([weight] if weight else [])]
    return raw.selectExpr(*[_sql_column(c, cast=c not in design.categorical) for c in names])


def _sql_column(name: str, *, cast: bool) -> str:
    """The column ``name`` (cast to double if ``cast``) under its own name, as one SQL
    expression: a select of thousands of them is one py4j call, where building a Column each
    (col, cast, alias) costs ~36 py4j round trips per column."""
    quoted = "`" + name.replace("`", "``") + "`"
    return f"CAST({quoted} AS DOUBLE) AS {quoted}" if cast else f"{quoted} AS {quoted}"


def training_columns(
    raw: DataFrame, label: str, features: list[str], weight: str = ""
) -> tuple[DataFrame, list[str]]:
    """([label, *names] or [label, *names, weight] as doubles, names): the columns checked
    (present, numeric; an empty ``features`` = every numeric column but label and weight)."""
    if not weight:
        return select_columns(raw, label, features)
    frame, names = select_columns(raw, label, features, exclude=(weight,))
    if weight in names:
        raise DataError(f"weight column {weight!r} is also a feature column")
    fields = {f.name: f.dataType for f in raw.schema.fields}
    if weight not in fields:
        raise DataError(
            f"weight column {weight!r} not found; columns are: {', '.join(raw.columns)}"
        )
    if not isinstance(fields[weight], NUMERIC_TYPES):
        raise DataError(
            f"weight column {weight!r} has type {fields[weight].simpleString()}; it must be numeric"
        )
    frame = raw.select(*[F.col(f"`{c}`").cast("double").alias(c) for c in [label, *names, weight]])
    return frame, names


def default_block_count(spark: SparkSession) -> int:
    """The number of blocks when ``data.partitions = 0``: Spark's default parallelism, which is
    the total number of executor cores (local[N]: N). One block per core makes an iteration
    one wave of tasks with no idle core and no second wave; more blocks per core only add a
    task's fixed cost (~1 ms of Python plus scheduling) per iteration and a smaller kernel."""
    return max(1, spark.sparkContext.defaultParallelism)


def to_blocks(frame: DataFrame, partitions: int, blocks: int) -> DataFrame:
    """``frame`` in ``blocks`` partitions. An explicit ``data.partitions`` repartitions (one
    shuffle); the default only merges partitions (``coalesce``, no shuffle) when the reader made
    more than ``blocks``, and keeps fewer as they are (a shuffle costs more than the idle cores
    save on data that fit in so few partitions): ``coalesce`` never adds partitions, so it is
    applied without asking Spark for the count first (that plans the whole scan on the driver,
    a second time, before the build plans it again)."""
    if partitions:
        return frame.repartition(partitions)
    return frame.coalesce(blocks)


def split_validation(frame: DataFrame, fraction: float, seed: int) -> tuple[DataFrame, DataFrame]:
    """(training part, validation part): each row lands in exactly one, the validation part
    with probability ``fraction``; deterministic for a given input partitioning and seed."""
    if not 0.0 < fraction < 1.0:
        raise DataError(f"validation fraction must be in (0, 1), got {fraction}")
    train, validation = frame.randomSplit([1.0 - fraction, fraction], seed=seed)
    return train, validation
