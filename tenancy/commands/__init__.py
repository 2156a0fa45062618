"""The command groups of ``tenancy``: a new command is one module here plus one line below.

Each module defines ``register(subparsers)``, which adds its sub-parsers and
sets ``handler`` on them; ``tenancy/cli.py`` turns what a handler returns or
raises into the exit code.
"""

from tenancy.commands import check, cost, db, diff, docs, evidence, plan, policyconfig, tenant

COMMANDS = (
    plan,  # tenancy plan, tenancy schema
    check,  # tenancy check, tenancy compliance
    diff,  # tenancy diff, tenancy stacks
    db,  # tenancy db plan|apply
    policyconfig,  # tenancy policy-config
    docs,  # tenancy docs
    cost,  # tenancy cost
    tenant,  # tenancy tenant move|restore|export|import|erase
    evidence,  # tenancy evidence verify
)
