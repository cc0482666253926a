"""The one cache of parsed ``record.yaml`` files, keyed by git blob id.

Parsing YAML costs about 1.5 ms per record; the cache keeps each content's parsed
form as JSON, with the sha256 of its bytes (what the event chain records), in
``.qdocs/cache/records.sqlite`` (ignored by git: it can always be rebuilt),
keyed by the blob id git gives that content.  So one parse serves every reader
of the same content, wherever it comes from:

* the work tree (``list``, ``show``, ``verify``): a file's path, size and
  modification time name the blob it held when it was last read, so an
  unchanged file is not even read; a changed one is read and its blob id
  computed (a SHA-1 of the bytes: microseconds);
* git (the search index, ``show --revision``): the listing gives blob ids
  (:mod:`.listing`).

Any problem with the cache (missing, locked, corrupt) falls back to parsing the
YAML: the cache can make qdocs faster, never wrong.  Contents no file names any
more are dropped when they outnumber the files (old revisions read once).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterable

from .. import yamlio

CACHE_FILE = ".qdocs/cache/records.sqlite"
_SCHEMA = (
    "DROP TABLE IF EXISTS records",  # the cache by path of earlier versions
    "CREATE TABLE IF NOT EXISTS parsed (blob TEXT PRIMARY KEY, sha256 TEXT, body TEXT)",
    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, blob TEXT)",
)
#: contents kept beyond those the files name before the rest are dropped
_SLACK = 1000
_QUERY_CHUNK = 500

#: what :meth:`RecordCache.known` gives: blob id -> (sha256, parsed form as JSON)
Known = dict[str, tuple[str, str]]


class RecordCache:
    """Parsed ``record.yaml`` contents of one repository (see the module's description)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._connection: sqlite3.Connection | None = None
        self._parsed: dict[str, tuple[str, str]] = {}  # new contents, not yet stored
        self._files: list[tuple[str, int, int, str]] = []
        self._named: list[tuple[str, int, int, str]] = []  # paths of contents read from git
        self._disabled = False

    def read(self, relative: str) -> tuple[dict[str, Any], str | None]:
        """The parsed ``record.yaml`` at ``relative`` in the work tree, and the sha256 of its
        bytes when they had to be read (the file changed since it was cached)."""
        path = self.root / relative
        status = os.stat(path)
        row = self._query("SELECT f.size, f.mtime, p.body FROM files f JOIN parsed p ON p.blob = f.blob "
                          "WHERE f.path = ?", (relative,))
        if row and row[0] == status.st_size and row[1] == status.st_mtime_ns:
            return json.loads(row[2]), None
        content = path.read_bytes()
        blob = blob_id(content)
        cached = self._query("SELECT sha256, body FROM parsed WHERE blob = ?", (blob,))
        raw, digest = self._parsed_form(blob, content, tuple(cached) if cached else None, checked=True)
        self._files.append((relative, status.st_size, status.st_mtime_ns, blob))
        return raw, digest

    def known(self) -> Known:
        """Every cached content, in one query (for a reader of every record, such as ``verify``)."""
        connection = self._connect()
        if connection is None:
            return {}
        try:
            return {blob: (digest, body) for blob, digest, body in
                    connection.execute("SELECT blob, sha256, body FROM parsed")}
        except sqlite3.Error:
            self._reset()
            return {}

    def parse(self, relative: str, content: bytes, known: Known) -> tuple[dict[str, Any], str]:
        """The parsed form of the work tree's ``record.yaml`` at ``relative``, whose bytes were
        read already, and their sha256; from ``known`` when cached."""
        blob = blob_id(content)
        cached = known.get(blob)
        raw, digest = self._parsed_form(blob, content, cached, checked=True)
        if blob in self._parsed:
            status = os.stat(self.root / relative)
            self._files.append((relative, status.st_size, status.st_mtime_ns, blob))
        return raw, digest

    def bodies(self, blobs: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The parsed forms of those of ``blobs`` that are cached (contents read from git)."""
        wanted = list(dict.fromkeys(blobs))
        found: dict[str, dict[str, Any]] = {}
        connection = self._connect()
        if connection is None:
            return found
        try:
            for start in range(0, len(wanted), _QUERY_CHUNK):
                chunk = wanted[start:start + _QUERY_CHUNK]
                query = f"SELECT blob, body FROM parsed WHERE blob IN ({','.join('?' * len(chunk))})"
                for blob, body in connection.execute(query, chunk):
                    found[blob] = json.loads(body)
        except sqlite3.Error:
            self._reset()
        return found

    def add(self, blob: str, content: bytes, path: str) -> dict[str, Any]:
        """``content`` (the blob ``blob``, read from git, of the record file at ``path``) parsed,
        and kept for :meth:`flush`."""
        self._named.append((path, -1, -1, blob))  # no size or time: a reader of the file reads it
        return self._parsed_form(blob, content, None)[0]

    def flush(self) -> None:
        """Store what was parsed; silently skipped when the cache cannot be written."""
        parsed, files, named = self._parsed, self._files, self._named
        self._parsed, self._files, self._named = {}, [], []
        if not (parsed or files) or self._disabled:
            return
        connection = self._connect()
        if connection is None:
            return
        try:
            with connection:
                connection.executemany("INSERT OR REPLACE INTO parsed VALUES (?, ?, ?)",
                                       [(blob, digest, body) for blob, (digest, body) in parsed.items()])
                connection.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", files)
                connection.executemany("INSERT INTO files VALUES (?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                                       "size = -1, mtime = -1, blob = excluded.blob WHERE blob != excluded.blob",
                                       named)
                if parsed:
                    self._drop_unnamed(connection)
        except sqlite3.Error:
            self._disabled = True

    def close(self) -> None:
        self.flush()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _parsed_form(self, blob: str, content: bytes, cached: tuple[str, str] | None,
                     checked: bool = False) -> tuple[dict[str, Any], str]:
        """``content`` parsed: from ``cached`` (sha256, body) when given, else from the YAML.
        ``checked``: the cached form counts only when its sha256 is the content's (what
        ``verify`` compares with the event chain never rests on a SHA-1 match alone)."""
        digest = hashlib.sha256(content).hexdigest() if checked or cached is None else ""
        if cached is not None and (not checked or cached[0] == digest):
            return json.loads(cached[1]), cached[0]
        raw = yamlio.load(content.decode("utf-8"))
        self._parsed[blob] = (digest, json.dumps(raw, ensure_ascii=False, default=str))
        return raw, digest

    @staticmethod
    def _drop_unnamed(connection: sqlite3.Connection) -> None:
        """Contents no file names (earlier revisions) go once they outnumber the files."""
        (contents,), (files,) = (connection.execute("SELECT count(*) FROM parsed").fetchone(),
                                 connection.execute("SELECT count(*) FROM files").fetchone())
        if contents > 2 * files + _SLACK:
            connection.execute("DELETE FROM parsed WHERE blob NOT IN (SELECT blob FROM files)")

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> Any:
        connection = self._connect()
        if connection is None:
            return None
        try:
            return connection.execute(sql, parameters).fetchone()
        except sqlite3.Error:
            self._reset()
            return None

    def _connect(self) -> sqlite3.Connection | None:
        if self._disabled:
            return None
        if self._connection is None:
            path = self.root / CACHE_FILE
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._connection = sqlite3.connect(path, timeout=5)
                self._connection.execute("PRAGMA journal_mode=WAL")
                self._connection.execute("PRAGMA synchronous=OFF")
                for statement in _SCHEMA:
                    self._connection.execute(statement)
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


def blob_id(content: bytes) -> str:
    """The id git gives a file with this content."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
