"""``qdocs attach``: external PDFs (lab reports, supplier certificates) kept with a record.

An attachment is an action like any other: the file is checked in a limited child
process first (see :mod:`.sandbox`; corrupt, encrypted and hostile files are refused
and nothing is stored), then written to ``<record folder>/attachments/NN-<name>.pdf``
and listed in ``<record folder>/attachments.yaml`` (title, sha256, size, pages, who
and when), in one commit with an ``attach`` event in the chain.  The search index
picks the text up through the after-commit hook.  ``qdocs verify`` checks that every
listed file is there with its sha256 (:func:`attachment_problems`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import UnsafePdfError
from .. import yamlio
from ..errors import RecordStateError, UsageError
from ..queries import get_record
from ..records import now_text
from .sandbox import run_in_child

if TYPE_CHECKING:
    from ..repository import Repository

LIST_FILE = "attachments.yaml"
FOLDER = "attachments"
MAX_BYTES = 100 * 1024 * 1024


def read_attachments(folder: Path) -> list[dict[str, Any]]:
    """The attachments listed for the record in ``folder`` (repository path on disk)."""
    path = folder / LIST_FILE
    if not path.is_file():
        return []
    return list(yamlio.load(path.read_text(encoding="utf-8")) or [])


def safe_name(original: str) -> str:
    """A file name that is safe on every system: letters (Chinese too), digits, '-', '_'."""
    stem = Path(original).stem
    cleaned = re.sub(r"[^\w-]+", "-", stem, flags=re.UNICODE).strip("-_")[:60]
    return cleaned or "document"


def attach_file(repository: "Repository", record_id: str, source: Path, title: str, actor: str) -> dict[str, Any]:
    """Check ``source`` in a child process, then store and commit it with the record."""
    title = " ".join((title or "").split())
    if not title:
        raise UsageError("attach needs --title: say what the document is, e.g. --title \"第三方检测报告 Lab report\"")
    source = Path(source)
    try:
        size = source.stat().st_size
        if not source.is_file():
            raise UsageError(f"{source}: not a file")
    except OSError as error:
        raise UsageError(f"{source}: cannot read: {error.strerror}") from None
    if size > MAX_BYTES:
        raise UnsafePdfError(f"{source}: {size // 1_000_000} MB is larger than the {MAX_BYTES // 1_000_000} MB accepted")
    record = get_record(repository, record_id)
    if record.status == "void":
        raise RecordStateError(f"{record_id} is void; attach the document to the record that replaces it")
    checked = run_in_child("inspect", source, source.name)
    content = source.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    with repository.locked():
        record = get_record(repository, record_id)
        folder = repository.root / record.path
        entries = read_attachments(folder)
        for entry in entries:
            if entry.get("sha256") == digest:
                raise UsageError(f"{source.name} is already attached to {record_id} as {entry['file']} "
                                 f"({entry.get('title')})")
        number = max((int(entry.get("number", 0)) for entry in entries), default=0) + 1
        stored = f"{FOLDER}/{number:02d}-{safe_name(source.name)}.pdf"
        stamp = now_text(repository.time_zone)
        entry = {"number": number, "file": stored, "title": title, "original_name": source.name, "sha256": digest,
                 "bytes": size, "pages": checked["pages"], "record_revision": record.revision,
                 "added": {"time": stamp, "actor": actor}}
        listing = yamlio.dump([*entries, entry])
        with repository.transaction("attach", [record.path], [record_id]) as change:
            change.write(f"{record.path}/{stored}", content)
            change.write(f"{record.path}/{LIST_FILE}", listing)
            change.events.append("attach", actor, stamp, attachment={
                "record": record_id, "file": stored, "title": title, "sha256": digest,
                "list_sha256": hashlib.sha256(listing.encode("utf-8")).hexdigest()})
            change.commit(f"attach {stored.split('/', 1)[1]} to {record_id}: {title}", actor,
                          {"Action": "attach", "Type": record.type, "Revision": record.revision,
                           "Record": record_id, "Attachment": stored})
    return {**entry, "record": record_id, "path": f"{record.path}/{stored}"}


def attachment_problems(folder: Path) -> list[str]:
    """What is wrong with the attachments of the record in ``folder``: listed files that are
    missing or changed, and PDFs in ``attachments/`` that are not listed.  One ``stat``
    when the record has none."""
    attachments = folder / FOLDER
    listed = folder / LIST_FILE
    if not listed.exists() and not attachments.exists():
        return []
    problems = []
    try:
        entries = read_attachments(folder)
    except Exception as error:  # a damaged list is a finding, not a crash of verify
        return [f"{LIST_FILE} cannot be read ({type(error).__name__})"]
    for entry in entries:
        path = folder / str(entry.get("file", ""))
        if not path.is_file():
            problems.append(f"attachment {entry.get('file')} ({entry.get('title')}) is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != entry.get("sha256"):
            problems.append(f"attachment {entry.get('file')} ({entry.get('title')}) does not match its recorded sha256 "
                            "(the file was changed)")
    known = {str(entry.get("file")) for entry in entries}
    if attachments.is_dir():
        for path in sorted(attachments.iterdir()):
            if f"{FOLDER}/{path.name}" not in known:
                problems.append(f"{FOLDER}/{path.name} is not listed in {LIST_FILE} (added outside qdocs attach)")
    return problems
