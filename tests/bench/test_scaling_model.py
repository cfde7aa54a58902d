"""The scaling series' cost model (sparklr.bench.scaling_model): fits recover known figures."""

import numpy as np
import pytest
from sparklr.bench.scaling_model import (
    FORMS,
    Point,
    Target,
    fit,
    fit_all,
    lanes_of,
    residuals,
)

CPUS = 2
TRUE = {"fixed": 0.03, "per_task": 0.004, "per_byte": 2.5e-10}


def _series(form: str, noise: float = 0.0, with_bytes: bool = True) -> list[Point]:
    """Points t = fixed + per_task g + per_byte B / lanes over N = 2, 4, 8, P = 2 … 256."""
    rng = np.random.default_rng(0)
    points = []
    for n in (2, 4, 8):
        for p in (2, 4, 8, 16, 32, 64, 128, 256):
            for b in (40e6, 400e6) if with_bytes else (0,):
                lanes = lanes_of(n, CPUS)
                t = TRUE["fixed"] + TRUE["per_task"] * FORMS[form](p, n, lanes)
                t += TRUE["per_byte"] * b / lanes + noise * rng.standard_normal()
                points.append(Point(n, 1, p, int(b), t))
    return points


@pytest.mark.parametrize("form", list(FORMS))
def test_fit_recovers_known_coefficients(form):
    model = fit(_series(form), form, CPUS)
    assert model.fixed == pytest.approx(TRUE["fixed"], rel=1e-9)
    assert model.per_task == pytest.approx(TRUE["per_task"], rel=1e-9)
    assert model.per_byte == pytest.approx(TRUE["per_byte"], rel=1e-9)
    assert model.rms < 1e-12


@pytest.mark.parametrize("form", ["P", "P/slots"])
def test_fit_all_puts_the_generating_form_first_despite_noise(form):
    models = fit_all(_series(form, noise=1e-3), CPUS)
    assert models[0].form == form
    assert models[0].rms < models[-1].rms
    assert models[0].per_task == pytest.approx(TRUE["per_task"], rel=0.05)


def test_empty_series_fits_without_a_byte_term():
    model = fit(_series("P", with_bytes=False), "P", CPUS)
    assert model.per_byte == 0.0
    assert model.per_task == pytest.approx(TRUE["per_task"], rel=1e-9)


def test_too_few_points_and_unknown_forms_are_refused():
    with pytest.raises(ValueError, match="cannot fit"):
        fit(_series("P")[:2], "P", CPUS)
    with pytest.raises(ValueError, match="unknown form"):
        fit(_series("P"), "P*N", CPUS)


def test_prediction_of_the_issue_target_uses_every_slot():
    target = Target()
    assert target.slots == 800 and target.total_bytes == 1_000_000_000 * 808
    model = fit(_series("P/slots"), "P/slots", CPUS)
    expected = TRUE["fixed"] + TRUE["per_task"] * 1 + TRUE["per_byte"] * 808e9 / 800
    assert target.predict(model) == pytest.approx(expected, rel=1e-9)


def test_residuals_are_measured_minus_fitted():
    points = _series("P/slots", noise=1e-3)
    model = fit(points, "P/slots", CPUS)
    r = residuals(model, points, CPUS)
    assert np.sqrt(np.mean(r**2)) == pytest.approx(model.rms, rel=1e-12)
    shifted = [Point(p.executors, p.cores, p.blocks, p.bytes, p.seconds + 0.5) for p in points]
    assert residuals(model, shifted, CPUS) == pytest.approx(r + 0.5, abs=1e-12)


def test_one_data_size_leaves_the_byte_term_undetermined_and_two_sizes_determine_it():
    one_size = [p for p in _series("P") if p.bytes == 40e6]
    assert not fit(one_size, "P", CPUS).determined  # B / lanes is a constant: fixed's twin
    assert fit(_series("P"), "P", CPUS).determined


def test_p_and_p_over_lanes_tie_when_every_n_exceeds_the_cores_and_predict_apart():
    models = {m.form: m for m in fit_all(_series("P", noise=1e-3), CPUS)}
    assert models["P/lanes"].rms == pytest.approx(models["P"].rms, rel=1e-9)
    assert models["P/lanes"].per_task == pytest.approx(CPUS * models["P"].per_task, rel=1e-9)
    target = Target()
    assert target.predict(models["P"]) > 10 * target.predict(models["P/lanes"])
