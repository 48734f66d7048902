"""deploy/values.yaml is valid for the Zero to JupyterHub chart it is written for.

Helm validates the chart's defaults deep-merged with the user's values against the chart's
``values.schema.json`` before rendering anything; this does the same with the chart's
``values.yaml`` and ``values.schema.yaml`` kept in ``../shared/z2jh`` (see its PROVENANCE.md
for the chart version), so a typo in a key or a wrong type fails here, not at ``helm upgrade``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT.parent / "shared" / "z2jh"
VALUES = ROOT / "deploy" / "values.yaml"

pytestmark = pytest.mark.skipif(
    not (CHART / "values.schema.yaml").is_file(),
    reason=f"{CHART} (the chart's values.yaml and values.schema.yaml) is not here")


def deep_merge(base: dict, override: dict) -> dict:
    """Helm's merge of values: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _errors(values: dict) -> list[str]:
    from jsonschema import Draft7Validator

    schema = yaml.safe_load((CHART / "values.schema.yaml").read_text())
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    merged = deep_merge(defaults, values)
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in Draft7Validator(schema).iter_errors(merged)]


def test_deploy_values_pass_the_charts_schema() -> None:
    values = yaml.safe_load(VALUES.read_text())
    assert not _errors(values), "\n".join(_errors(values))


def test_the_check_catches_a_misspelt_key() -> None:
    values = yaml.safe_load(VALUES.read_text())
    values["singleuser"]["memroy"] = {"limit": "8G"}
    assert any("memroy" in e for e in _errors(values))


def test_deep_merge_keeps_defaults_beside_overrides() -> None:
    assert deep_merge({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"c": 3}, "d": [2]}) == {
        "a": {"b": 1, "c": 3}, "d": [2]}
