"""The committed JSON Schema is the model's schema, and the example catalog satisfies it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from components.model.schema import catalog_json_schema, catalog_json_schema_text

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "stacks" / "tenants.schema.json"


def test_committed_schema_is_in_sync_with_the_model() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == catalog_json_schema_text(), (
        "stacks/tenants.schema.json is stale: run `make schema`"
    )


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(catalog_json_schema())


def test_example_catalog_validates_against_the_schema() -> None:
    catalog = yaml.safe_load((ROOT / "stacks" / "tenants.yaml").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(COMMITTED.read_text())).validate(catalog)


def test_example_catalog_points_editors_at_the_schema() -> None:
    first = (ROOT / "stacks" / "tenants.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=tenants.schema.json"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("cloud", "oracle", id="unknown cloud"),
        pytest.param("id", "Not-Valid", id="bad id"),
        pytest.param("regoin", "eu-central-1", id="misspelt key"),
    ],
)
def test_schema_rejects_what_the_model_rejects(field: str, value: str) -> None:
    catalog = yaml.safe_load((ROOT / "stacks" / "tenants.yaml").read_text(encoding="utf-8"))
    catalog["tenants"][0][field] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(catalog_json_schema()).validate(catalog)
