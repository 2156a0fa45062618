"""GCP components: one file per concern (network, service agent, key, secret, Cloud SQL, silo, shard)."""
