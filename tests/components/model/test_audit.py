"""The audit section resolved per server (pure model, no mocks)."""

from __future__ import annotations

from components.model.audit import ServerAudit, postgres_settings, resolve_audit


def test_a_regulated_server_records_writes_and_keeps_logs_a_year() -> None:
    audit = resolve_audit(None, 1000, None, ["gdpr", "hipaa"])
    assert audit.log_classes == ("ddl", "role", "write")
    assert audit.log_retention_days == 365 and audit.regulated


def test_an_unregulated_server_records_ddl_and_roles() -> None:
    audit = resolve_audit(None, 1000, None, ["gdpr", "soc2"])
    assert audit.log_classes == ("ddl", "role")
    assert audit.log_retention_days == 90 and not audit.regulated


def test_the_tiers_choice_wins_over_the_frameworks_default() -> None:
    audit = resolve_audit(["read", "ddl"], 250, 30, ["pci"])
    assert audit.log_classes == ("ddl", "read")
    assert (audit.slow_statement_ms, audit.log_retention_days) == (250, 30)


def test_server_settings_log_connections_locks_checkpoints_and_slow_statements() -> None:
    settings = postgres_settings(ServerAudit(slow_statement_ms=500))
    assert settings["pgaudit.log"] == "ddl,role"
    assert settings["log_min_duration_statement"] == "500"
    for event in ("log_connections", "log_disconnections", "log_lock_waits", "log_checkpoints"):
        assert settings[event] == "on"
