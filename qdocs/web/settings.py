"""What an administrator sets for ``qdocs serve``: the defaults are safe on loopback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """The web application's settings.

    ``secure_cookies``: the session cookie is sent over TLS only; set it whenever the
    server sits behind a TLS reverse proxy (it stays off by default, because a browser
    would never send a Secure cookie to ``http://127.0.0.1``).  ``keys_home``: the folder
    holding the users' encrypted private keys (default ``QDOCS_HOME``, the command line's;
    for the demo repository its own demo keys).  ``trusted_proxy``: the address of the
    reverse proxy whose ``X-Forwarded-For`` names the client (lockout per address needs
    the client's address, not the proxy's)."""

    idle_minutes: float = 15.0
    secure_cookies: bool = False
    lockout_attempts: int = 5
    lockout_minutes: float = 15.0
    keys_home: Path | None = None
    page_size: int = 50
    #: search results per page: each is read from the index with its snippet (``qdocs search``'s 20)
    search_page_size: int = 20
    threads: int = 8
    #: processes searching beside the server's threads in a repository of at least
    #: ``search_processes_from`` records (0: every search in the request's thread; see :mod:`.searching`)
    search_processes: int = 2
    search_processes_from: int = 20_000
    trusted_proxy: str | None = None
    #: a page waits for the audit of a new commit when the last audit took at most this long
    #: (seconds); after a longer one it shows the last audit finished, saying of which commit,
    #: while the new one is made in the background (:meth:`.workspace.Workspace.latest`)
    audit_wait: float = 0.5
    #: most sessions kept at once (anonymous ones for the log-in form included); the oldest go first
    max_sessions: int = 10_000
