"""Search: ``qdocs search`` and its index, ``qdocs index rebuild`` and ``qdocs index status``.

The index is a cache of the records (``.qdocs/index``); the search engine is imported only
when these commands run.
"""

from __future__ import annotations

import datetime
import sys
import time
from typing import Any

import click

from qdocs.commands.shared import echo_json, json_option, open_repository, progress_once_known
from qdocs.errors import UsageError


@click.command()
@click.argument("query")
@click.option("--type", "type_id", metavar="TYPE", help="Only this record type.")
@click.option("--product", metavar="P", help="Only this product.")
@click.option("--lot", metavar="L", help="Only this lot.")
@click.option("--status", metavar="S", help="Only this status: draft, in-review, approved or void.")
@click.option("--from", "date_from", metavar="DATE", help="Dated on or after (the record's first date field, "
                                                          "else the day it was created).")
@click.option("--to", "date_to", metavar="DATE", help="Dated on or before.")
@click.option("--limit", default="20", metavar="N", show_default=True, help="Show at most N results.")
@json_option()
@click.pass_context
def search(context: click.Context, query: str, type_id: str | None, product: str | None, lot: str | None,
           status: str | None, date_from: str | None, date_to: str | None, limit: str, as_json: bool) -> None:
    """Find records by their text and metadata (query syntax below). Exit 1 when none match.

    \b
    Words, Chinese or English:  检验   泄漏 AND PUMP-X200   inspections (also inspected, inspect)
    Phrases and boolean logic:  "final inspection" OR 出厂检验   合格 NOT 不合格   (a OR b) AND c
    Fields:  type:final-inspection  product:PUMP-X200  lot:  supplier:  status:void  revision:B
             conclusion:fail  signers:li.si  id:FIR-S1-2026-0001
    Dates:   date:2026-03  created:[2026-03-01 TO 2026-03-31]  signed:>=2026-03-15
    Wildcards:  pump*  p?mp        Every record:  *

    Examples:

    \b
      qdocs search 检验
      qdocs search "final inspection" --product PUMP-X200 --from 2026-03-01 --to 2026-03-31
      qdocs search 'conclusion:fail AND type:final-inspection' --json --limit 100
    """
    from qdocs.records import STATUSES
    from qdocs.search.index import SearchIndex
    from qdocs.search.model import Filters

    repository = open_repository(context)
    if type_id:
        repository.catalog.get(type_id)
    if status and status not in STATUSES:
        raise UsageError(f"--status {status!r}: choose one of {', '.join(STATUSES)}")
    if not limit.isdigit() or not 1 <= int(limit) <= 10_000:
        raise UsageError(f"--limit {limit!r}: give a whole number from 1 to 10000")
    filters = Filters(type_id, product, lot, status, _day(date_from, "--from"), _day(date_to, "--to"))
    found = SearchIndex(repository).search(query, filters, int(limit))
    counts = dict(sorted(found.per_type.items(), key=lambda item: (-item[1], item[0])))
    if as_json:
        echo_json({"query": query, "total": found.total, "per_type": counts, "results": [
            {"id": hit.fields.get("id"), "type": hit.fields.get("type"), "subject": hit.fields.get("subject"),
             "status": hit.fields.get("status"), "revision": hit.fields.get("revision"),
             "date": _iso_day(hit.fields.get("date")), "path": hit.fields.get("path"), "score": round(hit.score, 4),
             "snippet": hit.marked("«", "»")} for hit in found.hits]})
    else:
        start, end = (("\x1b[1m", "\x1b[0m") if sys.stdout.isatty() else ("«", "»"))
        for hit in found.hits:
            fields = hit.fields
            click.echo(f"{fields.get('id', ''):<22} {fields.get('type', ''):<28} {fields.get('subject', '')}  "
                       f"{fields.get('status', '')} rev {fields.get('revision', '')}")
            click.echo(f"    {hit.marked(start, end)}")
        if found.total:
            shown = f" (showing {len(found.hits)})" if len(found.hits) < found.total else ""
            per_type = ", ".join(f"{name} {count}" for name, count in counts.items())
            click.echo(f"{found.total} record(s){shown}: {per_type}")
        else:
            click.echo("no records match", err=True)
    context.exit(0 if found.total else 1)


@click.group("index")
def index_group() -> None:
    """The search index (.qdocs/index, a cache rebuilt from the records).

    Examples:

    \b
      qdocs index status
      qdocs index update
      qdocs index rebuild
    """


@index_group.command("rebuild")
@click.pass_context
def index_rebuild(context: click.Context) -> None:
    """Recreate the search index from every record of the repository.

    Examples:

    \b
      qdocs index rebuild
    """
    from qdocs.search.index import SearchIndex

    started = time.monotonic()
    report, finish = progress_once_known(lambda total: f"indexing {total} records")
    try:
        count = SearchIndex(open_repository(context)).rebuild(report)
    finally:
        finish()
    seconds = time.monotonic() - started
    click.echo(f"indexed {count} record(s) in {seconds:.1f} s ({count / max(seconds, 1e-9):.0f} records/s)")


@index_group.command("update")
@click.pass_context
def index_update(context: click.Context) -> None:
    """Index the records changed since the commit the index holds (what the next search would
    do first); builds a missing index and rebuilds a damaged one.

    Examples:

    \b
      qdocs new final-inspection --batch inspections.csv && qdocs index update
    """
    from qdocs.search.index import SearchIndex

    started = time.monotonic()
    repository = open_repository(context)
    report, finish = progress_once_known(lambda total: f"indexing {total} records")
    try:
        count = SearchIndex(repository).update(report)
    finally:
        finish()
    click.echo(f"indexed {count} record(s) in {time.monotonic() - started:.1f} s; "
               f"the index holds commit {(repository.git.head() or '')[:10]} (HEAD)")


@index_group.command("status")
@json_option()
@click.pass_context
def index_status(context: click.Context, as_json: bool) -> None:
    """Records missing from or stale in the search index. Exit 1 when it is not current.

    Examples:

    \b
      qdocs index status
      qdocs index status --json
    """
    from qdocs.search.index import SearchIndex

    status = SearchIndex(open_repository(context)).status()
    if as_json:
        echo_json(status.to_json())
    elif not status.exists:
        click.echo(f"no search index: {len(status.missing)} record(s) not indexed (create it: qdocs index rebuild)")
    else:
        click.echo(f"indexed commit {(status.indexed_commit or '')[:10]}, HEAD {(status.head or '')[:10]}; "
                   f"{status.records} record(s) indexed")
        for label, folders in (("missing", status.missing), ("stale", status.stale), ("removed", status.removed)):
            for folder in folders:
                click.echo(f"{label:<8} {folder.rsplit('/', 1)[-1]:<22} {folder}")
        click.echo("current" if status.current else
                   f"not current: {len(status.missing)} missing, {len(status.stale)} stale, "
                   f"{len(status.removed)} removed (the next search catches up)")
    context.exit(0 if status.current else 1)


def _day(value: str | None, option: str) -> Any:
    """``--from`` / ``--to``: a day written YYYY-MM-DD, or None."""
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r}: write a date as YYYY-MM-DD, e.g. 2026-03-01") from None


def _iso_day(value: Any) -> str | None:
    """A result's date (a datetime from the index) as YYYY-MM-DD for JSON."""
    return value.date().isoformat() if hasattr(value, "date") else value
