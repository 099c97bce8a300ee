"""The ten roles of the fund's practice: stable English ids, Russian labels, scope kind."""

from __future__ import annotations

from enum import StrEnum


class ScopeKind(StrEnum):
    NONE = "none"  # sees the whole fund
    MO = "mo"  # one medical organisation (F003 code)
    SMO = "smo"  # one insurance company (F002 code): its insured persons' cases
    BRANCH = "branch"  # the МО of one branch of the fund


class Role(StrEnum):
    ADMIN = "admin"
    HEAD = "head"
    NSI_OPERATOR = "nsi_operator"
    ECONOMIST = "economist"
    BRANCH_ECONOMIST = "branch_economist"
    MEDIC = "medic"
    BRANCH_MEDIC = "branch_medic"
    MO_OPERATOR = "mo_operator"
    SMO_OPERATOR = "smo_operator"
    SMO_MEDIC = "smo_medic"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def scope(self) -> ScopeKind:
        return ROLE_SCOPES.get(self, ScopeKind.NONE)


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "Администратор",
    Role.HEAD: "Руководитель",
    Role.NSI_OPERATOR: "Оператор НСИ",
    Role.ECONOMIST: "Экономист",
    Role.BRANCH_ECONOMIST: "Экономист филиала",
    Role.MEDIC: "Медик",
    Role.BRANCH_MEDIC: "Медик филиала",
    Role.MO_OPERATOR: "Оператор МО (ЛПУ)",
    Role.SMO_OPERATOR: "Оператор СМО",
    Role.SMO_MEDIC: "Медик СМО",
}

ROLE_SCOPES: dict[Role, ScopeKind] = {
    Role.BRANCH_ECONOMIST: ScopeKind.BRANCH,
    Role.BRANCH_MEDIC: ScopeKind.BRANCH,
    Role.MO_OPERATOR: ScopeKind.MO,
    Role.SMO_OPERATOR: ScopeKind.SMO,
    Role.SMO_MEDIC: ScopeKind.SMO,
}


def parse_role(value: str) -> Role:
    """A role by its id or its Russian label (case-insensitive); ValueError in Russian otherwise."""
    needle = value.strip().casefold()
    for role in Role:
        if needle in (role.value, role.label.casefold()):
            return role
    known = ", ".join(f"{r.value} ({r.label})" for r in Role)
    raise ValueError(f"неизвестная роль «{value}»; допустимы: {known}")
