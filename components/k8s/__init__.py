"""Kubernetes components (pulumi-kubernetes): namespace guardrails, workload, network policy, KEDA."""
