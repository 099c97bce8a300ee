"""Server-rendered web pages for fund staff and methodologists (Jinja2, no JS framework).

Plugged in by one line in :data:`api.server.routers.ROUTER_MODULES`; every page checks the
same permission table and scoping as the API. See docs/web.md.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web import (
    auth_pages,
    explain,
    forms_pages,
    methodologies,
    registries,
    runs,
    workbench_actions,
    workbench_pages,
)

router = APIRouter(include_in_schema=False)
for _module in (auth_pages, registries, runs, explain, forms_pages, methodologies, workbench_pages,
                workbench_actions):
    router.include_router(_module.router)
