"""The index's fields, and writing records to it.

Analysis stays qdocs' own (:mod:`qdocs.search.analysis`: CJK n-grams, stemmed
English, groups of words) and runs in Python; tantivy is given the terms it
produced, separated by spaces, and splits them again with its ``whitespace``
tokenizer, so that what is indexed is exactly qdocs' terms, each as often as it
occurs (the frequency BM25 needs).  Groups of two and three words (``mechan_seal``)
go to a field of their own, so that they leave the text field's length and its
scores alone; a quoted phrase of words is found there by one term.

Fields:

- ``content``: the record's text as terms (term frequencies, no positions);
- ``groups``: the word groups of the text;
- ``path`` (the record's folder, one term, the key replaced and deleted by) and
  ``pathprint`` (``path`` TAB fingerprint: what ``index status`` compares with HEAD);
- the exact fields (``id``, ``scope``, ``status``, ``revision``, ``conclusion``,
  ``signers`` and the subject's keys), each value one term, case-folded; ``type``
  as written, also a fast field (counts per type in one aggregation);
- the dates (``created``, ``changed``, ``signed``, ``date``): integers, microseconds
  since 1970 of the local wall-clock time, indexed and fast (ranges);
- ``order``: a number per record that orders hits of equal score, newest first (fast);
- ``stored``: what a hit shows (the fields above as JSON, with the text), the only
  stored field, so a hit is one read of the document store.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from whoosh.lang.porter import stem as porter_stem

from ...subjects import SUBJECT_KEYS
from ..analysis import GROUP_SEPARATOR, fold, index_terms

#: Porter stemmer, cached: the same few thousand words come up again and again.
stem = functools.lru_cache(maxsize=100_000)(porter_stem)

#: Fields holding one case-folded term per value.
EXACT_FIELDS = ("id", "scope", "status", "revision", "conclusion", "signers", *SUBJECT_KEYS)
#: Fields holding one term per value, as written.
RAW_FIELDS = ("type", "path")
DATE_FIELDS = ("created", "changed", "signed", "date")
TEXT_FIELD = "content"
#: Breaks ties between equal scores (see :func:`order_key`).
ORDER_FIELD = "order"
#: What a query may name (``unknown field`` lists them).
QUERY_FIELDS = tuple(sorted((*EXACT_FIELDS, *RAW_FIELDS, *DATE_FIELDS, TEXT_FIELD)))
#: Between the words of a group term in the ``groups`` field (no word holds one).
GROUP_JOINER = "_"
_EPOCH = _dt.datetime(1970, 1, 1)
_MICROSECOND = _dt.timedelta(microseconds=1)
_SINCE = 946_684_800  # 2000-01-01, in seconds since 1970


def schema() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field(TEXT_FIELD, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("groups", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("path", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("pathprint", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("type", fast=True, tokenizer_name="raw", index_option="basic")
    for name in EXACT_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in DATE_FIELDS:
        builder.add_integer_field(name, indexed=True, fast=True)
    builder.add_integer_field(ORDER_FIELD, fast=True)
    builder.add_bytes_field("stored", stored=True)
    return builder.build()


def create(directory: Path) -> None:
    """An empty index in ``directory``."""
    import tantivy

    directory.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(schema(), path=str(directory))
    writer = index.writer(heap_size=SMALL_HEAP, num_threads=1)
    writer.commit()
    writer.wait_merging_threads()


def prepare(document: dict[str, Any]) -> dict[str, Any]:
    """What the index is given for one record (see :mod:`qdocs.search.documents`): plain
    values, picklable, analysed already (so that a worker process can do it)."""
    content = document.get("content") or ""
    words, groups = index_terms(content, stem)
    prepared: dict[str, Any] = {
        TEXT_FIELD: " ".join(" ".join([word] * times) if times > 1 else word for word, times in words.items()),
        "groups": " ".join(" ".join([group.replace(GROUP_SEPARATOR, GROUP_JOINER)] * times)
                           for group, times in groups.items()),
        "path": document["path"], "pathprint": f"{document['path']}\t{document.get('fingerprint') or ''}",
        "type": document.get("type") or "",
        ORDER_FIELD: order_key(document["path"], document.get("created")),
    }
    for name in EXACT_FIELDS:
        value = document.get(name)
        values = value if isinstance(value, list) else [value]
        values = [fold(str(item)) for item in values if item not in (None, "")]
        if values:
            prepared[name] = values
    shown = {key: value for key, value in document.items() if key != "fingerprint" and value not in (None, "", [])}
    for name in DATE_FIELDS:
        value = document.get(name)
        if isinstance(value, _dt.datetime):
            prepared[name] = microseconds(value)
            shown[name] = value.isoformat()
    prepared["stored"] = json.dumps(shown, ensure_ascii=False).encode("utf-8")
    return prepared


def order_key(path: str, created: _dt.datetime | None) -> int:
    """The order of hits of equal score, newest first, the same however the index is laid
    out in segments: the second the record was created (since 2000, in the high bits)
    and 32 bits of a hash of its folder (records created in the same second)."""
    seconds = microseconds(created) // 1_000_000 - _SINCE if isinstance(created, _dt.datetime) else 0
    digest = int.from_bytes(hashlib.blake2b(path.encode("utf-8"), digest_size=4).digest(), "big")
    return (max(min(seconds, 2 ** 30), -2 ** 30) << 32) | digest


def shown_fields(stored: bytes) -> dict[str, Any]:
    """A hit's fields as the document gave them (dates as datetimes)."""
    fields = json.loads(stored)
    for name in DATE_FIELDS:
        if name in fields:
            fields[name] = _dt.datetime.fromisoformat(fields[name])
    return fields


def microseconds(moment: _dt.datetime) -> int:
    return (moment.replace(tzinfo=None) - _EPOCH) // _MICROSECOND


#: Indexing memory (bytes, split between the threads): a rebuild with two threads, a
#: catch-up of a few records with one (tantivy's least is 15 MB a thread).
BULK_HEAP = 128 * 2 ** 20
SMALL_HEAP = 24 * 2 ** 20


class Writer:
    """Adds, replaces and deletes records, all in one tantivy commit.  qdocs' index lock
    serialises writers (tantivy's own lock file only refuses a second one)."""

    def __init__(self, directory: Path, bulk: bool = False) -> None:
        import tantivy

        self._tantivy = tantivy
        self._index = tantivy.Index.open(str(directory))
        self._writer = self._index.writer(heap_size=BULK_HEAP if bulk else SMALL_HEAP, num_threads=2 if bulk else 1)
        self._bulk = bulk

    def put(self, document: dict[str, Any]) -> None:
        self.put_prepared(prepare(document))

    def put_prepared(self, prepared: dict[str, Any]) -> None:
        if not self._bulk:  # a new generation holds each record once: nothing to replace
            self._writer.delete_documents_by_term("path", prepared["path"])
        self._writer.add_document(self._tantivy.Document(**prepared))

    def delete(self, path: str) -> None:
        self._writer.delete_documents_by_term("path", path)

    def commit(self) -> None:
        self._writer.commit()
        self._writer.wait_merging_threads()

    def cancel(self) -> None:
        self._writer.rollback()
        self._writer.wait_merging_threads()
