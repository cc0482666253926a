"""Repeated failed log-ins are locked out for a while, per user and per client address.

After ``attempts`` failures in a row (a wrong passphrase at log-in or when signing),
the user name, and separately the address they came from, are refused for
``seconds``, whatever is typed: the next attempt is refused even with the right
passphrase, so guessing gets nowhere.  A success clears the user's count and the
address's.  Counts live in the server process, as the sessions do.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

_MAX_ENTRIES = 100_000


class Lockout:
    def __init__(self, attempts: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.seconds = seconds
        self.clock = clock
        self._failures: dict[str, list[float]] = {}  # key -> [failures in a row, locked until]
        self._lock = threading.Lock()

    def locked(self, user: str | None, address: str | None) -> bool:
        now = self.clock()
        with self._lock:
            return any(self._failures.get(key, [0, 0.0])[1] > now for key in _keys(user, address))

    def failed(self, user: str | None, address: str | None) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) > _MAX_ENTRIES:
                self._failures = {key: value for key, value in self._failures.items() if value[1] > now}
            for key in _keys(user, address):
                entry = self._failures.setdefault(key, [0, 0.0])
                if entry[1] and entry[1] <= now:  # the last lock is over: count afresh
                    entry[:] = [0, 0.0]
                entry[0] += 1
                if entry[0] >= self.attempts:
                    entry[1] = now + self.seconds

    def succeeded(self, user: str | None, address: str | None) -> None:
        with self._lock:
            for key in _keys(user, address):
                self._failures.pop(key, None)


def _keys(user: str | None, address: str | None) -> list[str]:
    return [key for key in (f"user:{user}" if user else None, f"address:{address}" if address else None) if key]
