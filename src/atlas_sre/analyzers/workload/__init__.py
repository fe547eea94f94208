"""Workload analyzers (k8sgpt-style): why pods crash, wait or get no traffic, with `ATL2xx` codes."""
