"""The index's fields, its Chinese/English analysis, and writing to it.

Segments are written as separate files, not Whoosh's default compound file:
Whoosh opens a compound segment by copying each part into memory, which costs
about 25 ms a search at 100,000 records.
"""

from __future__ import annotations

import datetime as _dt
import functools
import pickle
from pathlib import Path
from typing import Any, Iterator

from whoosh import columns, fields, formats, index, query
from whoosh.analysis import IDTokenizer, LowercaseFilter, Token, Tokenizer
from whoosh.lang.porter import stem as porter_stem
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter
from whoosh.util.times import datetime_to_long
from whoosh.writing import PostingPool, SegmentWriter

from ...subjects import SUBJECT_KEYS
from ..analysis import fold, index_terms, terms
from ..model import QuerySyntaxError

#: Porter stemmer, cached: the same few thousand words come up again and again.
stem = functools.lru_cache(maxsize=100_000)(porter_stem)
_MICROSECOND = _dt.timedelta(microseconds=1)


class MixedTokenizer(Tokenizer):
    """Whoosh wrapper of :func:`qdocs.search.analysis.terms` (CJK n-grams, stemmed English)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MixedTokenizer)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, mode: str = "",
                 tokenize: bool = True, **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.boost, token.stopped = 1.0, False
        if not tokenize:  # wildcard and range texts: one term, case-folded
            token.text, token.pos = fold(value), start_pos
            token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for term in terms(value, stem, query=mode == "query"):
            token.text = term.text
            if keeporiginal:
                token.original = value[term.start:term.end]
            if positions:
                token.pos = start_pos + term.position
            if chars:
                token.startchar, token.endchar = start_char + term.start, start_char + term.end
            yield token


class TermCounts(formats.Format):
    """Index side of the text field: each term with how often it occurs (the weight
    BM25F needs) and nothing per posting besides, so a block of postings reads in
    microseconds.  Positions would cost half the index and most of a search's time
    at 100,000 records; instead, groups of two and three words next to each other are
    terms too (:func:`.analysis.word_groups`, with a frequency of 0 so that they leave
    the field's length and BM25F alone), which find a quoted phrase of words, and a
    phrase with Chinese is checked against the stored text (see :mod:`.evaluation`).
    Terms come straight from :func:`.analysis.index_terms` (the analyzer's terms,
    counted, without a Token object per term)."""

    posting_size = 0

    def word_values(self, value: str, analyzer: Any, **kwargs: Any) -> Iterator[tuple[str, int, float, bytes]]:
        boost = self.field_boost
        words, groups = index_terms(value, stem)
        for word, times in words.items():
            yield word, times, times * boost, b""
        for group, times in groups.items():  # found by phrases, never scored:
            yield group, 0, times * boost, b""  # a frequency of 0 leaves the field's length alone

    def postings(self, fieldname: str, value: str, docnum: int,
                 boost: float) -> tuple[list[tuple[str, bytes, int, float, bytes]], int]:
        """What :meth:`word_values` gives, as the writer's pool items, and the field's
        length: one list built at once (see ``_SegmentWriter.add_document``)."""
        words, groups = index_terms(value, stem)
        boost *= self.field_boost
        items = [(fieldname, word.encode("utf-8"), docnum, times * boost, b"") for word, times in words.items()]
        items.extend((fieldname, group.encode("utf-8"), docnum, times * boost, b"") for group, times in groups.items())
        return items, sum(words.values())

    def decode_frequency(self, value: bytes) -> int:
        raise NotImplementedError("frequencies are the postings' weights")


class DateField(fields.DATETIME):
    """Dates typed as YYYY, YYYY-MM or YYYY-MM-DD; ``<`` and ``>`` exclude the bound."""

    def _parse_datestring(self, qstring: str) -> Any:
        try:
            return super()._parse_datestring(qstring)
        except Exception:
            raise QuerySyntaxError(f"{qstring.strip()!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD, "
                                   "e.g. date:[2026-03-01 TO 2026-03-31]") from None

    def parse_range(self, fieldname: str, start: str | None, end: str | None, startexcl: bool, endexcl: bool,
                    boost: float = 1.0) -> query.Query:
        if start is None and end is None:
            return query.Every(fieldname, boost=boost)
        low = high = None
        if start is not None:
            at = self._parse_datestring(start)
            low = datetime_to_long(at.ceil() + _MICROSECOND if startexcl else at.floor())
        if end is not None:
            at = self._parse_datestring(end)
            high = datetime_to_long(at.floor() - _MICROSECOND if endexcl else at.ceil())
        return query.NumericRange(fieldname, low, high, boost=boost)


def schema() -> fields.Schema:
    def exact(**options: Any) -> fields.ID:
        return fields.ID(stored=True, analyzer=IDTokenizer() | LowercaseFilter(), **options)

    content = fields.TEXT(analyzer=MixedTokenizer(), stored=True, phrase=False)
    content.format = TermCounts(field_boost=1.0)
    return fields.Schema(
        path=fields.ID(stored=True, unique=True, sortable=True), fingerprint=fields.ID(sortable=True),
        id=exact(), type=fields.ID(stored=True, sortable=columns.RefBytesColumn()), scope=exact(),
        status=exact(), revision=exact(), conclusion=exact(), subject=fields.STORED(),
        signers=fields.KEYWORD(stored=True, lowercase=True, commas=True, scorable=False),
        created=DateField(stored=True), changed=DateField(stored=True), signed=DateField(stored=True),
        date=DateField(stored=True), content=content, **{key: exact() for key in SUBJECT_KEYS},
    )


def create(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    index.create_in(str(directory), schema())


class _SegmentWriter(SegmentWriter):
    """Whoosh's writer with two costs of big segments removed: postings beyond the
    memory limit are sorted in runs written and read back a chunk at a time (Whoosh
    pickles each posting alone, which made a 100,000-record rebuild ten times
    slower), and the postings are written with each document's field length read
    from memory instead of from the file once per posting."""

    def __init__(self, *arguments: Any, **options: Any) -> None:
        options.setdefault("codec", _Codec())
        options.setdefault("_lk", False)  # writers are serialised by qdocs' own index lock
        super().__init__(*arguments, **options)
        self.pool.__class__ = _ChunkedPostingPool
        self._plain = not any(field.separate_spelling() or field.vector for _, field in self.schema.items())

    def _commit_toc(self, segments: list[Any]) -> None:
        """Whoosh's commit without its removal of the files it no longer uses: qdocs
        removes them once ``state.json`` names the new files, so that a writer killed
        in between leaves the files the state names intact (:mod:`qdocs.search.generations`)."""
        index.TOC(self.schema, segments, self.generation).write(self.storage, self.indexname)

    def add_document(self, **fields: Any) -> None:
        """Whoosh's ``add_document`` (2.7.4) for a schema without spelling or vectors,
        with each field's postings handed to the pool as one list: a record has about
        600 postings, and Whoosh's loop costs a few microseconds each."""
        if not self._plain:
            return super().add_document(**fields)
        self._check_state()
        perdocwriter, schema, docnum, pool = self.perdocwriter, self.schema, self.docnum, self.pool
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                boost = self._field_boost(fields, fieldname, docboost)
                if isinstance(field.format, TermCounts):
                    items, length = field.format.postings(fieldname, value, docnum, boost)
                else:
                    items = []
                    for tbytes, frequency, weight, vbytes in field.index(value):
                        length += frequency
                        items.append((fieldname, tbytes, docnum, weight * boost, vbytes))
                if not field.scorable:
                    length = 0
                pool.add_many(fieldname, items)
            stored = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, stored if field.stored else None, length)
            if field.column_type and stored is not None:
                perdocwriter.add_column_value(fieldname, field.column_type, field.to_column_value(stored))
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def per_document_reader(self) -> Any:
        return _Lengths(super().per_document_reader())


