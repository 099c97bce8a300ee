"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from api.db.models.audit import GENESIS_HASH, AuditChainHead, AuditEvent
from api.db.models.base import Base, utcnow
from api.db.models.history import AcceptedCase, RegistrySubmission
from api.db.models.methodology import MethodologyFile, MethodologyVersion
from api.db.models.plans import Plan, PlanCorrection
from api.db.models.registries import REGISTRY_STATUSES, Registry
from api.db.models.runs import RUN_STATUSES, Run, RunDefect, RunResult
from api.db.models.sessions import AuthToken, LoginFailure
from api.db.models.users import Branch, BranchMo, User

__all__ = [
    "GENESIS_HASH",
    "LoginFailure",
    "AcceptedCase",
    "RegistrySubmission",
    "REGISTRY_STATUSES",
    "RUN_STATUSES",
    "AuditChainHead",
    "AuditEvent",
    "AuthToken",
    "Base",
    "Branch",
    "BranchMo",
    "MethodologyFile",
    "MethodologyVersion",
    "Plan",
    "PlanCorrection",
    "Registry",
    "Run",
    "RunDefect",
    "RunResult",
    "User",
    "utcnow",
]
