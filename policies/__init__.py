"""tenancy's pulumi-policy pack: rules as plain functions, run by Pulumi and offline.

Self-contained on purpose: nothing here imports ``components`` or ``infra``,
because ``pulumi preview --policy-pack policies`` uploads this directory alone.
"""
