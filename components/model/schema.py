"""JSON Schema of the catalog, for editors (yaml-language-server) and tooling."""

from __future__ import annotations

import json
from typing import Any

from .catalog import Catalog

SCHEMA_ID = "https://tenancy.dev/schemas/tenants.schema.json"


def catalog_json_schema() -> dict[str, Any]:
    schema = Catalog.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "tenancy tenant catalog"
    return schema


def catalog_json_schema_text() -> str:
    return json.dumps(catalog_json_schema(), indent=2, sort_keys=True) + "\n"
