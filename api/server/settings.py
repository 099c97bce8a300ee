"""Settings of the API server, read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from api.auth.throttle import ThrottlePolicy
from api.auth.tokens import DEFAULT_TTL, load_secret_key
from api.db.config import database_url, metodika_home

TOKEN_TTL_ENV = "METODIKA_TOKEN_TTL_MINUTES"


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str = field(repr=False)
    token_ttl: timedelta = DEFAULT_TTL
    home: Path = field(default_factory=metodika_home)
    login_policy: ThrottlePolicy = field(default_factory=ThrottlePolicy)

    @classmethod
    def from_env(cls) -> Settings:
        home = metodika_home()
        ttl_raw = os.environ.get(TOKEN_TTL_ENV)
        ttl = timedelta(minutes=int(ttl_raw)) if ttl_raw else DEFAULT_TTL
        return cls(database_url=database_url(), secret_key=load_secret_key(home), token_ttl=ttl, home=home,
                   login_policy=ThrottlePolicy.from_env())
