"""Helpers of the API tests: package archives, uploads, waiting for background jobs."""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from platform_helpers import PASSWORD, Database, app_with_users, login
from sqlalchemy.orm import Session, sessionmaker

from api.auth.roles import Role
from api.auth.users import Scope

ROOT = Path(__file__).resolve().parents[2]
PKG = Path(__file__).resolve().parent / "data" / "pkg"
MONTH = ROOT / "examples" / "registries" / "2025-03"
ERZ = MONTH / "ERZ_2025-03.csv"
MO, OTHER_MO, SMO, OTHER_SMO = "000001", "000002", "76001", "76003"

USERS: dict[str, tuple[Role, Scope]] = {
    "economist": (Role.ECONOMIST, Scope()),
    "head": (Role.HEAD, Scope()),
    "medic": (Role.MEDIC, Scope()),
    "nsi": (Role.NSI_OPERATOR, Scope()),
    "mo_op": (Role.MO_OPERATOR, Scope(mo_code=MO)),
    "mo_op2": (Role.MO_OPERATOR, Scope(mo_code=OTHER_MO)),
    "smo_op": (Role.SMO_OPERATOR, Scope(smo_code=SMO)),
    "smo_medic": (Role.SMO_MEDIC, Scope(smo_code=SMO)),
}


def zip_dir(root: Path, replace: dict[str, str] | None = None) -> bytes:
    """A ZIP of a package directory; ``replace`` overrides file texts by relative path."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                rel = p.relative_to(root).as_posix()
                zf.writestr(rel, (replace or {}).get(rel, p.read_bytes()))
        for rel, text in (replace or {}).items():
            if not (root / rel).exists():
                zf.writestr(rel, text)
    return buf.getvalue()


def month_files() -> list[Path]:
    return sorted(p for p in MONTH.glob("*.XML"))


@dataclass
class ApiEnv:
    db: Database
    home: Path
    client: TestClient
    sessions: sessionmaker[Session]
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    version_id: int | None = None
    registry_id: int | None = None
    run_id: int | None = None

    def h(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            self.tokens[user] = login(self.client, user, PASSWORD)
        return self.tokens[user]

    def publish(self, replace: dict[str, str] | None = None, user: str = "economist") -> Any:
        r = self.client.post("/methodologies/versions", headers=self.h(user),
                             files={"archive": ("pkg.zip", zip_dir(PKG, replace), "application/zip")})
        if r.status_code in (200, 201) and self.version_id is None:
            self.version_id = r.json()["id"]
        return r

    def upload(self, paths: list[Path], user: str = "economist", *, wait: bool = False,
               data: dict[str, str] | None = None) -> Any:
        files = [("files", (p.name, p.read_bytes(), "application/xml")) for p in paths]
        return self.client.post("/registries" + ("?wait=true" if wait else ""), headers=self.h(user),
                                files=files, data=data or {})

    def wait_registry(self, registry_id: int, user: str = "economist") -> dict[str, Any]:
        return self._wait(f"/registries/{registry_id}", user, ("imported", "rejected"))

    def wait_run(self, run_id: int, user: str = "economist") -> dict[str, Any]:
        return self._wait(f"/runs/{run_id}", user, ("done", "failed"))

    def _wait(self, url: str, user: str, final: tuple[str, ...], timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            r = self.client.get(url, headers=self.h(user))
            assert r.status_code == 200, r.text
            body = r.json()
            if body["status"] in final:
                return body
            assert time.monotonic() < deadline, f"{url}: {body['status']}"
            time.sleep(0.05)

    def upload_month(self, user: str = "economist") -> dict[str, Any]:
        r = self.upload(month_files(), user)
        assert r.status_code == 202, r.text
        body = self.wait_registry(r.json()["id"], user)
        assert body["status"] == "imported", body
        self.registry_id = body["id"]
        return body

    def start_run(self, user: str = "economist", *, insured: bool = True, wait: bool = True,
                  registry_id: int | None = None) -> dict[str, Any]:
        files = {"insured": ("ERZ_2025-03.csv", ERZ.read_bytes(), "text/csv")} if insured else {}
        r = self.client.post("/runs", headers=self.h(user), files=files or None,
                             data={"methodology_version_id": str(self.version_id),
                                   "registry_id": str(registry_id or self.registry_id)})
        assert r.status_code == 202, r.text
        body = r.json()
        if self.run_id is None:
            self.run_id = body["id"]
        return self.wait_run(body["id"], user) if wait else body

    def all_pages(self, url: str, user: str = "economist", **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after = None
        while True:
            q = dict(params, limit=params.get("limit", 100))
            if after is not None:
                q["after"] = after
            r = self.client.get(url, headers=self.h(user), params=q)
            assert r.status_code == 200, r.text
            body = r.json()
            out.extend(body["items"])
            after = body["next_after"]
            if after is None:
                return out

    def close(self) -> None:
        worker = getattr(self.client.app.state, "worker", None)
        if worker is not None:
            worker.shutdown(wait_jobs=True)


def make_env(db: Database, home: Path, threads: int | None = None) -> ApiEnv:
    home.mkdir(parents=True, exist_ok=True)
    app, sessions = app_with_users(db.engine, home, USERS, threads)
    return ApiEnv(db, home, TestClient(app, raise_server_exceptions=False), sessions)
