"""A cache of parsed ``record.yaml`` files, so reading many records is cheap.

Parsing YAML costs about 1.5 ms per record; the cache keeps each file's parsed
form as JSON in ``.qdocs/cache/records.sqlite`` (ignored by git: it can always
be rebuilt), keyed by path and checked against the file's size and modification
time, or, where the caller has the bytes anyway (``verify``), against their
sha256.  Any problem with the cache (missing, locked, corrupt) falls back to
parsing the YAML: the cache can make qdocs faster, never wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from . import yamlio

CACHE_FILE = ".qdocs/cache/records.sqlite"
_SCHEMA = "CREATE TABLE IF NOT EXISTS records (path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, digest TEXT, body TEXT)"


class MetadataCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._connection: sqlite3.Connection | None = None
        self._pending: list[tuple[str, int, int, str, str]] = []
        self._disabled = False

    def read(self, relative: str) -> tuple[dict[str, Any], str | None]:
        """The parsed ``record.yaml`` at ``relative``, and the sha256 of its bytes when
        they had to be read (the file changed since it was cached)."""
        path = self.root / relative
        status = os.stat(path)
        row = self._row(relative)
        if row and row[0] == status.st_size and row[1] == status.st_mtime_ns:
            return json.loads(row[3]), None
        return self._parsed(relative, path.read_bytes(), (row[2], row[3]) if row else None, status)

    def digests_and_bodies(self) -> dict[str, tuple[str, str]]:
        """Every cached file's sha256 and parsed form, by path, in one query (for a
        reader of every record, such as ``verify``: one query instead of one per record)."""
        if self._disabled:
            return {}
        try:
            connection = self._connect()
            if connection is None:
                return {}
            return {path: (digest, body) for path, digest, body in
                    connection.execute("SELECT path, digest, body FROM records")}
        except sqlite3.Error:
            self._reset()
            return {}

    def parse(self, relative: str, content: bytes, known: dict[str, tuple[str, str]]) -> tuple[dict[str, Any], str]:
        """The parsed form of ``record.yaml`` bytes already read, and their sha256; from
        ``known`` (:meth:`digests_and_bodies`) when the digest matches, else parsed and
        kept for :meth:`flush`."""
        return self._parsed(relative, content, known.get(relative), None)

    def _parsed(self, relative: str, content: bytes, cached: tuple[str, str] | None,
                status: os.stat_result | None) -> tuple[dict[str, Any], str]:
        """``content`` parsed: from ``cached`` (digest, body) when the digest matches (its
        size and time stored again when ``status`` is given), else from the YAML."""
        digest = hashlib.sha256(content).hexdigest()
        if cached is not None and cached[0] == digest:
            if status is not None:
                self._pending.append((relative, status.st_size, status.st_mtime_ns, digest, cached[1]))
            return json.loads(cached[1]), digest
        raw = yamlio.load(content.decode("utf-8"))
        status = status or os.stat(self.root / relative)
        self._pending.append((relative, status.st_size, status.st_mtime_ns, digest,
                              json.dumps(raw, ensure_ascii=False, default=str)))
        return raw, digest

    def flush(self) -> None:
        """Store what was parsed; silently skipped when the cache cannot be written."""
        if not self._pending or self._disabled:
            self._pending.clear()
            return
        try:
            connection = self._connect()
            if connection is not None:
                with connection:
                    connection.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)", self._pending)
        except sqlite3.Error:
            self._disabled = True
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _row(self, relative: str) -> tuple[int, int, str, str] | None:
        if self._disabled:
            return None
        try:
            connection = self._connect()
            if connection is None:
                return None
            return connection.execute("SELECT size, mtime, digest, body FROM records WHERE path = ?",
                                      (relative,)).fetchone()
        except sqlite3.Error:
            self._reset()
            return None

    def _connect(self) -> sqlite3.Connection | None:
        if self._connection is None:
            path = self.root / CACHE_FILE
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._connection = sqlite3.connect(path, timeout=5)
                self._connection.execute("PRAGMA journal_mode=WAL")
                self._connection.execute("PRAGMA synchronous=OFF")
                self._connection.execute(_SCHEMA)
            except (sqlite3.Error, OSError):
                self._reset()
                return None
        return self._connection

    def _reset(self) -> None:
        """A corrupt or unusable cache is removed; this process goes on without it."""
        if self._connection is not None:
            try:
                self._connection.close()
            except sqlite3.Error:
                pass
            self._connection = None
        self._disabled = True
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(str(self.root / CACHE_FILE) + suffix)
            except OSError:
                pass
