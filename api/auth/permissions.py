"""THE permission matrix: which role may perform which action. The only place it is defined.

docs/platform.md renders the same table; tests/platform/test_permission_matrix.py walks every
cell of it through the API.
"""

from __future__ import annotations

from enum import StrEnum

from api.auth.roles import Role


class Action(StrEnum):
    METHODOLOGY_READ = "methodology.read"
    METHODOLOGY_CHECK = "methodology.check"
    METHODOLOGY_PUBLISH = "methodology.publish"
    NSI_EDIT = "nsi.edit"
    REGISTRY_UPLOAD = "registry.upload"
    REGISTRY_READ = "registry.read"
    RUN_START = "run.start"
    RUN_READ = "run.read"
    RUN_EXPLAIN = "run.explain"
    DEFECT_READ = "defect.read"
    FORM_RENDER = "form.render"
    PLAN_READ = "plan.read"
    PLAN_EDIT = "plan.edit"
    PLAN_CORRECT = "plan.correct"
    PERSONAL_DATA_READ = "personal_data.read"
    USER_MANAGE = "user.manage"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    SYSTEM_DIAGNOSE = "system.diagnose"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[Action, str] = {
    Action.METHODOLOGY_READ: "просмотр методологий",
    Action.METHODOLOGY_CHECK: "проверка методологий",
    Action.METHODOLOGY_PUBLISH: "публикация версии методологии",
    Action.NSI_EDIT: "ведение справочников НСИ",
    Action.REGISTRY_UPLOAD: "загрузка реестров",
    Action.REGISTRY_READ: "просмотр реестров",
    Action.RUN_START: "запуск расчёта",
    Action.RUN_READ: "просмотр результатов расчёта",
    Action.RUN_EXPLAIN: "объяснение значения",
    Action.DEFECT_READ: "просмотр дефектов МЭК",
    Action.FORM_RENDER: "формирование отчётных форм",
    Action.PLAN_READ: "просмотр плановых объёмов",
    Action.PLAN_EDIT: "ведение плановых объёмов",
    Action.PLAN_CORRECT: "корректировка плана по решению комиссии",
    Action.PERSONAL_DATA_READ: "просмотр персональных данных",
    Action.USER_MANAGE: "управление пользователями",
    Action.AUDIT_READ: "просмотр журнала аудита",
    Action.AUDIT_VERIFY: "проверка целостности журнала аудита",
    Action.SYSTEM_DIAGNOSE: "диагностика внутренних сбоев (трассировка без данных)",
}

A = Action
# What every signed-in user of the fund's staff may read.
_READ_RESULTS = {A.METHODOLOGY_READ, A.REGISTRY_READ, A.RUN_READ, A.RUN_EXPLAIN, A.DEFECT_READ, A.FORM_RENDER}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    # System administrator: accounts, the audit log and the tracebacks of internal failures
    # (frames and exception types, no data); no access to money or patients.
    Role.ADMIN: frozenset({A.METHODOLOGY_READ, A.USER_MANAGE, A.AUDIT_READ, A.AUDIT_VERIFY, A.SYSTEM_DIAGNOSE}),
    # Head of the fund: reads everything except personal data, publishes, approves corrections.
    Role.HEAD: frozenset(
        _READ_RESULTS | {A.METHODOLOGY_PUBLISH, A.PLAN_READ, A.PLAN_CORRECT, A.AUDIT_READ, A.AUDIT_VERIFY}
    ),
    # NSI operator: reference books, and checking that methodologies still compile against them.
    Role.NSI_OPERATOR: frozenset({A.METHODOLOGY_READ, A.METHODOLOGY_CHECK, A.NSI_EDIT}),
    # Fund economist (methodologist): rules, registries, runs, plans.
    Role.ECONOMIST: frozenset(
        _READ_RESULTS
        | {
            A.METHODOLOGY_CHECK,
            A.METHODOLOGY_PUBLISH,
            A.REGISTRY_UPLOAD,
            A.RUN_START,
            A.PLAN_READ,
            A.PLAN_EDIT,
            A.PLAN_CORRECT,
        }
    ),
    # Branch economist: the economist's daily work, restricted to the branch's МО; no publishing.
    Role.BRANCH_ECONOMIST: frozenset(_READ_RESULTS | {A.REGISTRY_UPLOAD, A.RUN_START, A.PLAN_READ}),
    # Fund medical expert (МЭЭ/ЭКМП): needs patients' identity to request medical records.
    Role.MEDIC: frozenset(_READ_RESULTS | {A.PERSONAL_DATA_READ}),
    Role.BRANCH_MEDIC: frozenset(_READ_RESULTS | {A.PERSONAL_DATA_READ}),
    # МО operator: uploads its own registries, self-checks them (МЭК before submission), its own
    # patients' data; sees its own plan volumes.
    Role.MO_OPERATOR: frozenset(
        _READ_RESULTS | {A.REGISTRY_UPLOAD, A.RUN_START, A.PLAN_READ, A.PERSONAL_DATA_READ}
    ),
    # СМО operator: results and defects of its insured persons' cases, no registry files.
    Role.SMO_OPERATOR: frozenset(
        {A.METHODOLOGY_READ, A.RUN_READ, A.RUN_EXPLAIN, A.DEFECT_READ, A.FORM_RENDER}
    ),
    # СМО medical expert: as the operator plus personal data of its insured (for expertise).
    Role.SMO_MEDIC: frozenset(
        {A.METHODOLOGY_READ, A.RUN_READ, A.RUN_EXPLAIN, A.DEFECT_READ, A.FORM_RENDER, A.PERSONAL_DATA_READ}
    ),
}
del A


def allowed(role: Role | str, action: Action | str) -> bool:
    """True when ``role`` may perform ``action`` (unknown roles or actions: False)."""
    try:
        return Action(action) in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def actions_of(role: Role | str) -> list[Action]:
    """The actions of ``role`` in the order of :class:`Action`."""
    granted = PERMISSIONS.get(Role(role), frozenset())
    return [a for a in Action if a in granted]
