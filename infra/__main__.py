"""Pulumi entry point (Pulumi.yaml: main: infra/). `pulumi up` runs exactly this program."""

from infra.program import run

run()
