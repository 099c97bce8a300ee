"""Tokens, passwords, roles — no database needed."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from api.auth.passwords import hash_password, verify_password
from api.auth.roles import Role, parse_role
from api.auth.tokens import SECRET_ENV, TokenError, decode_token, issue_token, load_secret_key

K1 = "k1-secret-key-of-at-least-32-characters"


def test_token_roundtrip_and_rejections() -> None:
    token, _ = issue_token(K1, 7, "ivanov")
    claims = decode_token(K1, token)
    assert (claims.user_id, claims.login) == (7, "ivanov")
    with pytest.raises(TokenError, match="недействительный"):
        decode_token("another-secret-key-of-32-characters!", token)
    expired, _ = issue_token(K1, 7, "ivanov", ttl=timedelta(seconds=-5))
    with pytest.raises(TokenError, match="истёк"):
        decode_token(K1, expired)
    with pytest.raises(TokenError):
        decode_token(K1, "garbage")


def test_secret_key_file_is_generated_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    key = load_secret_key(tmp_path)
    assert len(key) >= 40 and load_secret_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    monkeypatch.setenv(SECRET_ENV, "from-env-" + "x" * 32)
    assert load_secret_key(tmp_path) == "from-env-" + "x" * 32
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(ValueError, match="не короче 32"):
        load_secret_key(tmp_path)


def test_argon2_passwords() -> None:
    h = hash_password("long-enough-1")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "long-enough-1") and not verify_password(h, "long-enough-2")
    assert not verify_password(None, "anything")
    with pytest.raises(ValueError, match="не менее 8"):
        hash_password("short")


def test_roles_parse_by_id_and_label() -> None:
    assert parse_role("smo_medic") is Role.SMO_MEDIC
    assert parse_role("оператор мо (лпу)") is Role.MO_OPERATOR
    with pytest.raises(ValueError, match="неизвестная роль"):
        parse_role("king")
    assert len(Role) == 10
