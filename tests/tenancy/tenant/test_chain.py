"""The evidence chain: ``tenancy evidence verify`` finds edited, removed and reordered entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tenancy.tenant import chain, evidence
from tests.tenancy.tenant.movekit import run_cli


def _chain(tmp_path: Path, entries: int = 4) -> Path:
    path = tmp_path / "evidence" / "chain.jsonl"
    for n in range(entries):
        chain.append(path, "export" if n % 2 == 0 else "erasure", f"t{n}", f"{n:064x}")
    return path


def _verify(path: Path) -> tuple[int, str, str]:
    result = run_cli("evidence", "verify", "--chain", str(path))
    return result.returncode, result.stdout, result.stderr


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))


def test_an_intact_chain_verifies_and_prints_its_head(tmp_path: Path) -> None:
    path = _chain(tmp_path)
    code, out, err = _verify(path)
    assert code == 0, err
    head = json.loads(out)
    assert head["entries"] == 4
    assert head["head"] == json.loads(_lines(path)[-1])["hash"]
    assert [json.loads(line)["seq"] for line in _lines(path)] == [1, 2, 3, 4]
    assert json.loads(_lines(path)[0])["prev"] == chain.GENESIS


def test_an_edited_entry_is_named(tmp_path: Path) -> None:
    path = _chain(tmp_path)
    lines = _lines(path)
    entry = json.loads(lines[2])
    entry["tenant"] = "someone-else"
    lines[2] = chain.canonical(entry)
    _write(path, lines)
    code, _, err = _verify(path)
    assert code == 1
    assert "entry 3" in err and "was edited" in err


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(tmp_path: Path) -> None:
    path = _chain(tmp_path)
    lines = _lines(path)
    entry = json.loads(lines[1])
    entry["content_sha256"] = "f" * 64
    entry["hash"] = chain.entry_hash(entry)  # a forger who knows the scheme
    lines[1] = chain.canonical(entry)
    _write(path, lines)
    code, _, err = _verify(path)
    assert code == 1 and "entry 3" in err and "does not follow" in err


def test_a_removed_entry_is_named(tmp_path: Path) -> None:
    path = _chain(tmp_path)
    lines = _lines(path)
    _write(path, lines[:1] + lines[2:])
    code, _, err = _verify(path)
    assert code == 1 and "entry 2" in err and "removed" in err


def test_reordered_entries_are_named(tmp_path: Path) -> None:
    path = _chain(tmp_path)
    lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    _write(path, lines)
    code, _, err = _verify(path)
    assert code == 1 and "entry 2" in err and "reordered" in err


def test_a_line_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = _chain(tmp_path)
    _write(path, [*_lines(path)[:3], "{not json"])
    code, _, err = _verify(path)
    assert code == 1 and "entry 4" in err and "not JSON" in err


def test_an_edited_evidence_file_no_longer_matches_its_entry(tmp_path: Path) -> None:
    path = tmp_path / "chain.jsonl"
    file = tmp_path / "erasure.json"
    sealed = evidence.seal({"tenant": "acme", "outcome": "erased", "removed": [{"before": 3}]})
    file.write_text(json.dumps(sealed))
    chain.append(path, "erasure", "acme", sealed["content_sha256"], file=str(file))
    assert _verify(path)[0] == 0
    file.write_text(json.dumps({**sealed, "removed": [{"before": 2}]}))
    code, _, err = _verify(path)
    assert code == 1 and "was edited" in err and str(file) in err


def test_appending_refuses_a_broken_chain(tmp_path: Path) -> None:
    path = _chain(tmp_path)
    lines = _lines(path)
    _write(path, lines[1:])
    with pytest.raises(chain.ChainError, match="entry 1"):
        chain.append(path, "export", "acme", "0" * 64)
    assert _lines(path) == lines[1:]


def test_a_missing_chain_is_an_error(tmp_path: Path) -> None:
    code, _, err = _verify(tmp_path / "nope.jsonl")
    assert code == 1 and "no such chain" in err
