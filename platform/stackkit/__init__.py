"""The platform's service catalogue: each service declared once, in its folder's manifest
(``services/<name>/service.yaml``), and everything that lists services derived from them.

Read ``manifest.py`` first (what a manifest says, and the checks across manifests), then
``derived.py`` (every derived file, written by `make generate` and checked by
`make check-generated`); ``local.py`` derives the local stack's files, ``workload.py``
(names and settings from ``k8s.py``), ``overlays.py`` and ``netpol.py`` the cluster's.
``cluster.py`` reads the manifests' optional ``cluster`` key.
"""
