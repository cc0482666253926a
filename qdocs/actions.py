"""Creating, revising and voiding records: each one commit, all or nothing."""

from __future__ import annotations

import datetime as _dt
import gc
from typing import TYPE_CHECKING, Any, Callable

from . import yamlio
from .audit.referencecheck import check_references
from .catalog import RecordType
from .datafiles import split_subject
from .errors import RecordStateError, StorageError, UsageError, ValidationError
from .forms import has_forms
from .queries import get_record
from .records import Record, Stamp, format_record_id, next_revision
from .rendering import DocumentHeader, TemplateCache, render_record, sha256_bytes
from .signatures import signature_rows
from .subjects import Subject, is_placeholder, resolve_subject
from .validation import validate_data

if TYPE_CHECKING:
    from .repository import Repository

Progress = Callable[[int], None]


def prepare(record_type: RecordType, values: dict[str, Any], context: str = "") -> tuple[Subject, dict[str, Any]]:
    """Validate one record's input (subject keys and fields); raise with every problem."""
    subject_values, fields = split_subject(values)
    subject, problems = resolve_subject(record_type.scopes, subject_values, record_type.id)
    data, field_problems = validate_data(record_type, fields)
    problems.extend(field_problems)
    if problems:
        raise ValidationError(record_type.id, problems, context)
    assert subject is not None
    return subject, data


def create_record(repository: "Repository", type_id: str, values: dict[str, Any], actor: str) -> Record:
    """Validate, render, store and commit one record."""
    return create_records(repository, type_id, [values], actor)[0]


def create_records(repository: "Repository", type_id: str, inputs: list[dict[str, Any]], actor: str,
                   progress: Progress | None = None) -> list[Record]:
    """Create one or many records of one type in a single commit.

    Every input is validated before anything is written; the template is
    rendered for each record before its files are written.
    """
    record_type = repository.catalog.get(type_id)
    prepared: list[tuple[Subject, dict[str, Any]]] = []
    problems: list[str] = []
    for number, values in enumerate(inputs, start=1):
        try:
            prepared.append(prepare(record_type, values))
        except ValidationError as error:
            if len(inputs) == 1:
                raise
            problems.extend(f"record {number}: {problem}" for problem in error.problems)
    if problems:
        raise ValidationError(type_id, problems, f"batch of {len(inputs)}")
    # -- references between records (issue 5): refuse or warn per the repository's rules file
    repository.notices.extend(check_references(repository, record_type, prepared))
    # -- end of references
    site = repository.site()
    cache = repository.templates
    template_sha256 = cache.template_sha256(record_type)
    stamp = Stamp.now(actor, repository.time_zone)
    year = _dt.date.fromisoformat(stamp.time[:10]).year
    with repository.locked():
        sequences = repository.read_sequences(site)
        counter_key = f"{record_type.prefix}-{year}"
        first = sequences.get(counter_key, 0) + 1
        ids = [format_record_id(record_type.prefix, site, year, first + offset) for offset in range(len(prepared))]
        folders = [f"{subject.folder()}/{record_id}" for (subject, _), record_id in zip(prepared, ids)]
        for folder in folders:
            if (repository.root / folder).exists():
                raise StorageError(f"{folder} already exists: the sequence file of site {site} is behind; run qdocs verify")
        sequence_path = repository.sequence_path(site)
        records: list[Record] = []
        with repository.transaction("create", folders, ids) as change:
            entries = []
            for index, ((subject, data), record_id, folder) in enumerate(zip(prepared, ids, folders)):
                record = Record(
                    id=record_id, type=type_id, subject=subject, revision="A", status="draft", data=data,
                    template_sha256=template_sha256, catalog_sha256=_controlled_catalog(repository),
                    docx_sha256="", created=stamp, changed=stamp,
                    revisions=[{"revision": "A", "time": stamp.time, "actor": actor, "reason": "first issue"}],
                    path=folder,
                )
                entries.append(write_record(repository, cache, record_type, record, change))
                records.append(record)
                if index % 50 == 49:
                    # python-docx documents are reference cycles holding lxml memory that only a full
                    # collection frees; left to itself the peak of a 10,000-record batch reached 275 MiB
                    gc.collect()
                if progress:
                    progress(index + 1)
            sequences[counter_key] = first + len(prepared) - 1
            change.write(sequence_path, yamlio.dump(dict(sorted(sequences.items()))))
            change.events.append("create", actor, stamp.time, records=entries)
            subject_line = (
                f"create {ids[0]} ({type_id}, {prepared[0][0].label()})" if len(ids) == 1
                else f"create {len(ids)} {type_id} records {ids[0]} … {ids[-1]}"
            )
            change.commit(subject_line, actor, {"Action": "create", "Type": type_id, "Revision": "A", "Record": ids})
    return records


