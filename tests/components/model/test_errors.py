"""errors: findings that name the file, the line, the YAML path, the problem and the fix."""

from __future__ import annotations

from components.model.errors import InputError, Issue, format_path


def test_a_rendered_issue_reads_file_line_path_message_then_fix() -> None:
    issue = Issue(
        "stacks/tenants.yaml", "tenants[3].region", "outside zone 'eu'", "use eu-west-1", 12
    )
    assert issue.render() == (
        "stacks/tenants.yaml:12: tenants[3].region: outside zone 'eu'\n    fix: use eu-west-1"
    )


def test_an_issue_without_a_line_names_only_the_file() -> None:
    issue = Issue("stacks/Pulumi.dev-aws-eu-central-1.yaml", "config.aws:region", "m", "h")
    assert issue.render().startswith("stacks/Pulumi.dev-aws-eu-central-1.yaml: config.aws:region:")


def test_an_issue_at_the_root_says_document_root() -> None:
    assert (
        Issue("f.yaml", "", "empty", "write a mapping")
        .render()
        .startswith("f.yaml: (document root): empty")
    )


def test_an_input_error_carries_every_issue_and_renders_them_all() -> None:
    issues = [Issue("f", "a", "one", "fix one", 1), Issue("f", "b", "two", "fix two", 2)]
    error = InputError(issues)
    assert error.issues == issues
    assert str(error) == "\n".join(issue.render() for issue in issues)


def test_an_input_error_keeps_its_own_copy_of_the_issues() -> None:
    issues = [Issue("f", "a", "one", "fix one")]
    error = InputError(issues)
    issues.clear()
    assert len(error.issues) == 1


def test_format_path_writes_keys_with_dots_and_indexes_in_brackets() -> None:
    assert format_path(("tenants", 3, "overrides", "app", "max_replicas")) == (
        "tenants[3].overrides.app.max_replicas"
    )


def test_format_path_of_the_root_is_empty() -> None:
    assert format_path(()) == ""


def test_format_path_of_a_leading_index_has_no_dot() -> None:
    assert format_path((0, "id")) == "[0].id"
