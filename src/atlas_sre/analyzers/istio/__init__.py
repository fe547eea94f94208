"""Mesh analyzers: istioctl-analyze codes where Istio has one, `ATL1xx` for what a careful SRE adds."""