def revise_record(repository: "Repository", record_id: str, values: dict[str, Any], reason: str, actor: str) -> Record:
    """Start the next revision with new data; the earlier one stays in history."""
    reason = _reason(reason, "revise")
    with repository.locked():
        current = get_record(repository, record_id)
        if current.status == "void":
            raise RecordStateError(f"{record_id} is void and cannot be revised; create a new record instead")
        record_type = repository.catalog.get(current.type)
        subject_values, fields = split_subject(values)
        for key, value in subject_values.items():
            if value not in (None, "") and not is_placeholder(value) and current.subject.as_dict().get(key) != value:
                raise ValidationError(current.type, [
                    f"subject '{key}' cannot change in a revision ({current.subject.as_dict().get(key)!r} → {value!r}); "
                    "void this record and create a new one"], record_id)
        merged = {**current.subject.as_dict(), **fields}
        _, data = prepare(record_type, merged, record_id)
        if data == current.data:
            raise UsageError(f"{record_id}: the data is the same as revision {current.revision}; nothing to revise")
        stamp = Stamp.now(actor, repository.time_zone)
        revision = next_revision(current.revision)
        current.revisions.append({"revision": revision, "time": stamp.time, "actor": actor, "reason": reason})
        current.data, current.revision, current.status, current.changed = data, revision, "draft", stamp
        current.signatures = []
        cache = repository.templates
        current.template_sha256 = cache.template_sha256(record_type)
        current.catalog_sha256 = _controlled_catalog(repository)
        with repository.transaction("revise", [current.path], [record_id]) as change:
            entry = write_record(repository, cache, record_type, current, change)
            change.events.append("revise", actor, stamp.time, records=[entry], reason=reason)
            change.commit(f"revise {record_id} to revision {revision}: {_one_line(reason)}", actor,
                          {"Action": "revise", "Type": current.type, "Revision": revision,
                           "Record": record_id, "Reason": _one_line(reason)})
    return current


def void_record(repository: "Repository", record_id: str, reason: str, actor: str) -> Record:
    """Mark a record void. Nothing is deleted: the folder and its history stay."""
    reason = _reason(reason, "void")
    with repository.locked():
        current = get_record(repository, record_id)
        if current.status == "void":
            raise RecordStateError(f"{record_id} is already void")
        record_type = repository.catalog.get(current.type)
        stamp = Stamp.now(actor, repository.time_zone)
        current.status, current.changed = "void", stamp
        current.void = {"time": stamp.time, "actor": actor, "reason": reason}
        cache = repository.templates
        with repository.transaction("void", [current.path], [record_id]) as change:
            entry = write_record(repository, cache, record_type, current, change)
            change.events.append("void", actor, stamp.time, records=[entry], reason=reason)
            change.commit(f"void {record_id}: {_one_line(reason)}", actor,
                          {"Action": "void", "Type": current.type, "Revision": current.revision,
                           "Record": record_id, "Reason": _one_line(reason)})
    return current


def render_document(repository: "Repository", cache: TemplateCache, record_type: RecordType, record: Record) -> bytes:
    header = DocumentHeader(
        id=record.id, revision=record.revision, status=record.status, company=repository.company,
        site=record.id.split("-")[1], created=record.created.time[:10], changed=record.changed.time[:10],
        subject_label=record.subject.label(), subject=record.subject.as_dict(),
    )
    return render_record(cache, record_type, header, record.data, signature_rows(repository, record_type, record))


def write_record(repository: "Repository", cache: TemplateCache, record_type: RecordType, record: Record,
                 change: Any, **details: Any) -> dict[str, Any]:
    """Render and write a record's two files; returns its entry for the action's event."""
    document = render_document(repository, cache, record_type, record)
    record.docx_sha256 = sha256_bytes(document)
    text = record.to_yaml()
    change.write(f"{record.path}/record.docx", document)
    change.write(f"{record.path}/record.yaml", text)
    return {"record": record.id, "type": record.type, "revision": record.revision, "status": record.status,
            "content": record.content_hash(), "record_sha256": sha256_bytes(text.encode("utf-8")),
            "docx_sha256": record.docx_sha256, **details}


def _reason(reason: str | None, action: str) -> str:
    if reason is None or not reason.strip():
        raise UsageError(f"{action} needs --reason: say why, for the record's history")
    return reason.strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _controlled_catalog(repository: "Repository") -> str:
    """The sha256 of the approved catalog a record is made with (empty where the repository
    has no controlled forms)."""
    return repository.catalog.sha256 if has_forms(repository.root) else ""
