"""GD iterations at α = 1/L with L from the exact λ_max, the power bound and the trace bound
(docs/sparse.md).

    PYTHONPATH=lib python docs/scripts/gram_bound_gd.py
"""

import numpy as np
from sparklr import optimizers
from sparklr.in_memory import InMemorySource
from sparklr.kernels.csr import CsrMatrix, gram_sums
from sparklr.objective import FeatureMap, LogisticObjective, gram_power_bound
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule
from sparklr.stats import FeatureMoments


def data(m, n, k, seed):
    rng = np.random.default_rng(seed)
    X = np.zeros((m, n))
    cols = (rng.zipf(1.5, size=(m, k)) - 1) % n
    X[np.arange(m)[:, None], cols] = 1.0
    w = rng.normal(size=n)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w - 1)))).astype(float)
    return X, y


for m, n, k, standardize in [
    (4000, 300, 10, False),
    (4000, 300, 10, True),
    (3000, 1000, 30, False),
]:
    X, y = data(m, n, k, 1)
    src = InMemorySource((X, y))
    mom = src.moments()
    fm = FeatureMap.from_moments(mom, standardize)
    diag = FeatureMoments(mom.count, mom.mean, np.diag(mom.scatter).copy(), mom.positives)
    csr = CsrMatrix.of_dense(X)
    exact = fm.gram_bound(mom)
    power = gram_power_bound(lambda w, b, csr=csr: gram_sums(csr, None, w, b), fm)
    trace = fm.gram_bound(diag)
    row = [
        f"m={m} n={n} nnz/row={k} std={standardize}: λ exact {exact:.4g} "
        f"power(10)x1.1 {power:.4g} trace {trace:.4g}"
    ]
    for name, lam in [("exact", exact), ("power", power), ("trace", trace)]:
        obj = LogisticObjective(src, fm, reg_param=1e-3)
        st = optimizers.get("gd")(
            obj,
            OptimizerState(0, np.zeros(n + 1)),
            options=OptimizerOptions(learning_rate=1 / (0.25 * lam + obj.l2)),
            stop=StopRule(20000, 1e-5),
        )
        row.append(f"{name}: {st.iteration} it ({st.stop_reason})")
    print("; ".join(row), flush=True)
