"""Reading records: the current state from the work tree, earlier states from git."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from .errors import RecordNotFoundError, StorageError, UsageError
from .records import Record, check_record_id
from .store.history import log
from .store.objects import ObjectReader
from .subjects import SCOPES, subject_id_problem

if TYPE_CHECKING:
    from .repository import Repository


@dataclass
class HistoryEntry:
    commit: str
    time: str
    actor: str
    action: str
    revision: str
    summary: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return dict(self.__dict__)


def find_record_path(repository: "Repository", record_id: str) -> str:
    """The folder of a record, found through git's index (no directory walk), unless the
    repository's reader already knows it (:attr:`qdocs.repository.Repository.known_folder`)."""
    check_record_id(record_id)
    hint = getattr(repository, "known_folder", None)
    known = hint(record_id) if hint is not None else None
    if known and known.rsplit("/", 1)[-1] == record_id and (repository.root / known / "record.yaml").is_file():
        return known
    matches = repository.git.find_files(f"**/{record_id}/record.yaml")
    if not matches:
        # perhaps a record the last action made while git's index is caught up beside it (a
        # large repository, :mod:`qdocs.store.staging`; the catch-up may already have taken
        # the noted paths): wait until no catch-up is at work, then look again
        repository.git.catch_up_index()
        matches = repository.git.find_files(f"**/{record_id}/record.yaml")
    if not matches:
        raise RecordNotFoundError(f"no record {record_id} in {repository.root} (list them with: qdocs list)")
    return matches[0].rsplit("/", 1)[0]


def get_record(repository: "Repository", record_id: str) -> Record:
    folder = find_record_path(repository, record_id)
    text = (repository.root / folder / "record.yaml").read_text(encoding="utf-8")
    return Record.from_yaml(text, folder)


def iter_records(repository: "Repository", type_id: str | None = None, product: str | None = None,
                 lot: str | None = None, status: str | None = None) -> Iterator[Record]:
    """Every current record, filtered; sorted by id within each folder walk."""
    for key, value in (("product", product), ("lot", lot)):
        if value is not None:
            problem = subject_id_problem(key, value)
            if problem:
                raise UsageError(problem)
    cache = repository.record_cache
    try:
        for folder in record_folders(repository, product, lot):
            raw, digest = cache.read(f"{folder}/record.yaml")
            record = Record.from_dict(raw, folder)
            record.yaml_sha256 = digest
            if type_id and record.type != type_id:
                continue
            if status and record.status != status:
                continue
            subject = record.subject.as_dict()
            if product and subject.get("product") != product:
                continue
            if lot and subject.get("lot") != lot:
                continue
            yield record
    finally:
        cache.flush()


def record_folders(repository: "Repository", product: str | None = None, lot: str | None = None) -> Iterator[str]:
    """Repository-relative folders holding a record.yaml, in sorted order.

    Record folders sit at a fixed depth under their scope (``lot/<product>/<lot>/<id>``),
    so the walk reads exactly those directories."""
    root = str(repository.root)
    for parent, name in _record_candidates(repository, product, lot):
        if os.path.isfile(f"{root}/{parent}/{name}/record.yaml"):
            yield f"{parent}/{name}"


def record_folders_with_names(repository: "Repository") -> Iterator[tuple[str, list[str]]]:
    """Every record folder, in the order of :func:`record_folders`, with the names of the
    entries it holds (one directory read per record, where a check would otherwise ask
    for each file it expects)."""
    root = str(repository.root)
    for parent, name in _record_candidates(repository, None, None):
        try:
            names = os.listdir(f"{root}/{parent}/{name}")
        except (FileNotFoundError, NotADirectoryError):
            continue
        if "record.yaml" in names:
            yield f"{parent}/{name}", names


def _record_candidates(repository: "Repository", product: str | None, lot: str | None) -> Iterator[tuple[str, str]]:
    """(parent folder, name) of every folder at a record's depth, sorted."""
    root = str(repository.root)
    for folder in _candidate_folders(repository, product, lot):
        depth = len(SCOPES[folder.split("/", 1)[0]]) + 1 - folder.count("/")
        for parent in _descend(root, folder, depth - 1):
            for name in _subfolders(f"{root}/{parent}"):
                yield parent, name


def _subfolders(path: str) -> list[str]:
    try:
        return sorted(entry.name for entry in os.scandir(path) if not entry.name.startswith(".") and entry.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _descend(root: str, folder: str, levels: int) -> Iterator[str]:
    """The folders ``levels`` below ``folder`` (0: the folder itself), sorted."""
    if levels <= 0:
        yield folder
        return
    for name in _subfolders(f"{root}/{folder}"):
        yield from _descend(root, f"{folder}/{name}", levels - 1)


def history(repository: "Repository", record_id: str) -> list[HistoryEntry]:
    """Every commit that touched the record, newest first."""
    folder = find_record_path(repository, record_id)
    return [HistoryEntry(commit=entry.commit, time=entry.time, actor=entry.author,
                         action=entry.trailers.get("Action", ""), revision=entry.trailers.get("Revision", ""),
                         summary=entry.summary, reason=entry.trailers.get("Reason", ""))
            for entry in log(repository.git, [folder])]


def record_at_revision(repository: "Repository", record_id: str, revision: str | None = None) -> tuple[Record, bytes]:
    """The record and its document as they last stood at ``revision`` (current when None)."""
    folder = find_record_path(repository, record_id)
    if revision is None:
        record = get_record(repository, record_id)
        return record, (repository.root / folder / "record.docx").read_bytes()
    for entry in log(repository.git, [folder]):
        if entry.trailers.get("Revision") == revision:
            names = [f"{entry.commit}:{folder}/record.yaml", f"{entry.commit}:{folder}/record.docx"]
            with ObjectReader(repository.root) as reader:
                found = reader.read_many(names)
            if len(found) == len(names):
                return Record.from_yaml(found[names[0]].decode("utf-8"), folder), found[names[1]]
            raise StorageError(f"{record_id} revision {revision}: commit {entry.commit[:10]} lacks its files")
    raise RecordNotFoundError(f"{record_id} has no revision {revision!r} (see: qdocs history {record_id})")


def _candidate_folders(repository: "Repository", product: str | None, lot: str | None) -> list[str]:
    if product and lot:
        return [f"lot/{product}/{lot}"]
    if product:
        return [f"product/{product}", f"lot/{product}"]
    return [scope for scope in SCOPES if (repository.root / scope).is_dir()]