class _ChunkedPostingPool(PostingPool):
    CHUNK = 2_000  # items per pickle: merging many runs holds one chunk of each in memory

    def add_many(self, fieldname: str, items: list[tuple[str, bytes, int, float, bytes | None]]) -> None:
        """Items of one field, as :meth:`add` would add them one by one."""
        if not items:
            return
        self.fieldnames.add(fieldname)
        self.currentsize += (170 + len(fieldname)) * len(items)  # Whoosh's estimate for terms of 5 bytes
        self.current.extend(items)
        if self.currentsize > self.limit:
            self.save()

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """Whoosh's ``add`` without its type assertions (a microsecond a posting, and a
        record has about 600): the same memory estimate, the same runs."""
        self.fieldnames.add(item[0])
        self.currentsize += 150 + len(item[0]) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)

    def _write_run(self, handle: Any, items: list[Any]) -> None:
        for start in range(0, len(items), self.CHUNK):
            pickle.dump(items[start:start + self.CHUNK], handle, pickle.HIGHEST_PROTOCOL)
        handle.close()

    def _read_run(self, path: str) -> Iterator[Any]:
        handle = self._open_run(path)
        try:
            while True:
                try:
                    chunk = pickle.load(handle)
                except EOFError:
                    return
                yield from chunk
        finally:
            handle.close()
            self._remove_run(path)


#: Postings per block.  Whoosh's default of 128 suits reading a posting list one
#: posting at a time; qdocs reads whole lists (:mod:`.evaluation`), where each block
#: costs a seek, a read and two unpicklings: at 100,000 records blocks of 1,024 took
#: the p95 of the benchmark's queries from 47 to 38 ms.
BLOCK_POSTINGS = 1024


