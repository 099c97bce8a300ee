"""Persistence of methodology versions, registries (columnar data), runs, results and defects.

The routers in ``api.server.routes_methodologies|registries|runs``, the background worker
(``api.worker``) and ``metodika run`` all go through this package; see docs/api.md.
"""
