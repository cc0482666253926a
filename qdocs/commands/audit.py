"""The audit: ``qdocs audit``, ``qdocs release-check``, ``qdocs suppliers``.

The library is :mod:`qdocs.audit`; these commands parse, call it, and print.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

from qdocs.commands.shared import echo_json, json_option, open_repository, progress_once_known


@click.command()
@click.option("--product", metavar="P", help="Only this product's lots.")
@click.option("--lot", metavar="L", help="Only this lot.")
@click.option("--as-of", "as_of", metavar="DATE", help="The repository as it stood at the end of DATE (from git).")
@json_option()
@click.option("--html", "html_file", metavar="FILE", help="Also write a standalone HTML report to FILE.")
@click.pass_context
def audit(context: click.Context, product: str | None, lot: str | None, as_of: str | None, as_json: bool,
          html_file: str | None) -> None:
    """Completeness audit: every lot against the release rules, and the after-sales rules.

    Exit 1 when a blocking rule fails for any lot shown.

    Examples:

    \b
      qdocs audit
      qdocs audit --product PUMP-X200 --lot L2026-031
      qdocs audit --as-of 2026-03-31 --html audit.html
    """
    from qdocs.audit.evaluation import run_audit
    from qdocs.audit.textreport import audit_lines

    day = _as_of(as_of)
    repository = open_repository(context)
    progress, finish = _snapshot_progress()
    try:
        report = run_audit(repository, product, lot, day, progress)
    finally:
        finish()
    if html_file:
        from qdocs.audit.htmlreport import write_html
        from qdocs.audit.rules import rules_version

        write_html(report, Path(html_file), repository.company, repository.time_zone,
                   rules_version(repository, report.rules))
    if as_json:  # indented on a terminal; compact for tools (150,000 records: 17 MB instead of 30)
        click.echo(report.json_text(indent=2 if sys.stdout.isatty() or len(report.lots) <= 100 else None))
    else:
        click.echo("\n".join(audit_lines(report, colour=sys.stdout.isatty(), detail=bool(product or lot))))
    context.exit(1 if report.blocking else 0)


@click.command("release-check")
@click.argument("product")
@click.option("--lot", required=True, metavar="L", help="The lot to ship.")
@click.option("--as-of", "as_of", metavar="DATE", help="As the repository stood at the end of DATE.")
@json_option()
@click.pass_context
def release_check(context: click.Context, product: str, lot: str, as_of: str | None, as_json: bool) -> None:
    """May this lot ship? Exit 0 yes, 1 no (every blocking failure listed), 2 unknown product or lot, 3 the
    environment failed (no answer either way).

    Examples:

    \b
      qdocs release-check PUMP-X200 --lot L2026-031
      qdocs release-check PUMP-X200 --lot L2026-031 --as-of 2026-03-31 --json
    """
    from qdocs.audit.evaluation import release_check as check_release
    from qdocs.audit.textreport import release_lines

    day = _as_of(as_of)
    progress, finish = _snapshot_progress()
    try:
        lot_report, report = check_release(open_repository(context), product, lot, day, progress)
    finally:
        finish()
    if as_json:
        echo_json({"commit": report.commit, "as_of": as_of, **lot_report.to_json()})
    else:
        for line in release_lines(lot_report, report, colour=sys.stdout.isatty()):
            click.echo(line)
    context.exit(1 if lot_report.blocked else 0)


@click.command()
@click.option("--as-of", "as_of", metavar="DATE", help="The list as it stood at the end of DATE.")
@json_option()
@click.option("--docx", "docx_file", metavar="FILE", help="Also write the list as a Word document.")
@click.pass_context
def suppliers(context: click.Context, as_of: str | None, as_json: bool, docx_file: str | None) -> None:
    """The qualified supplier list (§2.2.1), derived from the supplier evaluations.

    Examples:

    \b
      qdocs suppliers
      qdocs suppliers --as-of 2026-01-01 --docx suppliers.docx
    """
    from qdocs.audit.suppliers import supplier_list, write_supplier_docx

    day = _as_of(as_of)
    repository = open_repository(context)
    listing = supplier_list(repository, day)
    if docx_file:
        write_supplier_docx(repository, listing, Path(docx_file))
    if as_json:
        echo_json(listing.to_json())
        return
    click.echo(f"{'supplier':<16} {'state':<14} {'evaluation':<20} {'conclusion':<14} {'evaluated':<10} "
               f"{'valid until':<11}  name")
    for entry in listing.entries:
        click.echo(f"{entry.supplier:<16} {entry.state:<14} {entry.evaluation or '-':<20} "
                   f"{entry.conclusion or '-':<14} {entry.evaluated or '-':<10} {entry.valid_until or '-':<11}  "
                   f"{entry.name}")
    qualified = sum(1 for entry in listing.entries if entry.state == "qualified")
    click.echo(f"{len(listing.entries)} supplier(s), {qualified} qualified (as of {listing.day})", err=True)


def _as_of(value: str | None) -> Any:
    """``--as-of DATE`` as a day, or None for now."""
    from qdocs.audit.dates import day_option

    return day_option(value) if value is not None else None


def _snapshot_progress() -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A progress bar for reading records the audit has not seen yet (first audit of a repository)."""
    return progress_once_known(lambda total: f"reading {total} records")
