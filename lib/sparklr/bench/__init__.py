"""The benchmarks (``jobs/benchmark.py``, ``jobs/benchmark_optimizers.py``): not part of what
users import to train; they use only the public interfaces of the layers below (the block
set's instrumentation: listeners, file and worker usage, cached bytes, read_block).

``jobs/benchmark.py`` measures sparklr against NumPy, MLlib and scikit-learn in ONE run::

    python jobs/benchmark.py --rows 2000000 --features 50 --partitions 2 --json bench.json

Everything is measured on the same data, in the same process and SparkSession, so the ratios
it prints compare like with like. By default the data is generated on the executors
(:mod:`sparklr.spark.synthetic`) and written once to Parquet in a scratch directory; both
sparklr and MLlib then load it from there (``--data PATH`` uses an existing Parquet dataset;
``--source generator`` skips Parquet and loads straight from the generator). The NumPy and
scikit-learn baselines read the same Parquet files with pyarrow on the driver (with
``--source generator``: the blocks' files under a local master, else a driver-side
``toArrow()`` of the same DataFrame, benchmark only).

Measured (per-iteration figures are medians over ``--iterations`` timed iterations after
``--warmup`` untimed ones):

* sparklr GD iteration: θ ← θ − α∇J(θ) with J a :class:`~sparklr.objective.LogisticObjective`
  (standardized) over :class:`~sparklr.spark.blockset.BlockSet` (resident blocks); with the
  seconds the tasks spent in the kernel, the Python workers seen and whether any block had to
  be remapped;
* NumPy GD iteration: the same iteration over one in-memory block (float64 and float32),
  interleaved with sparklr's iterations (one of each in turn) so that machine noise hits both
  alike; and the naive X@w / σ / Xᵀr step for reference;
* MLlib ``LogisticRegression`` (regParam 0, standardization on): fit time / iterations with
  ``maxIter`` fixed, the marginal cost of an iteration (two fits), and the fit to convergence;
* scikit-learn lbfgs (unpenalized, on standardized X) to convergence, if installed;
* load to ready blocks: sparklr read + build (as the training job reads: pyarrow in the
  executors for Parquet unless ``--reader spark``) vs MLlib read + VectorAssembler + cache +
  count; ``--load-repeats`` loads of each, alternating, median;
* memory: sparklr's block files per executor and the Python workers' private memory vs the
  raw block bytes; MLlib's cached storage (memory + disk) from Spark's storage info;
* fixed per-iteration overhead: sparklr on a tiny dataset vs an empty Python job (and a JVM
  ``count``) on the same number of partitions;
* float32 storage: iteration time and the relative error of J and ∇J against float64.

A ratio is printed only when both of its terms were measured in this run; otherwise ``n/a``
with the reason.

Modules: :mod:`~sparklr.bench.cli` (arguments, entry point), :mod:`~sparklr.bench.run` (the
sequence), :mod:`~sparklr.bench.data`, :mod:`~sparklr.bench.sparklr_run`,
:mod:`~sparklr.bench.baselines`, :mod:`~sparklr.bench.results` (typed figures),
:mod:`~sparklr.bench.report` (ratios, table, JSON), :mod:`~sparklr.bench.timing`;
:mod:`~sparklr.bench.optimizers` is ``jobs/benchmark_optimizers.py``; :mod:`~sparklr.bench.job`
is ``jobs/benchmark_job.py`` (whole ``train.py`` runs); :mod:`~sparklr.bench.sparse` is
``jobs/benchmark_sparse.py`` (with :mod:`~sparklr.bench.sparse_data`,
:mod:`~sparklr.bench.sparse_baselines`, :mod:`~sparklr.bench.sparse_report`);
:mod:`~sparklr.bench.scaling` is ``jobs/benchmark_scaling.py`` (with
:mod:`~sparklr.bench.scaling_model`); :mod:`~sparklr.bench.cv` is ``jobs/benchmark_cv.py``
(K-fold CV over a λ path vs one fit and MLlib's CrossValidator, with
:mod:`~sparklr.bench.cv_report`, and :mod:`~sparklr.bench.cv_mllib`, its child processes).
"""
