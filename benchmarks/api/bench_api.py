"""API benchmark: a 10,000-case registry uploaded and run through the HTTP API, then explain.

Starts ``uvicorn`` in a subprocess on a fresh METODIKA_HOME (embedded SQLite unless
``--database-url``), talks to it with httpx like any client would::

    python3 -m benchmarks.api.bench_api --cases 10000 --explain 200

Figures: upload → imported (ФЛК + columnar file), run submit → done (compile, bind, evaluate,
settle, store rows), result paging, explain of one case (first request builds the dataset
cache; p50/p95 over the rest).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "tests" / "api" / "data" / "pkg"
PASSWORD = "bench-password-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _zip(root: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(root).as_posix())
    return buf.getvalue()


def _prepare(home: Path, env: dict[str, str]) -> None:
    code = ("from api.cli.cmd_db import open_database; from api.auth.users import create_user; "
            "from api.auth.roles import Role; _, s = open_database(); "
            "ses = s(); ses.begin(); "
            f"create_user(ses, login='economist', password='{PASSWORD}', role=Role.ECONOMIST, actor='bench'); "
            "ses.commit()")
    if env.get("METODIKA_DATABASE_URL"):
        subprocess.run([sys.executable, "-m", "api.cli.main", "db", "upgrade"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)


def _wait(client: httpx.Client, url: str, final: tuple[str, ...]) -> dict:
    while True:
        body = client.get(url).json()
        if body["status"] in final:
            return body
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--mo", type=int, default=5)
    ap.add_argument("--explain", type=int, default=200, help="число запросов explain")
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (по умолчанию — SQLite в METODIKA_HOME)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="metodika-bench-api-"))
    home, reg_dir = work / "home", work / "registry"
    home.mkdir()
    env = {**os.environ, "METODIKA_HOME": str(home), "METODIKA_SECRET_KEY": "b" * 48, "PYTHONPATH": str(ROOT)}
    if args.database_url:
        env["METODIKA_DATABASE_URL"] = args.database_url
    subprocess.run([sys.executable, "-m", "examples.generator", "--month", "2025-03", "--mo", str(args.mo),
                    "--cases", str(args.cases), "--seed", "1", "--out", str(reg_dir)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    _prepare(home, env)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.server.app:create_app", "--factory",
                               "--port", str(port), "--log-level", "warning"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        token = httpx.post(base + "/auth/token", data={"username": "economist", "password": PASSWORD}).json()
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token['access_token']}"},
                              timeout=600)
        figures: list[tuple[str, float, str]] = []
        t = time.perf_counter()
        mv = client.post("/methodologies/versions", files={"archive": ("pkg.zip", _zip(PKG))}).json()
        figures.append(("publish the package (compile + store)", time.perf_counter() - t, ""))
        xml = sorted(p for p in reg_dir.iterdir() if p.suffix.upper() == ".XML")
        size = sum(p.stat().st_size for p in xml)
        t = time.perf_counter()
        r = client.post("/registries", files=[("files", (p.name, p.read_bytes())) for p in xml]).json()
        reg = _wait(client, f"/registries/{r['id']}", ("imported", "rejected"))
        assert reg["status"] == "imported", reg
        figures.append(("upload → imported (ФЛК, .npz)", time.perf_counter() - t,
                        f"{len(xml)} files, {size / 1e6:.1f} MB, {reg['counts']['case']} cases"))
        erz = next(iter(reg_dir.glob("ERZ*.csv")), None)
        files = {"insured": (erz.name, erz.read_bytes())} if erz else None
        t = time.perf_counter()
        run = client.post("/runs", data={"methodology_version_id": mv["id"], "registry_id": reg["id"]},
                          files=files).json()
        run = _wait(client, f"/runs/{run['id']}", ("done", "failed"))
        assert run["status"] == "done", run
        total = time.perf_counter() - t
        stages = ", ".join(f"{k} {v:.2f}" for k, v in run["timings"].items())
        figures.append(("run submit → done", total, stages))
        t = time.perf_counter()
        page = client.get(f"/runs/{run['id']}/results", params={"entity": "case", "limit": 1000}).json()
        figures.append(("results page of 1000 cases", time.perf_counter() - t, f"total {page['total']}"))
        keys = [i["row_key"] for i in page["items"]]
        lat = []
        for i in range(args.explain + 1):
            t = time.perf_counter()
            resp = client.get(f"/runs/{run['id']}/explain", params={"key": keys[i % len(keys)], "name": "cost"})
            assert resp.status_code == 200, resp.text
            lat.append(time.perf_counter() - t)
        figures.append(("explain, first request (builds dataset cache)", lat[0], ""))
        warm = sorted(lat[1:])
        p95 = warm[max(0, int(round(0.95 * len(warm))) - 1)]
        figures.append((f"explain p50 over {len(warm)} requests", statistics.median(warm), ""))
        figures.append((f"explain p95 over {len(warm)} requests", p95, ""))
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(f"\n{args.cases} cases, {args.mo} МО, {backend}, uvicorn 1 process\n")
        print("| step | seconds | note |\n|---|---|---|")
        for name, sec, note in figures:
            print(f"| {name} | {sec:.3f} | {note} |")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
