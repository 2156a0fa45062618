"""Operational tooling for one tenant's data: ``tenancy tenant move|restore|export|import|erase``.

Not Pulumi: these modules talk to live servers with psycopg. The SQL they need
comes from ``components/postgres`` (the data model and the plan statements),
so a moved tenant ends up exactly as ``tenancy db apply`` would have laid it out.
"""
