"""``metodika audit verify|checkpoint|rotate-key`` — the keyed hash chain of the audit log."""

from __future__ import annotations

import argparse
import sys

from api.audit.chain import checkpoint_now, rotate
from api.audit.checkpoints import checkpoint_path
from api.audit.keys import AuditKeyError
from api.audit.verify import verify_chain
from api.cli.cmd_db import DatabaseNotReady, open_database
from api.cli.cmd_users import cli_actor
from api.db.config import metodika_home

MAX_PRINTED = 50


def _verify(_: argparse.Namespace) -> int:
    try:
        _, sessions = open_database()
    except DatabaseNotReady as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 2
    with sessions() as session:
        report = verify_chain(session)
    where = (f"цепочка {report.chain_id}, заверена ключом с записи №{report.keyed_from}; "
             f"контрольные точки: {checkpoint_path(metodika_home())}") if report.chain_id else ""
    if report.ok:
        print(report.summary())
        if where:
            print(where)
        return 0
    print(report.summary(), file=sys.stderr)
    if where:
        print(where, file=sys.stderr)
    if report.first_edited is not None:
        print(f"Первая изменённая запись: №{report.first_edited}", file=sys.stderr)
    for problem in report.problems[:MAX_PRINTED]:
        print(f"  - {problem.message}", file=sys.stderr)
    if len(report.problems) > MAX_PRINTED:
        print(f"  … и ещё {len(report.problems) - MAX_PRINTED}", file=sys.stderr)
    return 1


def _checkpoint(_: argparse.Namespace) -> int:
    try:
        _, sessions = open_database()
        with sessions() as session:
            cp = checkpoint_now(session)
    except (DatabaseNotReady, AuditKeyError) as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 1
    if cp is None:
        print("Журнал ещё не заверен ключом (нет записей после обновления): контрольная точка не нужна")
        return 0
    print(f"Контрольная точка: запись №{cp.seq}, {cp.at} → {checkpoint_path(metodika_home())}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    try:
        _, sessions = open_database()
        with sessions() as session, session.begin():
            old_id, new_id = rotate(session, lost=args.lost, actor=cli_actor())
    except (DatabaseNotReady, AuditKeyError) as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 1
    print(f"Новый ключ журнала аудита: {new_id}" + (f"; прежний {old_id} сохранён в audit-keys/" if old_id else ""))
    if args.lost:
        print("Записи, заверенные утраченным ключом, останутся непроверяемыми (verify назовёт их)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("audit", help="журнал аудита",
                            description="Журнал аудита: цепочка хешей с ключом и контрольные точки вне базы.")
    a_sub = parser.add_subparsers(dest="audit_command", metavar="ДЕЙСТВИЕ")
    a_sub.required = True
    verify = a_sub.add_parser("verify", help="проверить целостность журнала (код 1 — журнал нарушен)")
    verify.set_defaults(handler=_verify)
    cp = a_sub.add_parser("checkpoint", help="записать контрольную точку головы цепочки (например, по cron)")
    cp.set_defaults(handler=_checkpoint)
    rot = a_sub.add_parser("rotate-key", help="сменить ключ журнала (прежний сохраняется для проверки)")
    rot.add_argument("--lost", action="store_true",
                     help="ключ утрачен: начать новый отрезок цепочки с новым ключом")
    rot.set_defaults(handler=_rotate)
