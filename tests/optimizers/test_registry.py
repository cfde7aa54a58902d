import pytest
from sparklr import config as cfg
from sparklr import optimizers
from sparklr.errors import ConfigError


def test_registry_and_config_list_the_same_optimizers():
    assert tuple(optimizers.REGISTRY) == cfg.OPTIMIZERS
    for name in cfg.OPTIMIZERS:
        assert callable(optimizers.get(name))
    with pytest.raises(ValueError, match="bfgs"):
        optimizers.get("bfgs")


def test_new_keys_have_the_documented_defaults():
    t = cfg.load_config(None, ["data.format=synthetic"]).train
    assert (t.line_search, t.momentum, t.reg_param, t.elastic_net) == (False, "none", 0.0, 0.0)
    assert (t.class_weight, t.init) == ("none", "seed")


@pytest.mark.parametrize(
    ("override", "key"),
    [
        (["train.momentum=heavy"], "train.momentum"),
        (["train.reg_param=-1"], "train.reg_param"),
        (["train.elastic_net=1.5"], "train.elastic_net"),
        (["train.class_weight=auto"], "train.class_weight"),
        (["train.init=zero"], "train.init"),
        (["train.line_search=1"], "train.line_search"),
        (["train.line_search=true", "train.momentum=nesterov"], "train.line_search"),
        (
            ["train.optimizer=newton", "train.reg_param=0.1", "train.elastic_net=0.5"],
            "train.optimizer",
        ),
        (["data.weight=label"], "data.weight"),
        (["train.lbfgs_memory=0"], "train.lbfgs_memory"),
    ],
)
def test_bad_values_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        cfg.load_config(None, ["data.format=synthetic", *override])


def test_valid_combinations_load():
    c = cfg.load_config(
        None,
        [
            "data.format=synthetic",
            "train.optimizer=lbfgs",
            "train.reg_param=0.1",
            "train.elastic_net=1",
            "train.class_weight=balanced",
            "train.init=log_odds",
            "data.weight=w",
        ],
    )
    assert c.train.optimizer == "lbfgs" and c.data.weight == "w"
