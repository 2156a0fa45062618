"""Images by digest in prod (issue 15, item 4): a tag is exit 2 with the digest form as
the fix; dev may use tags; the pull policy follows the reference kind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from components.model.appconfig import parse_app_settings
from components.model.errors import InputError
from tests.support.planview import planned
from tests.tenancy.test_cli import STACKS, assert_bad_input, run_tenancy

DIGEST = "ghcr.io/acme/tenant-api@sha256:" + "ab12" * 16
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@pytest.mark.parametrize("image", ["ghcr.io/acme/tenant-api:1.4.2", "registry:5000/api:v2"])
def test_prod_rejects_a_tagged_image_with_the_digest_form_as_the_fix(image: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_app_settings({"image": image}, "Pulumi.prod.yaml", "aws", production=True)
    (issue,) = caught.value.issues
    assert issue.path == "config.tenancy:app.image"
    assert "not a digest reference" in issue.message
    assert "@sha256:<64 hex digits>" in issue.hint


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/acme/tenant-api",  # no tag, no digest
        "ghcr.io/acme/tenant-api@sha256:abc",  # truncated digest
        "ghcr.io/acme/tenant-api@sha256:" + "AB12" * 16,  # digests are lower-case hex
    ],
)
def test_prod_rejects_an_unpinned_or_malformed_reference(image: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_app_settings({"image": image}, "Pulumi.prod.yaml", "aws", production=True)
    (issue,) = caught.value.issues
    assert issue.path == "config.tenancy:app.image"
    assert "not a pinned image reference" in issue.message


def test_prod_rejects_the_default_tagged_image_when_none_is_given() -> None:
    with pytest.raises(InputError):
        parse_app_settings({}, "Pulumi.prod.yaml", "gcp", production=True)


def test_prod_accepts_a_digest_and_pulls_if_not_present() -> None:
    for image in (DIGEST, "ghcr.io/acme/tenant-api:1.4.2@sha256:" + "ab12" * 16):
        app = parse_app_settings({"image": image}, "f", "azure", production=True)
        assert app.image == image
        assert app.image_pull_policy == "IfNotPresent"


def test_dev_may_use_a_tag_and_pulls_it_always() -> None:
    app = parse_app_settings({"image": "ghcr.io/acme/tenant-api:1.4.2"}, "f", "aws")
    assert app.image_pull_policy == "Always"


@pytest.mark.parametrize(
    ("stack", "policy"),
    [("prod-aws-eu-central-1", "IfNotPresent"), ("dev-gcp-us-central1", "Always")],
)
def test_every_container_of_a_plan_has_the_pull_policy_of_its_image(
    stack: str, policy: str
) -> None:
    deployments = planned(stack).of_type(DEPLOYMENT)
    assert deployments
    for deployment in deployments:
        for container in deployment["inputs"]["spec"]["template"]["spec"]["containers"]:
            pinned = "@sha256:" in container["image"]
            assert container["imagePullPolicy"] == ("IfNotPresent" if pinned else "Always")
            # The app's image is the stack's (a tag in dev); the GCP pooler's (and its
            # reloader's) is a digest.
            if deployment["name"].endswith("-workload-deployment"):
                assert container["imagePullPolicy"] == policy


def test_plan_of_a_prod_stack_with_a_tagged_image_exits_2_with_the_digest_form(
    tmp_path: Path,
) -> None:
    stack = "prod-gcp-us-central1"
    shutil.copy(STACKS / "tenants.yaml", tmp_path / "tenants.yaml")
    text = (STACKS / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
    tagged = [line for line in text.splitlines() if "image:" in line]
    (line,) = tagged
    text = text.replace(line, "    image: ghcr.io/tenancy/tenant-api:0.1.0")
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")
    result = run_tenancy("plan", stack, stacks=tmp_path)
    (found,) = assert_bad_input(result, "not a digest reference")
    assert found["path"] == "config.tenancy:app.image"
    assert "@sha256:<64 hex digits>" in result.stderr
