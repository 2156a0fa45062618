"""The cell's resource group: everything of one Azure cell lives in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure


@dataclass(frozen=True)
class ResourceGroupArgs:
    name: str  # physical name from the naming module
    location: str
    tags: Mapping[str, str]
    protect: bool = False  # Pulumi `protect`: deleting the group deletes every server in it


class ResourceGroup(pulumi.ComponentResource):
    name: pulumi.Output[str]

    def __init__(
        self, name: str, args: ResourceGroupArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("tenancy:azure:ResourceGroup", name, None, opts)
        group = azure.resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.name,
            location=args.location,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.name = group.name
        self.register_outputs({"name": self.name})
