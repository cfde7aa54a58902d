"""config.py: TOML + --set → validated dataclasses; every error names the key (no Spark)."""

from __future__ import annotations

import pytest
from sparklr import config as cfg
from sparklr.config import Config, load_config
from sparklr.errors import ConfigError


def test_defaults_and_overrides_are_toml_literals(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[data]\npath = "/d.parquet"\n[train]\nmax_iter = 10\n')
    config = load_config(
        path,
        [
            "train.max_iter=50",
            "train.learning_rate=0.005",
            "train.standardize=false",
            'data.features=["a", "b"]',
            "data.path=/data/x y.csv",  # not a TOML literal: a plain string where one is expected
            "spark.conf.spark.executor.memory=512m",
        ],
    )
    assert isinstance(config, Config)
    assert config.train.max_iter == 50 and config.train.learning_rate == 0.005
    assert config.train.standardize is False and config.data.features == ["a", "b"]
    assert config.data.path == "/data/x y.csv"
    assert config.spark.conf == {"spark.executor.memory": "512m"}
    assert config.train.tol == 1e-6  # untouched default


@pytest.mark.parametrize(
    "override, key",
    [
        ("train.max_itr=5", "train.max_itr"),
        ("trian.max_iter=5", "trian"),
        ("train.max_iter=ten", "train.max_iter"),
        ("train.max_iter=1.5", "train.max_iter"),
        ("train.max_iter=true", "train.max_iter"),
        ("train.max_iter=0", "train.max_iter"),
        ("train.max_iter=-1", "train.max_iter"),
        ("train.learning_rate=0", "train.learning_rate"),
        ("train.learning_rate=-0.5", "train.learning_rate"),
        ("train.learning_rate=inf", "train.learning_rate"),
        ("train.learning_rate=nan", "train.learning_rate"),
        ("train.learning_rate=automatic", "train.learning_rate"),
        ("train.tol=-1e-9", "train.tol"),
        ("train.standardize=yes", "train.standardize"),
        ("data.features=a", "data.features"),
        ('data.features=["a", 1]', "data.features[1]"),
        ('data.features=["a", "a"]', "data.features"),
        ('data.features=["label", "a"]', "data.features"),
        ("data.format=jsn", "data.format"),
        ("data.dtype=float16", "data.dtype"),
        ("data.reader=fast", "data.reader"),
        ("output.overwrite=1", "output.overwrite"),
        ("train.checkpoint_every=-1", "train.checkpoint_every"),
        ("train.max_iter.deep=1", "train.max_iter"),
    ],
)
def test_bad_values_name_the_key(override, key):
    with pytest.raises(ConfigError) as info:
        load_config(None, ["data.path=/d.parquet", override])
    message = str(info.value)
    assert key in message and "\n" not in message


@pytest.mark.parametrize("item", ["train.max_iter", "=5", "", "  =x"])
def test_set_without_key_value(item):
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(None, [item])


def test_malformed_and_missing_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nmax_iter = 3\n")
    with pytest.raises(ConfigError, match=r"malformed TOML in .*bad\.toml"):
        load_config(bad)
    with pytest.raises(ConfigError, match=r"cannot read config file .*missing\.toml"):
        load_config(tmp_path / "missing.toml")
    not_table = tmp_path / "t.toml"
    not_table.write_text('data = "x"\n')
    with pytest.raises(ConfigError, match="config key data must be a table"):
        load_config(not_table)


def test_set_values_are_never_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    payloads = [
        f"__import__('os').system('touch {marker}')",
        f"exec(\"open('{marker}', 'w')\")",
        f"{{'a': open('{marker}', 'w')}}",
    ]
    for payload in payloads:
        with pytest.raises(ConfigError, match=r"train\.max_iter"):
            load_config(None, ["data.path=/d", f"train.max_iter={payload}"])
        # Where a string is expected it stays an inert string.
        config = load_config(None, [f"data.path={payload}"])
        assert config.data.path == payload
    assert not marker.exists()


def test_fingerprint_depends_on_values_only():
    a = load_config(None, ["data.path=/d", "train.max_iter=5"])
    b = load_config(None, ["train.max_iter=5", "data.path=/d"])
    c = load_config(None, ["data.path=/d", "train.max_iter=6"])
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.fingerprint("data") == c.fingerprint("data")


# ------------------------------------------------ the optimizer keys (the optimizers know none)


def test_registry_and_config_list_the_same_optimizers():
    from sparklr import optimizers

    assert tuple(optimizers.REGISTRY) == cfg.OPTIMIZERS
    for name in cfg.OPTIMIZERS:
        assert optimizers.get(name) is optimizers.REGISTRY[name]
        loaded = load_config(None, ["data.format=synthetic", f"train.optimizer={name}"])
        assert loaded.train.optimizer == name
    with pytest.raises(ValueError, match="bfgs"):
        optimizers.get("bfgs")
    with pytest.raises(ConfigError, match=r"train\.optimizer .*gd, lbfgs, newton"):
        load_config(None, ["data.format=synthetic", "train.optimizer=bfgs"])


def test_new_keys_have_the_documented_defaults():
    from sparklr.optimizers import LBFGS_MEMORY, OptimizerOptions

    t = load_config(None, ["data.format=synthetic"]).train
    assert (t.line_search, t.momentum, t.reg_param, t.elastic_net) == (False, "none", 0.0, 0.0)
    assert (t.class_weight, t.init) == ("none", "seed")
    # one lbfgs memory default, the optimizers' (MLlib's and scipy's 10)
    assert t.lbfgs_memory == OptimizerOptions().lbfgs_memory == LBFGS_MEMORY == 10


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
        (["train.lbfgs_memory=-3"], "train.lbfgs_memory"),
        (["train.aggregation_depth=0"], "train.aggregation_depth"),
    ],
)
def test_bad_optimizer_values_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(None, ["data.format=synthetic", *override])


