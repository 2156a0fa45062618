"""The evidence chain: ``evidence/chain.jsonl``, one hash-chained JSON object per line.

Each entry holds the previous entry's hash (``prev``; the first one 64 zeros)
and its own ``hash = sha256(prev + canonical JSON of the entry without
"hash")``. Editing an entry changes its hash; removing or reordering entries
breaks ``seq`` and ``prev``. Truncating the *last* entries leaves a shorter,
valid chain: that is why ``verify`` prints the head (count and last hash), to be
recorded somewhere the chain's writer cannot rewrite (a ticket, the audit log).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

DEFAULT_CHAIN = Path("evidence/chain.jsonl")
GENESIS = "0" * 64
KINDS = ("export", "erasure")


def canonical(data: Any) -> str:
    """One spelling of a JSON value: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    body = {key: value for key, value in entry.items() if key != "hash"}
    return sha256_text(str(entry.get("prev", "")) + canonical(body))


def now_utc() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


class ChainError(Exception):
    """The chain is broken or unreadable; the message names the first bad entry."""


@dataclass(frozen=True)
class Head:
    count: int
    hash: str


def read_entries(path: Path) -> list[dict[str, Any]]:
    """Every entry, checked: ChainError names the first one that is not intact."""
    if not path.exists():
        return []
    entries: list[dict[str, Any]] = []
    prev = GENESIS
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{path}: entry {number} (line {number})"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise ChainError(f"{where} is not JSON: {error.msg}") from None
        if not isinstance(entry, dict):
            raise ChainError(f"{where} is not a JSON object")
        _check(entry, where, number, prev)
        entries.append(entry)
        prev = entry["hash"]
    return entries


def _check(entry: dict[str, Any], where: str, number: int, prev: str) -> None:
    if entry.get("seq") != number:
        raise ChainError(
            f"{where} has seq {entry.get('seq')!r}, expected {number}:"
            " an entry before it was removed, or entries were reordered"
        )
    if entry.get("prev") != prev:
        raise ChainError(
            f"{where} (seq {number}) does not follow the entry before it (prev hash differs):"
            " an entry was removed, inserted or reordered"
        )
    if entry.get("hash") != entry_hash(entry):
        raise ChainError(f"{where} (seq {number}) was edited: its hash does not match its content")


def verify(path: Path) -> Head:
    entries = read_entries(path)
    return Head(len(entries), entries[-1]["hash"] if entries else GENESIS)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[TextIO]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        # Two offboardings appending at once must not both take the same seq.
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append(path: Path, kind: str, tenant: str, content_sha256: str, **extra: Any) -> dict[str, Any]:
    """Append one entry after checking the chain so far; returns the entry written."""
    if kind not in KINDS:
        raise ValueError(f"unknown evidence kind {kind!r}")
    with _locked(path) as handle:
        entries = read_entries(path)
        entry: dict[str, Any] = {
            **extra,
            "seq": len(entries) + 1,
            "kind": kind,
            "tenant": tenant,
            "at": now_utc(),
            "content_sha256": content_sha256,
            "prev": entries[-1]["hash"] if entries else GENESIS,
        }
        entry["hash"] = entry_hash(entry)
        handle.seek(0, 2)
        handle.write(canonical(entry) + "\n")
        handle.flush()
    return entry


def latest(entries: list[dict[str, Any]], kind: str, tenant: str) -> dict[str, Any] | None:
    found = [e for e in entries if e.get("kind") == kind and e.get("tenant") == tenant]
    return found[-1] if found else None
