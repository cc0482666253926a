"""One record per form: each form carries a one-time token, and the server remembers
what each token made.

A double click sends the same form twice, often before the first answer is back.  The
first post claims the token and creates the record; a second post with the same token
waits for the first to finish and is then shown the record the first made, so one
form never makes two records.  A post the library refuses gives its token back, so the
corrected form can be sent again.  Tokens belong to a session (a token of another
session counts as unknown) and live in this process, like the sessions themselves.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

LIMIT = 20_000


class FormTokens:
    """Token (with its session) -> the record id it made, or None while it is being made."""

    def __init__(self) -> None:
        self._made: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._done = threading.Condition()

    @staticmethod
    def new() -> str:
        return secrets.token_urlsafe(24)

    def claim(self, session_id: str, token: str, wait_seconds: float = 120.0) -> str | None:
        """Claim ``token`` for one creation: None when the caller may create (it then calls
        :meth:`made` or :meth:`release`), else the id of the record this token already made."""
        key = (session_id, token)
        with self._done:
            self._done.wait_for(lambda: self._made.get(key, "") is not None, timeout=wait_seconds)
            if key in self._made and self._made[key] is not None:
                return self._made[key]
            self._made[key] = None
            while len(self._made) > LIMIT:
                self._made.popitem(last=False)
            return None

    def made(self, session_id: str, token: str, record_id: str) -> None:
        with self._done:
            self._made[(session_id, token)] = record_id
            self._done.notify_all()

    def release(self, session_id: str, token: str) -> None:
        with self._done:
            self._made.pop((session_id, token), None)
            self._done.notify_all()
