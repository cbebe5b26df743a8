"""Every setting declared once: the config schema's defaults are the dataclasses' of
ebscan.config, and the names the schema accepts are those the code knows."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest
import yaml

from ebscan.config import (
    FIT_KEYS,
    CatalogConfig,
    GlsConfig,
    InferenceConfig,
    MastConfig,
    PreprocessConfig,
    SurveyConfig,
    TrainingConfig,
)

SCHEMA = Path(__file__).parents[1] / "workflow" / "schemas" / "config.schema.yaml"
SECTIONS = {
    "mast": MastConfig,
    "preprocess": PreprocessConfig,
    "gls": GlsConfig,
    "training": TrainingConfig,
    "catalog": CatalogConfig,
    "inference": InferenceConfig,
}
#: PreprocessConfig fields that are no key of the ``preprocess`` section: ``min_points``
#: is the command line's alternative to ``min_segment_days``, ``gls_method`` comes from
#: the ``gls`` section.
NOT_PREPROCESS_KEYS = {"min_points", "gls_method"}


def schema() -> dict:
    return yaml.safe_load(SCHEMA.read_text())


def field_defaults(cls: type, leave_out: set[str] = frozenset()) -> dict:
    """Field name -> default of a config dataclass."""
    defaults = {}
    for field in dataclasses.fields(cls):
        if field.name in leave_out:
            continue
        if field.default_factory is not dataclasses.MISSING:
            defaults[field.name] = field.default_factory()
        else:
            defaults[field.name] = field.default
    return defaults


def schema_defaults(properties: dict) -> dict:
    """Key -> default of a schema's properties (a key without one is left out)."""
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec}


def mismatches(properties: dict, cls: type, leave_out: set[str] = frozenset()) -> list[str]:
    """Where a schema section and its dataclass disagree: a key in one only, or a default."""
    code = field_defaults(cls, leave_out)
    declared = schema_defaults(properties)
    problems = [f"{key}: in the schema, not in {cls.__name__}" for key in declared.keys() - code]
    problems += [f"{key}: in {cls.__name__}, not in the schema" for key in code.keys() - declared]
    problems += [
        f"{key}: schema default {declared[key]!r}, {cls.__name__} default {code[key]!r}"
        for key in sorted(declared.keys() & code.keys())
        # 0 == False in Python: a boolean must stay a boolean.
        if (declared[key], type(declared[key]) is bool) != (code[key], type(code[key]) is bool)
    ]
    return problems


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_schema_defaults_are_the_dataclass_defaults(section):
    properties = schema()["properties"][section]["properties"]
    leave_out = NOT_PREPROCESS_KEYS if section == "preprocess" else set()
    assert mismatches(properties, SECTIONS[section], leave_out) == []


def test_top_level_defaults_are_the_survey_config():
    properties = {
        key: spec
        for key, spec in schema()["properties"].items()
        if key not in SECTIONS and key != "sectors"  # sectors: required, no default
    }
    assert mismatches(properties, SurveyConfig) == []


def test_a_changed_default_is_found():
    """The comparison itself: a schema default that differs is named, with both values."""
    properties = schema()["properties"]["mast"]["properties"]
    properties["retries"]["default"] = 4
    assert mismatches(properties, MastConfig) == ["retries: schema default 4, MastConfig default 5"]


def written_settings(config: dict, properties: dict, prefix: str = "") -> dict:
    """Key -> (value, schema default) of every setting with a default that a config file
    writes."""
    settings = {}
    for key, value in config.items():
        spec = properties.get(key, {})
        if isinstance(value, dict) and "properties" in spec:
            settings |= written_settings(value, spec["properties"], f"{prefix}{key}.")
        elif "default" in spec:
            settings[prefix + key] = (value, spec["default"])
    return settings


def test_the_documented_config_restates_the_defaults():
    """config/config.yaml writes most settings out for its readers: each must be the
    default, but for the survey's own choices."""
    config = yaml.safe_load((SCHEMA.parents[2] / "config" / "config.yaml").read_text())
    settings = written_settings(config, schema()["properties"])
    assert {key: pair for key, pair in settings.items() if pair[0] != pair[1]} == {
        "products": ({"spoc-2min": None}, {"spoc-2min": {}}),  # the same: no overrides
        "training.sectors": (["1-26"], []),
    }


def test_the_demo_config_sets_only_what_differs_from_the_defaults():
    """config/demo.yaml is valid and every value it writes is one the demo needs: none
    is the default (a restated default would hide a change of it from the demo)."""
    import jsonschema

    config = yaml.safe_load((SCHEMA.parents[2] / "config" / "demo.yaml").read_text())
    jsonschema.validate(config, schema())  # no setting the schema does not know
    settings = written_settings(config, schema()["properties"])
    assert [key for key, (value, default) in settings.items() if value == default] == []


def test_the_gls_method_has_one_default():
    assert PreprocessConfig().gls_method == GlsConfig().method


def test_the_schema_accepts_the_models_of_the_registry():
    from ebscan.models import MODELS

    accepted = schema()["properties"]["training"]["properties"]["model"]["enum"]
    assert sorted(accepted) == sorted(MODELS)


def test_the_train_rule_passes_what_train_model_takes():
    from ebscan.learn.training import train_model

    assert set(FIT_KEYS) <= set(inspect.signature(train_model).parameters)
    assert set(FIT_KEYS) <= {field.name for field in dataclasses.fields(TrainingConfig)}
