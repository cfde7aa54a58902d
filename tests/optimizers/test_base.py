"""sparklr.optimizers.base: the JSON form of the optimizer state's arrays."""

import json

import numpy as np
import pytest
from sparklr.optimizers import OptimizerState
from sparklr.optimizers.base import array_from_json, array_to_json


def test_arrays_round_trip_through_json_bit_for_bit_and_older_lists_still_read():
    a = np.array([0.1, -0.0, 1e-310, np.pi, -2.5e300, 7.0])
    back = array_from_json(json.loads(json.dumps(array_to_json(a))))
    assert back.dtype == np.float64 and back.tobytes() == a.tobytes()
    assert array_from_json([1.0, 2.0]).tolist() == [1.0, 2.0]  # theta's and older checkpoints'
    assert array_from_json({"ndarray": [3.0]}).tolist() == [3.0]
    state = OptimizerState(2, np.zeros(3), memory={"s": [a], "y": [2 * a]})
    restored = OptimizerState.from_json(json.loads(json.dumps(state.to_json())))
    assert restored.memory["y"][0].tobytes() == (2 * a).tobytes()
    for bad in ({"float64": "%%"}, {"float64": "AAAA"}, {"float64": 3}, "text"):
        with pytest.raises((ValueError, TypeError)):
            array_from_json(bad)
