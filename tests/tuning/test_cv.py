import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sparklr.in_memory import InMemorySource
from sparklr.kernels import FISHER
from sparklr.kernels.dense import block_sums, score_summary
from sparklr.objective import FeatureMap, LogisticObjective, log_odds_intercept
from sparklr.optimizers import OptimizerOptions, StopRule, get
from sparklr.tuning.cv import choose, cross_validate
from sparklr.tuning.folds import dense_row_digest, fold_ids, fold_mask, fold_weights
from sparklr.tuning.path import null_theta

from tests.conftest import make_logistic_data


class FoldedArrays:
    """A FoldedSource over one in-memory block with fold ids f."""

    def __init__(self, X, y, f, folds):
        self.X, self.y, self.f, self.folds = X, y, f, folds
        self.n_features = X.shape[1]

    def sums(self, w, b, *, hessian=False, class_weight=None, curvature=FISHER, fold=None):
        v = None if fold is None else fold_weights(self.f, None, fold, exclude=True)
        return block_sums(self.X, self.y, w, b, v, hessian=hessian, class_weight=class_weight)

    def score_summary(self, w, b, *, fold=None, held_out=True):
        keep = fold_mask(self.f, fold, exclude=not held_out)
        return score_summary(self.X[keep], self.y[keep], w, b, exact_auc=True)


def lbfgs(objective, state):
    return get("lbfgs")(objective, state, options=OptimizerOptions(), stop=StopRule(2000, 1e-11))


@pytest.fixture(scope="module")
def folded():
    X, y, _, _ = make_logistic_data(1500, 3, seed=11, offset=0.5, scale=1.5)
    f = fold_ids(4, 3, y, None, dense_row_digest(X))
    return X, y, f


@pytest.mark.parametrize("metric", ["log_loss", "auc"])
def test_each_fold_equals_scikit_learn_on_the_explicit_complement(folded, metric):
    X, y, f = folded
    moments = InMemorySource((X, y)).moments()
    feature_map = FeatureMap.from_moments(moments, standardize=True)  # the full data's, all folds
    objective = LogisticObjective(FoldedArrays(X, y, f, 3), feature_map)
    lambdas = [0.1, 0.01, 0.001]
    theta0 = null_theta(3, log_odds_intercept(moments))
    result = cross_validate(objective, objective.source, lambdas, lbfgs, theta0, metric=metric)
    assert result.values.shape == (3, 3)
    Z = (X - feature_map.shift) * feature_map.scale
    for i, lam in enumerate(result.reg_params):
        for k in range(3):
            train, held = f != k, f == k
            clf = LogisticRegression(
                C=1.0 / (lam * train.sum()), solver="newton-cholesky", tol=1e-15
            )
            clf.fit(Z[train], y[train])
            p = clf.predict_proba(Z[held])[:, 1]
            ref = log_loss(y[held], p) if metric == "log_loss" else roc_auc_score(y[held], p)
            assert result.values[i, k] == pytest.approx(ref, rel=1e-6, abs=1e-9)
    assert objective.reg_param == 0.0  # the caller's objective is untouched


# M per (λ, fold), λ decreasing. Means 0.60, 0.52, 0.50, 0.51; at the minimum (index 2)
# se = sd(0.44, 0.50, 0.56) / √3 = 0.06 / √3 ≈ 0.0346, so the 1se bound 0.5346 admits index 1
# (and index 3, a smaller λ) but not index 0.
LAMBDAS = np.array([1.0, 0.1, 0.01, 0.001])
TABLE = np.array(
    [
        [0.60, 0.61, 0.59],
        [0.51, 0.52, 0.53],  # mean 0.52 ≤ 0.50 + 0.0346
        [0.44, 0.50, 0.56],  # the minimum, mean 0.50
        [0.50, 0.51, 0.52],
    ]
)


def test_the_min_rule_picks_the_smallest_mean_and_1se_the_largest_lambda_within_one_se():
    assert choose(LAMBDAS, TABLE, "log_loss", "min") == 2
    assert choose(LAMBDAS, TABLE, "log_loss", "1se") == 1
    # a tighter minimum (se ≈ 0.0058) admits nothing larger
    tight = TABLE.copy()
    tight[2] = [0.49, 0.50, 0.51]
    assert choose(LAMBDAS, tight, "log_loss", "1se") == 2


def test_auc_is_maximised_and_ties_go_to_the_larger_lambda():
    auc = 1.0 - TABLE
    assert choose(LAMBDAS, auc, "auc", "min") == 2
    assert choose(LAMBDAS, auc, "auc", "1se") == 1
    tied = np.array([[0.3, 0.3], [0.2, 0.2], [0.2, 0.2]])
    assert choose(LAMBDAS[:3], tied, "log_loss", "min") == 1
