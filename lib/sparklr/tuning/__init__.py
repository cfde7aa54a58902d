"""Model selection on the objective's interface (NumPy only, no Spark): warm starts
(:mod:`~sparklr.tuning.warm_start`) and the regularization path (:mod:`~sparklr.tuning.path`).

Like the optimizers, everything here sees only :class:`sparklr.objective.LogisticObjective`, so
it runs on the resident Spark blocks and on :class:`sparklr.in_memory.InMemorySource` alike.
"""
