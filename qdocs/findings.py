"""A finding: what a check found wrong, about which record or file, of which kind.

Checks (``verify``, the trust state, the forms) return findings instead of raising,
so one run reports everything it found.  ``kind`` groups findings for tools
(``verify --json``): ``record``, ``signature``, ``chain``, ``trust``, ``form``,
``sequence``, ``outside-qdocs``, ``checkpoint``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    record: str
    message: str
    severity: str = "error"
    kind: str = "record"

    def __str__(self) -> str:
        return f"{self.record}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"record": self.record, "kind": self.kind, "severity": self.severity, "message": self.message}
