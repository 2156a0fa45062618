"""The README's autoscaling table is the one generated from the model (freshness check)."""

from __future__ import annotations

from pathlib import Path

from components.model.autoscaling import KNOBS, knob_table_markdown
from components.model.catalog import AppProfile, DatabaseProfile

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_shows_the_generated_knob_table() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- knob-table:start -->\n") + len("<!-- knob-table:start -->\n")
    end = text.index("<!-- knob-table:end -->")
    assert text[start:end] == knob_table_markdown(), "regenerate the table: knob_table_markdown()"


def test_every_autoscaling_field_of_the_profile_is_in_the_table() -> None:
    listed = " ".join(knob.field for knob in KNOBS)
    scaling = {
        "app": set(AppProfile.model_fields),
        "database": set(DatabaseProfile.model_fields)
        - {
            "backup_retention_days",
            "pitr",
            "high_availability",
            "connection_limit",
            "statement_timeout_ms",
            "maintenance_window",
            "audit",  # logging and alarm thresholds, not scaling knobs (README: audit)
            "monitoring",
            "postgres_major_version",  # the engine, not a scaling knob
        },
    }
    for section, fields in scaling.items():
        for field in fields:
            short = field.replace("cpu_request_millicores", "cpu_/memory_request/limit")
            assert field in listed or short in listed or _request_limit(field), f"{section}.{field}"


def _request_limit(field: str) -> bool:
    return field.startswith(("cpu_request", "cpu_limit", "memory_request", "memory_limit"))
