"""Server-rendered pages of the control tower."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from keel.platform.api import KeelDep

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def inventory_page(request: Request, keel: KeelDep) -> HTMLResponse:
    items, total = keel.queries.positions(limit=50)
    return templates.TemplateResponse(request, "inventory.html", {"positions": items, "total": total})
