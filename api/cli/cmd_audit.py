"""``metodika audit verify`` — check the hash chain of the audit log."""

from __future__ import annotations

import argparse
import sys

from api.audit.verify import verify_chain
from api.cli.cmd_db import DatabaseNotReady, open_database

MAX_PRINTED = 50


def _verify(_: argparse.Namespace) -> int:
    try:
        _, sessions = open_database()
    except DatabaseNotReady as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 2
    with sessions() as session:
        report = verify_chain(session)
    if report.ok:
        print(report.summary())
        return 0
    print(report.summary(), file=sys.stderr)
    if report.first_edited is not None:
        print(f"Первая изменённая запись: №{report.first_edited}", file=sys.stderr)
    for problem in report.problems[:MAX_PRINTED]:
        print(f"  - {problem.message}", file=sys.stderr)
    if len(report.problems) > MAX_PRINTED:
        print(f"  … и ещё {len(report.problems) - MAX_PRINTED}", file=sys.stderr)
    return 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("audit", help="журнал аудита", description="Журнал аудита с цепочкой хешей.")
    a_sub = parser.add_subparsers(dest="audit_command", metavar="ДЕЙСТВИЕ")
    a_sub.required = True
    verify = a_sub.add_parser("verify", help="проверить целостность журнала (код 1 — журнал нарушен)")
    verify.set_defaults(handler=_verify)
