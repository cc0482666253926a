"""What every request shares: the application's state and the session cookie's comings and goings."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g

from .lockout import Lockout
from .sessions import Session, SessionStore
from .settings import Settings
from .workspace import Workspace

COOKIE = "qdocs_session"


@dataclass
class Web:
    """What the pages share: the repository, the settings, sessions and the lockout."""

    workspace: Workspace
    settings: Settings
    sessions: SessionStore
    lockout: Lockout


def start_session(session: Session) -> None:
    """Send ``session``'s id to the browser with this response."""
    g.session = session
    g.new_cookie = session.id


def end_session() -> None:
    session = g.get("session")
    if session is not None:
        g.web.sessions.end(session.id)
    g.session = None
    g.new_cookie = ""
