"""How staff secrets are kept: a session's token, an invitation or password link and a
recovery code are stored only as their SHA-256 digest, so the database never holds one
that could be used."""

from __future__ import annotations

import hashlib


def token_digest(token: str) -> str:
    """The digest a secret is stored and looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()
