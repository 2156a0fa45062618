"""AWS components: one file per concern (network, key, aurora, silo, shard)."""
