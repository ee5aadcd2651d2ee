"""Staff passwords: how strong one must be, and how they are hashed (argon2id)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.errors import Invalid

MIN_PASSWORD_LENGTH = 12


@dataclass
class _Passwords:
    """How passwords are hashed: argon2id with argon2-cffi's defaults (64 MiB, 3 passes)."""

    hasher: PasswordHasher
    #: Verified against when the email is unknown, so that both take the same time.
    dummy: str | None = None

    def dummy_hash(self) -> str:
        if self.dummy is None:
            self.dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self.dummy


_passwords = _Passwords(PasswordHasher())


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash passwords with `hasher` from now on. The tests use cheap parameters; a
    stored hash made with other parameters is re-hashed at its next sign-in."""
    _passwords.hasher, _passwords.dummy = hasher, None


def hash_password(password: str) -> str:
    return _passwords.hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` is the one `password_hash` was made from."""
    try:
        return _passwords.hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_dummy(password: str) -> None:
    """Take the time a verification takes, for an email that has no password."""
    verify_password(_passwords.dummy_hash(), password)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return bool(_passwords.hasher.check_needs_rehash(password_hash))


def check_password(password: str) -> None:
    """Refuse (Invalid) a password too short or too plain to protect patients' data."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"use at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < 6:
        raise Invalid("use more different characters")
    if len(password) > 256:
        raise Invalid("use at most 256 characters")
