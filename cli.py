"""The ``qdocs`` command line: parse, call one library method, format, map errors.

This module is the entry point (``qdocs = cli:main``).  It builds the ``qdocs`` group
and nothing more: each command lives in a module of :mod:`qdocs.commands`, one per
domain, loaded only when that command runs (or when ``--help`` lists them), so a short
command does not import what the others need.

Exit codes:

- 0: done;
- 1: a check found problems (templates check, verify, verify-pdf, audit,
  release-check, index status; search found nothing);
- 2: the input was wrong (an option, a data file, an unknown record, type,
  product or lot, a record whose state forbids the action); nothing was written;
- 3: the environment failed (the repository busy, the disk full or not writable,
  git or LibreOffice missing, a conversion that failed or hung); nothing was
  written, and the same command may succeed later unchanged.

Each error class of :mod:`qdocs.errors` carries its code;
:class:`qdocs.commands.shared.QdocsGroup` maps them in one place.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path
from typing import Any, Callable

import click

from qdocs import __version__
from qdocs.commands.passphrases import company_passphrase, credentials, new_passphrase, passphrase
from qdocs.commands.shared import (QdocsGroup, actor_option, echo_json, open_catalog, open_repository, progress,
                                   progress_once_known, repository_option, run_and_end, start, steps)

#: every command of the ``qdocs`` group: its name, and where it is defined (module of
#: :mod:`qdocs.commands`, then the name of the click command in it)
COMMANDS: dict[str, str] = {
    "init": "repository:init", "migrate": "repository:migrate", "demo": "repository:demo",
    "types": "catalog:types", "templates": "catalog:templates", "forms": "catalog:forms",
    "new": "records:new", "show": "records:show", "list": "records:list_records", "history": "records:history",
    "revise": "records:revise", "void": "records:void", "open": "records:open_record",
    "trust": "admin:trust", "users": "admin:users", "keys": "admin:keys",
    "sign": "signatures:sign", "verify": "signatures:verify", "checkpoint": "signatures:checkpoint",
    "search": "search:search", "index": "search:index_group",
    "export": "pdf:export", "pack": "pdf:pack", "attach": "pdf:attach", "verify-pdf": "pdf:verify_pdf_command",
}


class LazyGroup(QdocsGroup):
    """A group whose commands are imported from their module when first asked for."""

    def __init__(self, *args, lazy_commands: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, context: click.Context) -> list[str]:
        return sorted({*super().list_commands(context), *self.lazy_commands})

    def get_command(self, context: click.Context, name: str) -> click.Command | None:
        if name not in self.lazy_commands:
            return super().get_command(context, name)
        module, attribute = self.lazy_commands[name].split(":")
        return getattr(import_module(f"qdocs.commands.{module}"), attribute)


def main() -> None:
    """The ``qdocs`` command (see :func:`qdocs.commands.shared.run_and_end`)."""
    run_and_end(cli)


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="qdocs", message="%(prog)s %(version)s",
                      help="Print the version and exit.")
@repository_option
@actor_option
@click.pass_context
def cli(context: click.Context, repository_path: str, actor: str | None) -> None:
    """qdocs: controlled quality records from Word templates, kept in git."""
    start(context, repository_path, actor)


# -- repository ----------------------------------------------------------------


# -- catalog -------------------------------------------------------------------


# -- records -------------------------------------------------------------------


# -- users, keys, signatures ----------------------------------------------------


# == search and its index (issue 4) =============================================
# The library is qdocs.search; Whoosh is imported only when these commands run.


# == end of search ================================================================


# == PDF: export, verify-pdf, attach, pack, keys company-cert (issue 6) ============
# The library is qdocs.pdf; LibreOffice, pypdf and pyHanko are used only when these run.


# == end of PDF =====================================================================



# == audit, release gate and qualified supplier list (issue 5) ======================
# The library is qdocs.audit; these commands parse, call it, and print.


def _as_of(value: str | None) -> Any:
    from qdocs.audit.dates import day_option

    return day_option(value) if value is not None else None


def _snapshot_progress() -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A progress bar for reading records the audit has not seen yet (first audit of a repository)."""
    return progress_once_known(lambda total: f"reading {total} records")


@cli.command()
@click.option("--product", metavar="P", help="Only this product's lots.")
@click.option("--lot", metavar="L", help="Only this lot.")
@click.option("--as-of", "as_of", metavar="DATE", help="The repository as it stood at the end of DATE (from git).")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.option("--html", "html_file", metavar="FILE", help="Also write a standalone HTML report to FILE.")
@click.pass_context
def audit(context: click.Context, product: str | None, lot: str | None, as_of: str | None, as_json: bool,
          html_file: str | None) -> None:
    """Completeness audit: every lot against the release rules, and the after-sales rules.

    Exit 1 when a blocking rule fails for any lot shown."""
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


@cli.command("release-check")
@click.argument("product")
@click.option("--lot", required=True, metavar="L", help="The lot to ship.")
@click.option("--as-of", "as_of", metavar="DATE", help="As the repository stood at the end of DATE.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def release_check(context: click.Context, product: str, lot: str, as_of: str | None, as_json: bool) -> None:
    """May this lot ship? Exit 0 yes, 1 no (every blocking failure listed), 2 unknown product or lot, 3 the
    environment failed (no answer either way)."""
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


@cli.command()
@click.option("--as-of", "as_of", metavar="DATE", help="The list as it stood at the end of DATE.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.option("--docx", "docx_file", metavar="FILE", help="Also write the list as a Word document.")
@click.pass_context
def suppliers(context: click.Context, as_of: str | None, as_json: bool, docx_file: str | None) -> None:
    """The qualified supplier list (§2.2.1), derived from the supplier evaluations."""
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


# == end of audit ==================================================================


if __name__ == "__main__":
    main()
