"""Server-rendered web pages for fund staff and methodologists (Jinja2, no JS framework).

Plugged in by one line in :data:`api.server.routers.ROUTER_MODULES`; every page checks the
same permission table and scoping as the API. See docs/web.md.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web import auth_pages, explain, forms_pages, methodologies, registries, runs

router = APIRouter(include_in_schema=False)
for _module in (auth_pages, registries, runs, explain, forms_pages, methodologies):
    router.include_router(_module.router)
