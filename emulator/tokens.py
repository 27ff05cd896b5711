"""Opaque bearer tokens with a lifetime; any number of them are valid at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import Enum


class TokenProblem(Enum):
    """Why a bearer token was refused; the message goes into the 401 body."""

    MISSING = "Missing Authorization header"
    MALFORMED = "Authorization header is not 'Bearer <token>'"
    UNKNOWN = "Unknown token"
    EXPIRED = "Token expired"


@dataclass(frozen=True)
class IssuedToken:
    client_id: str
    issued_at: float
    expires_at: float


class TokenRefused(Exception):
    """The request's bearer token cannot be used."""

    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class TokenStore:
    """Issue and check tokens against emulator time. Not thread-safe: the state lock guards it."""

    # Drop expired tokens now and then so a long-running emulator does not grow forever.
    _PRUNE_EVERY = 1000

    def __init__(self) -> None:
        self._tokens: dict[str, IssuedToken] = {}
        self._issued_since_prune = 0

    def issue(self, client_id: str, now: float, ttl: float) -> str:
        """Create a new token for `client_id` valid for `ttl` seconds from `now`."""
        self._issued_since_prune += 1
        if self._issued_since_prune >= self._PRUNE_EVERY:
            self._prune(now)
        # Opaque on purpose: the spec does not document the format, so clients must not decode it.
        token = secrets.token_urlsafe(32)
        self._tokens[token] = IssuedToken(client_id, now, now + ttl)
        return token

    def owner(self, token: str) -> str | None:
        """Return the client id a token was issued to, expired or not; None when unknown."""
        issued = self._tokens.get(token)
        return issued.client_id if issued else None

    def check(self, authorization: str | None, now: float) -> IssuedToken:
        """Return the token named by an Authorization header value, or raise TokenRefused."""
        token = bearer_token(authorization)
        issued = self._tokens.get(token)
        if issued is None:
            raise TokenRefused(TokenProblem.UNKNOWN)
        if now >= issued.expires_at:
            raise TokenRefused(TokenProblem.EXPIRED)
        return issued

    def clear(self) -> None:
        """Forget every token."""
        self._tokens.clear()

    def __len__(self) -> int:
        return len(self._tokens)

    def _prune(self, now: float) -> None:
        self._issued_since_prune = 0
        for token in [t for t, issued in self._tokens.items() if issued.expires_at <= now]:
            del self._tokens[token]


def bearer_token(authorization: str | None) -> str:
    """Extract the token from 'Bearer <token>', or raise TokenRefused."""
    if authorization is None or not authorization.strip():
        raise TokenRefused(TokenProblem.MISSING)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise TokenRefused(TokenProblem.MALFORMED)
    return token
