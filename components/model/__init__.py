"""Pure-Python model of tenancy: catalog, validation, naming, placement, tags.

Nothing in this package imports Pulumi, so it is unit-tested without mocks and
can be reused by the CLI, the policy pack's config generator and the SQL planner.
"""