@pytest.mark.parametrize(
    ("override", "words"),
    [
        (["train.momentum=heavy"], "none, nesterov; got 'heavy'"),
        (["train.line_search=true", "train.momentum=nesterov"], "nesterov"),
        (["train.optimizer=newton", "train.reg_param=0.1", "train.elastic_net=1"], "L1"),
    ],
)
def test_optimizer_errors_say_what_is_allowed(override, words):
    with pytest.raises(ConfigError, match=words):
        load_config(None, ["data.format=synthetic", *override])


def test_valid_combinations_load():
    c = load_config(
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
    # newton refuses only a real L1 term: elastic_net without reg_param is no penalty at all
    c = load_config(
        None, ["data.format=synthetic", "train.optimizer=newton", "train.elastic_net=0.5"]
    )
    assert (c.train.optimizer, c.train.reg_param) == ("newton", 0.0)
    c = load_config(None, ["data.format=synthetic", "train.momentum=nesterov"])
    assert c.train.momentum == "nesterov" and not c.train.line_search


def test_tune_keys_and_init_model_have_the_documented_defaults():
    c = load_config(None, ["data.format=synthetic"])
    assert (c.tune.reg_params, c.tune.path, c.tune.path_ratio) == ([], 0, 1e-4)
    assert c.train.init_model == ""
    c = load_config(None, ["data.format=synthetic", "tune.reg_params=[1, 0.1]"])
    assert c.tune.reg_params == [1.0, 0.1]
    u = c.tune
    assert (u.folds, u.seed, u.metric, u.rule) == (0, 0, "log_loss", "min")
    c = load_config(None, ["data.format=synthetic", "tune.reg_params=[1, 0.1]", "tune.folds=5"])
    assert c.tune.folds == 5


@pytest.mark.parametrize(
    ("override", "key"),
    [
        (["tune.path=1"], "tune.path"),
        (["tune.path=-2"], "tune.path"),
        (["tune.path=5", "tune.reg_params=[0.1]"], "tune.path"),
        (["tune.reg_params=[0.1, -1]"], "tune.reg_params"),
        (["tune.reg_params=[inf]"], "tune.reg_params"),
        (["tune.reg_params=0.1"], "tune.reg_params"),
        (["tune.path_ratio=1"], "tune.path_ratio"),
        (["tune.path_ratio=0"], "tune.path_ratio"),
        (["tune.folds=5"], "tune.folds"),  # no λ values to cross-validate
        (["tune.folds=1", "tune.path=3"], "tune.folds"),
        (["tune.folds=101", "tune.path=3"], "tune.folds"),
        (["tune.folds=3", "tune.path=3", "tune.seed=-1"], "tune.seed"),
        (["tune.folds=3", "tune.path=3", "tune.metric='accuracy'"], "tune.metric"),
        (["tune.folds=3", "tune.path=3", "tune.rule='2se'"], "tune.rule"),
    ],
)
def test_bad_tune_values_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(None, ["data.format=synthetic", *override])


@pytest.mark.parametrize(
    ("overrides", "key", "words"),
    [
        (
            ["data.format=jsn", "data.path=/d"],
            "data.format",
            "parquet, csv, libsvm, orc, json, avro",
        ),
        (["data.format=table"], "data.table", 'must name the table when format = "table"'),
        (["data.format=table", "data.table=db.t", "data.path=/d"], "data.path", "not read"),
        (["data.format=orc", "data.path=/d", "data.table=db.t"], "data.table", "only when"),
        (["data.format=json"], "data.path", "must be set"),
        (["data.format=synthetic", "data.filter=x > 0"], "data.filter", "synthetic"),
        (["data.format=synthetic", "data.options.sep=;"], "data.options", "synthetic"),
        (["data.path=/d", "data.filter=' '"], "data.filter", "blank"),
        (["data.path=/d", 'data.options={"" = "x"}'], "data.options", "empty option name"),
        (["data.path=/d", "data.options.sep.deep=1"], "data.options.sep", "must be a string"),
        (["data.path=/d", "data.validation_table=db.v"], "data.validation_table", "table"),
        (
            ["data.format=table", "data.table=db.t", "data.validation_path=/v"],
            "data.validation_path",
            "data.validation_table",
        ),
        (
            ["data.path=/d", "data.validation_path=/v", "data.validation_fraction=0.2"],
            "data.validation_path",
            "data.validation_fraction cannot both",
        ),
        (
            ["data.path=/d", "data.validation_filter=ds = 1", "data.validation_fraction=0.2"],
            "data.validation_filter",
            "unset data.validation_fraction",
        ),
        (["data.format=synthetic", "data.validation_filter=a > 0"], "data.validation_filter", ""),
    ],
)
def test_data_description_errors_name_the_key(overrides, key, words):
    with pytest.raises(ConfigError) as info:
        load_config(None, overrides)
    assert f"config key {key} " in str(info.value) and words in str(info.value)


def test_data_description_keys_load():
    c = load_config(
        None,
        [
            "data.format=table",
            "data.table=db.events",
            "data.filter=ds = '2026-12-01'",
            "data.validation_filter=ds = '2026-12-02'",
            "data.options.mergeSchema=true",
        ],
    )
    d = c.data
    assert (d.table, d.filter, d.validation_filter) == (
        "db.events",
        "ds = '2026-12-01'",
        "ds = '2026-12-02'",
    )
    assert d.options == {"mergeSchema": "true"}
    c = load_config(None, ["data.format=csv", "data.path=/d.csv", 'data.options={sep=";"}'])
    assert c.data.options == {"sep": ";"}
    # a data source class name is any Spark source on the classpath
    c = load_config(None, ["data.format=org.example.Source", "data.path=/d"])
    assert c.data.format == "org.example.Source"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (['data.features=["a"]', "data.features_col=v"], r"data\.features_col and data\.features"),
        (["data.block_type=csr"], r"data\.block_type must be auto, dense or sparse"),
        (["data.num_features=10"], r'data\.num_features is for data\.format = "libsvm"'),
        (["data.format=libsvm", "data.features_col=v"], r'data\.features_col must be "features"'),
        (["data.format=libsvm", "data.num_features=-1"], r"data\.num_features must be ≥ 0"),
        (["data.features_col=label"], r"data\.features_col is the label column"),
    ],
)
def test_vector_input_keys_are_checked(overrides, words):
    with pytest.raises(ConfigError, match=words):
        load_config(None, ["data.path=x", "output.path=o", *overrides])


def test_vector_input_keys_default_to_plain_columns():
    d = load_config(None, ["data.format=libsvm", "data.path=x", "data.num_features=7"]).data
    assert (d.features_col, d.block_type, d.num_features, d.format) == ("", "auto", 7, "libsvm")
