"""The pretrained model's recipe: star-disjoint roles, labelled examples, calibration."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ebscan.learn.recipe import (
    HIDDEN_EB,
    Example,
    RecipeConfig,
    calibrate,
    claim_work,
    examples,
    fit_platt,
    main,
    make_example,
    preprocess_config_for,
    real_light_curves,
    role_of,
    training_tables,
)
from ebscan.learn.training import read_training_set

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(spoc_dir) -> RecipeConfig:
    return RecipeConfig.from_yaml(REPO / "config" / "pretrained.yaml")


def test_roles_come_from_the_tic_alone():
    roles = [role_of(tic, 7, 0.25, 0.15) for tic in range(20_000)]
    assert roles == [role_of(tic, 7, 0.25, 0.15) for tic in range(20_000)]
    assert roles.count("test") / len(roles) == pytest.approx(0.25, abs=0.01)
    assert roles.count("validation") / len(roles) == pytest.approx(0.15, abs=0.01)
    assert roles != [role_of(tic, 8, 0.25, 0.15) for tic in range(20_000)]


def test_config_names_every_setting(tmp_path):
    text = (REPO / "config" / "pretrained.yaml").read_text()
    (tmp_path / "extra.yaml").write_text(text + "colour: blue\n")
    with pytest.raises(ValueError, match=r"unknown keys \['colour'\], missing keys \[\]"):
        RecipeConfig.from_yaml(tmp_path / "extra.yaml")


@pytest.mark.shared
def test_no_star_on_two_sides(config):
    real = real_light_curves(config)
    assert len(real) == 1807  # every labelled light curve but the corrupt file
    roles_by_tic = {}
    for row in real:
        roles_by_tic.setdefault(row["tic"], set()).add(row["role"])
    assert all(len(roles) == 1 for roles in roles_by_tic.values())
    # Every real 2-minute EB measures the model; none trains it.
    two_minute_ebs = [r for r in real if r["cadence"] == 2.0 and r["class"] == "EB"]
    assert len(two_minute_ebs) == 23 and {r["role"] for r in two_minute_ebs} == {"test"}
    assert sum(r["class"] == HIDDEN_EB for r in real) == 95
    tic_of = {r["path"]: r["tic"] for r in real}
    made = examples(config, real)
    test_tics = {r["tic"] for r in real if r["role"] == "test"}
    for example in made:
        if example.role in ("train", "validation") and not example.host.startswith("simulated"):
            assert tic_of[example.host] not in test_tics
    # Hosts of injections are never EBs or planet hosts.
    assert {e.host_class for e in made if e.signal} <= {
        "non-variable", "unverified", "gamma Dor", "delta Sct", "RR Lyr",
        "flaring or jumping", "simulated",
    }  # fmt: skip
    assert len({e.key for e in made}) == len(made)


@pytest.mark.shared
def test_examples_are_labelled_per_segment(config, ffi_kepler_dir):
    from ebscan.sim.eclipses import EclipsePopulation

    population = EclipsePopulation.default()
    host = str(ffi_kepler_dir / "198314134.fits")  # a bright quiet star, two segments
    strong = replace(config, shallow_fraction=0.0)

    def labels(signal: str, host_class: str = "non-variable", cfg=strong) -> list:
        example = Example(f"k:{signal}", "train", host, host_class, 30.0, signal=signal)
        result, per_segment = make_example((example, cfg, population))
        assert result.path == f"k:{signal}" and len(per_segment) == len(result.segments) == 2
        return per_segment

    assert [label for label, _ in labels("")] == [0, 0]
    assert [label for label, _ in labels("", HIDDEN_EB)] == [None, None]
    assert [label for label, _ in labels("", "EB")] == [1, 1]
    assert [label for label, _ in labels("planet_transit")] == [0, 0]
    # Contact binaries at catalogued depths: eclipses everywhere, far above S/N 10.
    contact = labels("contact")
    assert [label for label, _ in contact] == [1, 1] and min(s for _, s in contact) > 10
    # With every eclipse scaled to a hundredth of a percent, none is seen: left out.
    faint = replace(config, shallow_fraction=1.0, min_depth_scale=1e-4, min_snr=1e9)
    assert [label for label, _ in labels("detached", cfg=faint)] == [None, None]


def test_only_training_and_validation_examples_get_the_training_resampling():
    from ebscan.config import PreprocessConfig

    shipped = RecipeConfig.from_yaml(REPO / "config" / "pretrained.yaml")
    # The pretrained model trained on the survey's resampling (docs/model-card.md, v13).
    assert shipped.training_spline_mode == PreprocessConfig().spline_mode == "binned"
    config = replace(shipped, training_spline_mode="adaptive")
    for role in ("train", "validation"):
        assert preprocess_config_for(config, role) == PreprocessConfig(spline_mode="adaptive")
    # Held-out examples are resampled as the survey resamples every light curve.
    for role in ("test", "sensitivity"):
        assert preprocess_config_for(config, role) == PreprocessConfig()


def test_platt_scaling_recovers_a_known_calibration():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, 20_000)
    labels = (rng.random(logits.size) < 1 / (1 + np.exp(-(0.5 * logits - 1.0)))).astype(int)
    slope, offset = fit_platt(logits, labels)
    assert slope == pytest.approx(0.5, abs=0.03)
    assert offset == pytest.approx(-1.0, abs=0.05)


def test_calibration_folds_into_the_output_layer():
    import keras

    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, activation="sigmoid", name="dense")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="output")(hidden))
    x = np.random.default_rng(1).normal(size=(16, 3)).astype("float32")
    kernel, bias = model.get_layer("output").get_weights()
    h = keras.Model(inputs, hidden).predict_on_batch(x)
    logit = h @ (kernel[:, 1] - kernel[:, 0]) + bias[1] - bias[0]
    calibrate(model, 0.4, 0.7)
    expected = 1 / (1 + np.exp(-(0.4 * logit + 0.7)))
    np.testing.assert_allclose(model.predict_on_batch(x)[:, 1], expected, rtol=1e-5)


def test_a_work_folder_serves_only_the_settings_it_was_made_with(config, tmp_path, capsys):
    claim_work(config, tmp_path)
    claim_work(replace(config, jobs=config.jobs + 3), tmp_path)  # speed only: same run
    changed = replace(config, seed=config.seed + 1, hparams={**config.hparams, "dropout": 0.3})
    with pytest.raises(ValueError) as raised:
        claim_work(changed, tmp_path)
    assert str(raised.value) == (
        f"{tmp_path} was made with other settings (hparams, seed); "
        "give the recipe a new --work folder"
    )
    (tmp_path / "config.yaml").write_text(
        (REPO / "config" / "pretrained.yaml")
        .read_text()
        .replace("seed: 2025", "seed: 7")
        .replace("shared: ../../shared", f"shared: {config.shared}")
    )
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(tmp_path / "config.yaml"), "--work", str(tmp_path)])
    assert exited.value.code == 2
    assert "was made with other settings (seed);" in capsys.readouterr().err


def test_a_record_from_before_a_setting_existed_made_its_old_value(config, tmp_path):
    """A work folder recorded before ``real_repeats`` existed used each real segment
    once: it serves ``real_repeats: 1`` and no other value."""
    claim_work(replace(config, real_repeats=1), tmp_path)
    record = tmp_path / "recipe.json"
    old = json.loads(record.read_text())
    del old["real_repeats"]
    record.write_text(json.dumps(old))
    claim_work(replace(config, real_repeats=1), tmp_path)
    with pytest.raises(ValueError, match=r"other settings \(real_repeats\)"):
        claim_work(replace(config, real_repeats=3), tmp_path)


def test_a_work_folder_of_unrecorded_settings_is_refused(config, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "examples.csv").write_text("shard,row\n")
    with pytest.raises(ValueError) as raised:
        claim_work(config, tmp_path)
    assert str(raised.value) == (
        f"{tmp_path} holds examples.csv, model of a run whose settings it does not record; "
        "give the recipe a new --work folder"
    )
    assert not (tmp_path / "recipe.json").exists()


def test_real_training_segments_are_repeated_and_nothing_else(tmp_path):
    from ebscan.atomic import write_csv

    fields = ("shard", "row", "tic", "sector", "segment", "label", "subtype", "key", "role",
              "host_class", "cadence", "signal", "snr")  # fmt: skip
    examples_table = [
        {"key": "real-eb", "role": "train", "host_class": "EB", "signal": "", "label": 1},
        {"key": "real-quiet", "role": "train", "host_class": "non-variable", "signal": "",
         "label": 0},
        {"key": "injected", "role": "train", "host_class": "non-variable",
         "signal": "detached", "label": 1},
        {"key": "simulated", "role": "train", "host_class": "simulated", "signal": "",
         "label": 0},
        {"key": "faint", "role": "train", "host_class": "non-variable", "signal": "detached",
         "label": ""},
        {"key": "validation", "role": "validation", "host_class": "EB", "signal": "",
         "label": 1},
    ]  # fmt: skip
    for row, example in enumerate(examples_table):
        example.update(shard="shard.h5", row=row, tic=row, sector=14, segment=0, subtype="",
                       cadence=30.0, snr="")  # fmt: skip
    write_csv(tmp_path / "examples.csv", examples_table, fields)
    train, validation = training_tables(tmp_path, tmp_path / "examples.csv", real_repeats=3)
    assert [r["row"] for r in read_training_set(train)] == [0, 0, 0, 1, 1, 1, 2, 3]
    assert [r["row"] for r in read_training_set(validation)] == [5]
    with pytest.raises(ValueError, match="real_repeats must be 1 or more, not 0"):
        training_tables(tmp_path, tmp_path / "examples.csv", real_repeats=0)
