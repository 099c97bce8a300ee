"""The routers of the application. Plugging one in = one line here.

Each module listed exposes ``router: fastapi.APIRouter``. Guard every endpoint with
``Depends(require(Action.…))`` from :mod:`api.server.deps` and scope row queries with
:func:`api.auth.scoping.apply_scope`.
"""

from __future__ import annotations

ROUTER_MODULES: list[str] = [
    "api.server.routes_health",
    "api.server.routes_auth",
    "api.server.routes_users",
    "api.server.routes_audit",
    "api.server.routes_methodologies", "api.server.routes_registries", "api.server.routes_runs",
    "api.web",
]
