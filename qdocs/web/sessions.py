"""Server-side sessions: the browser holds only a random id in a cookie (HttpOnly,
SameSite=Strict, Secure behind TLS); who is logged in, the CSRF token and the last
time the session was used stay on the server.

Why server-side rather than signed cookies: logging out and the idle timeout end a
session on the server, so a copied cookie is worth nothing afterwards, and a user whom
an administrator revokes loses every session at the next request (:mod:`.app` looks
the user up in the trust state each time).  Sessions live in the one server process
(waitress serves with threads) and end when it stops: people log in again.

A session without a user is made for the log-in form, so that its post carries a CSRF
token too; logging in replaces it by a new session with a new id (no fixation).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Session:
    id: str
    csrf: str
    user: str | None = None
    last_seen: float = 0.0
    #: one-time messages for the next page (a signature done, a record revised)
    messages: list[str] = field(default_factory=list)


class SessionStore:
    """Sessions by id, ended after ``idle_seconds`` without a request."""

    def __init__(self, idle_seconds: float, limit: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self.limit = limit
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new(self, user: str | None = None) -> Session:
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user, self.clock())
        with self._lock:
            if len(self._sessions) >= self.limit:
                self._drop_oldest()
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, its idle time restarted; None when unknown or idle too long."""
        if not session_id:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self.idle_seconds:
                del self._sessions[session_id]
                return None
            session.last_seen = now
            return session

    def rotate(self, old: Session | None, user: str) -> Session:
        """Log ``user`` in: the old session ends, a new one with a new id and token begins."""
        if old is not None:
            self.end(old.id)
        return self.new(user)

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def end_user(self, user: str) -> None:
        """End every session of ``user`` (revoked)."""
        with self._lock:
            for session_id in [key for key, session in self._sessions.items() if session.user == user]:
                del self._sessions[session_id]

    def _drop_oldest(self) -> None:
        now = self.clock()
        for session_id in [key for key, session in self._sessions.items()
                           if now - session.last_seen > self.idle_seconds]:
            del self._sessions[session_id]
        while len(self._sessions) >= self.limit:
            oldest = min(self._sessions.values(), key=lambda session: session.last_seen)
            del self._sessions[oldest.id]
