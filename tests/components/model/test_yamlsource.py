"""yamlsource: YAML text -> data plus the line of every YAML path, or an InputError."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from components.model.errors import InputError, Issue
from components.model.yamlsource import MAX_DEPTH, line_of, load_yaml

FILE = "stacks/tenants.yaml"

CATALOG = """\
version: 1
tiers:
  free:
    isolation: pool
    database:
      min_capacity: 0.5
tenants:
  - id: acme
    tier: free
  - id: hooli
    region: eu-west-1
"""


def _only_issue(text: str) -> Issue:
    with pytest.raises(InputError) as caught:
        load_yaml(text, FILE)
    (issue,) = caught.value.issues
    assert issue.file == FILE
    assert issue.hint
    return issue


def test_mapping_document_loads_as_plain_data() -> None:
    data, _ = load_yaml(CATALOG, FILE)
    assert data == {
        "version": 1,
        "tiers": {"free": {"isolation": "pool", "database": {"min_capacity": 0.5}}},
        "tenants": [{"id": "acme", "tier": "free"}, {"id": "hooli", "region": "eu-west-1"}],
    }


def test_every_key_is_indexed_at_its_own_line() -> None:
    _, lines = load_yaml(CATALOG, FILE)
    assert lines[("version",)] == 1
    assert lines[("tiers",)] == 2
    assert lines[("tiers", "free", "isolation")] == 4
    assert lines[("tiers", "free", "database", "min_capacity")] == 6


def test_a_nested_mapping_is_indexed_at_its_key_not_at_its_first_child() -> None:
    _, lines = load_yaml(CATALOG, FILE)
    assert lines[("tiers", "free")] == 3
    assert lines[("tiers", "free", "database")] == 5


def test_sequence_items_are_indexed_by_position_at_the_item_line() -> None:
    _, lines = load_yaml(CATALOG, FILE)
    assert lines[("tenants", 0)] == 8
    assert lines[("tenants", 1)] == 10
    assert lines[("tenants", 1, "region")] == 11


def test_the_document_root_is_indexed_under_the_empty_path() -> None:
    _, lines = load_yaml("\n\nversion: 1\n", FILE)
    assert lines[()] == 3


def test_flow_style_collections_are_indexed_too() -> None:
    _, lines = load_yaml("zones:\n  eu: {aws: [eu-central-1, eu-west-1]}\n", FILE)
    assert lines[("zones", "eu", "aws")] == 2
    assert lines[("zones", "eu", "aws", 1)] == 2


def test_line_of_falls_back_to_the_closest_enclosing_path() -> None:
    _, lines = load_yaml(CATALOG, FILE)
    # A missing field is reported at the mapping that should hold it.
    assert line_of(lines, ("tenants", 0, "region")) == 8
    assert line_of(lines, ("tiers", "free", "database", "max_capacity", "x")) == 5


def test_line_of_an_unknown_top_level_path_is_the_root_line() -> None:
    _, lines = load_yaml("# comment\nversion: 1\n", FILE)
    assert line_of(lines, ("tenants",)) == 2


def test_line_of_is_none_when_nothing_was_indexed() -> None:
    assert line_of({}, ("tenants", 0)) is None


def test_an_empty_document_loads_as_none_with_no_lines() -> None:
    assert load_yaml("", FILE) == (None, {})
    assert load_yaml("# only a comment\n", FILE) == (None, {})


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("- a\n- b\n", ["a", "b"]),
        ("just text\n", "just text"),
        ("42\n", 42),
    ],
    ids=["sequence", "string", "number"],
)
def test_a_non_mapping_root_is_returned_for_the_caller_to_reject(text: str, data: object) -> None:
    # Which root a document needs is the caller's rule (catalog, stack file): not an error here.
    loaded, lines = load_yaml(text, FILE)
    assert loaded == data
    assert lines[()] == 1


def test_a_duplicate_key_is_an_error_at_the_line_of_the_second_key() -> None:
    issue = _only_issue("version: 1\ntiers:\n  free: {}\n  free: {}\n")
    assert issue.line == 4
    assert issue.path == ""
    assert "duplicate key 'free'" in issue.message
    assert "YAML syntax" in issue.hint


def test_the_same_key_in_two_different_mappings_is_not_a_duplicate() -> None:
    data, _ = load_yaml("a: {id: 1}\nb: {id: 2}\n", FILE)
    assert data == {"a": {"id": 1}, "b": {"id": 2}}


def test_keys_equal_after_yaml_typing_are_duplicates() -> None:
    # '1' and '0x1' are both the integer 1 once constructed: the second would overwrite.
    issue = _only_issue("1: a\n0x1: b\n")
    assert issue.line == 2
    assert "duplicate key 1" in issue.message


@pytest.mark.parametrize(
    "text",
    ["? [a, b]\n: 1\n", "{[a]: 1}\n", "? {a: 1}\n: 2\n"],
    ids=["block sequence key", "flow sequence key", "mapping key"],
)
def test_a_collection_used_as_a_key_is_an_input_error_not_a_crash(text: str) -> None:
    issue = _only_issue(text)
    assert "unhashable key" in issue.message
    assert issue.line == 1


def test_malformed_yaml_names_the_problem_and_its_line() -> None:
    issue = _only_issue("version: 1\ntiers:\n  free: {isolation: pool\ntenants: []\n")
    assert issue.message.startswith("malformed YAML: ")
    assert issue.line is not None and issue.line >= 3
    assert "indentation, quotes" in issue.hint


def test_a_tab_indent_is_malformed_yaml_with_its_line() -> None:
    issue = _only_issue("version: 1\ntiers:\n\tfree: {}\n")
    assert issue.message.startswith("malformed YAML: ")
    assert issue.line == 3


def test_python_specific_tags_are_refused_by_the_safe_loader() -> None:
    issue = _only_issue("version: !!python/object/apply:os.system ['true']\n")
    assert issue.message.startswith("malformed YAML: ")
    assert issue.line == 1


def test_nesting_beyond_the_limit_is_an_error_not_a_crash() -> None:
    issue = _only_issue("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert issue.message == "the YAML is nested too deeply to read"
    assert issue.line is None
    assert "flatten" in issue.hint


def test_nesting_at_the_limit_still_loads() -> None:
    data, _ = load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH, FILE)
    for _ in range(MAX_DEPTH - 1):
        (data,) = data
    assert data == []


def test_an_alias_is_indexed_at_its_anchor_line() -> None:
    text = "base: &db\n  pitr: true\nfree:\n  database: *db\n"
    data, lines = load_yaml(text, FILE)
    assert data["free"]["database"] == {"pitr": True}
    assert lines[("free", "database")] == 4
    assert lines[("base", "pitr")] == 2


def test_a_recursive_anchor_loads_without_looping() -> None:
    data, lines = load_yaml("loop: &a [*a]\n", FILE)
    assert data["loop"][0] is data["loop"]
    assert lines[("loop", 0)] == 1


def test_nested_aliases_are_indexed_in_linear_time() -> None:
    # "Billion laughs": ten levels of ten aliases would be 10**10 paths if walked naively.
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 10):
        levels.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]")
    _, lines = load_yaml("\n".join(levels) + "\n", FILE)
    assert len(lines) < 200


# Keys that stay text: YAML 1.1 reads words like "no", "on" or "null" as booleans/null.
keys = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda key: yaml.safe_load(f"{key}: 1") == {key: 1}
)


@settings(max_examples=50, deadline=None)
@given(st.lists(keys, min_size=1, max_size=20, unique=True), st.integers(0, 3))
def test_each_top_level_key_is_found_at_the_line_it_was_written_on(
    names: list[str], blank_lines: int
) -> None:
    text = "\n" * blank_lines + "".join(f"{name}: {index}\n" for index, name in enumerate(names))
    data, lines = load_yaml(text, FILE)
    assert data == {name: index for index, name in enumerate(names)}
    for index, name in enumerate(names):
        assert lines[(name,)] == blank_lines + index + 1


@settings(max_examples=50, deadline=None)
@given(
    st.recursive(
        st.one_of(st.integers(), st.booleans(), st.text(max_size=8), st.none()),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_any_safe_dumped_data_loads_back_unchanged(data: object) -> None:
    assert load_yaml(yaml.safe_dump(data), FILE)[0] == data
