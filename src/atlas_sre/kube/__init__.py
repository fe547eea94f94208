"""kube room: Kubernetes vocabulary every other room shares, one definition each.

Quantities (`quantity`), a pod's requests and QoS (`requests`), label selectors as stored in objects
(`labels`) and as query strings (`selectors`), generated-name conventions (`names`) and the
well-known namespaces (`namespaces`). The bottom layer: it imports nothing from atlas_sre.
"""