class _Codec(W3Codec):
    """Whoosh 2.7.4's codec with bigger blocks, writing postings through the lean
    field writer below."""

    def __init__(self) -> None:
        super().__init__(blocklimit=BLOCK_POSTINGS)

    def field_writer(self, storage: Any, segment: Any) -> Any:
        return _FieldWriter(self, storage, segment)


class _FieldWriter(W3FieldWriter):
    def add_postings(self, schema: Any, lengths: Any, items: Iterator[tuple[str, bytes, int, float, Any]]) -> None:
        """Whoosh's loop over the sorted postings (``FieldWriter.add_postings``) with
        each document's field length taken from a table, not asked per posting."""
        lastfn: str | None = None
        lasttext: bytes | None = None
        table: list[int] = []
        writer: Any = None
        for fieldname, btext, docnum, weight, value in items:
            if fieldname != lastfn:
                if lasttext is not None:
                    self.finish_term()
                if lastfn is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                lastfn, lasttext = fieldname, None
                table = lengths.table(fieldname) if isinstance(lengths, _Lengths) else []
            if docnum == -1:  # Whoosh's marker of a spelling word: not a posting
                continue
            if btext != lasttext:
                if lasttext is not None:
                    self.finish_term()
                self.start_term(btext)
                lasttext, writer = btext, self._postwriter
            length = table[docnum] if docnum < len(table) else (
                lengths.doc_field_length(docnum, fieldname) if lengths else 0)
            # W3PostingsWriter.add_posting without its type assertions: this runs once per posting
            if len(writer._ids) >= writer._blocklimit:
                writer._write_block()
            writer._ids.append(docnum)
            writer._weights.append(weight)
            if weight > writer._maxweight:
                writer._maxweight = weight
            if value:
                writer._values.append(value)
            if length:
                if writer._minlength is None or length < writer._minlength:
                    writer._minlength = length
                if length > writer._maxlength:
                    writer._maxlength = length
        if lasttext is not None:
            self.finish_term()
        if lastfn is not None:
            self.finish_field()


class _Lengths:
    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._tables: dict[str, list[int]] = {}

    def table(self, fieldname: str) -> list[int]:
        """Every document's length of ``fieldname`` (0 where it has none)."""
        table = self._tables.get(fieldname)
        if table is None:
            table = self._tables[fieldname] = [
                self._reader.doc_field_length(number, fieldname, 0) for number in range(self._reader.doc_count_all())]
        return table

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        table = self.table(fieldname)
        return table[docnum] if docnum < len(table) and table[docnum] else default

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


class Writer:
    """Adds, replaces and deletes records, all in one Whoosh commit."""

    def __init__(self, directory: Path, bulk: bool = False) -> None:
        self._index = index.open_dir(str(directory))
        self._writer = _SegmentWriter(self._index, limitmb=64 if bulk else 32, compound=False)
        self._bulk = bulk

    def put(self, document: dict[str, Any]) -> None:
        (self._writer.add_document if self._bulk else self._writer.update_document)(**_values(document))

    def delete(self, path: str) -> None:
        self._writer.delete_by_term("path", path)

    def commit(self) -> None:
        self._writer.commit(optimize=self._bulk)
        self._index.close()

    def cancel(self) -> None:
        self._writer.cancel()
        self._index.close()


class SegmentBuilder:
    """One segment of a new index, written by one of several processes at once.

    Whoosh's own multi-process writer (``MpWriter``) does this with documents
    the parent prepared; here each process also reads its records.  It uses
    ``SegmentWriter`` internals of the pinned Whoosh 2.7.4, as ``MpWriter`` does.
    """

    def __init__(self, directory: Path, memory_mb: int = 64) -> None:
        self._index = index.open_dir(str(directory))
        self._writer = _SegmentWriter(self._index, limitmb=memory_mb, compound=False)
        self._count = 0

    def put(self, document: dict[str, Any]) -> None:
        self._writer.add_document(**_values(document))
        self._count += 1

    def finish(self) -> Any:
        """The finished segment (picklable), or None when nothing was added.  An empty
        one is closed, not cancelled: Whoosh's cancel removes the temporary folder the
        other processes' writers are still sorting postings in (``MAIN.tmp``, one name
        for all); what is left there is removed with the files no commit names."""
        if not self._count:
            self._writer._close_segment()
            return None
        return self._writer._finalize_segment()


def commit_segments(directory: Path, segments: list[Any]) -> None:
    """Make segments written by :class:`SegmentBuilder` the content of the index."""
    writer = _SegmentWriter(index.open_dir(str(directory)), compound=False)
    writer._close_segment()
    writer._commit_toc([segment for segment in segments if segment is not None])
    writer._finish()


def _values(document: dict[str, Any]) -> dict[str, Any]:
    values = {key: value for key, value in document.items() if value not in (None, "", [])}
    values["signers"] = ",".join(document.get("signers") or [])
    return values
