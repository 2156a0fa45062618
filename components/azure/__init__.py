"""Azure components: one file per concern (resource group, network, vault, key, flexible server, silo, shard)."""
