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


@cli.command()
@click.argument("record_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--rev", "revision", metavar="R", help="An earlier revision (stamped SUPERSEDED when not current).")
@click.option("--pdf", "as_pdf", is_flag=True, default=True, help="PDF (the only format; the default).")
@click.option("-o", "--output", metavar="PATH", help="File for one record, folder for several (default: here, ID.pdf).")
@click.option("--sign", is_flag=True, help="Sign with the company certificate (approved, current records only).")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def export(context: click.Context, record_ids: tuple[str, ...], revision: str | None, as_pdf: bool,
           output: str | None, sign: bool, as_json: bool) -> None:
    """Render records to stamped PDF copies with LibreOffice (one run for all); --sign signs them."""
    from qdocs.pdf.export import export_records, output_targets, write_files

    repository = open_repository(context)
    names = [f"{record_id}{'-' + revision if revision else ''}.pdf" for record_id in dict.fromkeys(record_ids)]
    targets = output_targets(names, output)
    update, finish = steps()
    try:
        files = export_records(repository, list(record_ids), context.obj["actor"], revision, sign,
                               company_passphrase, update)
    finally:
        finish()
    write_files([(target, content) for target, (_, content) in zip(targets, files)])
    if as_json:
        echo_json([{"file": str(target), "bytes": len(content), "signed": sign}
                    for target, (_, content) in zip(targets, files)])
    else:
        for target in targets:
            click.echo(str(target))


@cli.command("verify-pdf")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cert", "certificate", type=click.Path(path_type=Path), metavar="FILE.pem",
              help="Check against this certificate instead of the repository's company certificates.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def verify_pdf_command(context: click.Context, file: Path, certificate: Path | None, as_json: bool) -> None:
    """Validate a signed PDF against the company certificate. Exit 1 when invalid or modified."""
    from qdocs.errors import UsageError
    from qdocs.pdf.company import company_certificates
    from qdocs.pdf.validation import verify_pdf

    repository = None
    if certificate is not None:
        try:
            trusted = [certificate.read_bytes()]
        except OSError as error:
            raise UsageError(f"--cert {certificate}: cannot read: {error.strerror}") from None
    else:
        repository = open_repository(context)
        trusted = company_certificates(repository)
    report = verify_pdf(file, trusted, repository)
    if as_json:
        echo_json(report.to_json())
    else:
        for signature in report.signatures:
            click.echo(f"signature {signature['field']}: {signature['signer']}, {signature['time']}")
            click.echo(f"  reason: {signature['reason']}")
        for problem in report.problems:
            click.echo(f"{file}: {problem}")
        for note in report.notes:
            click.echo(f"note: {note}")
        click.echo(f"{file}: {'valid' if report.valid else 'NOT valid'}", err=True)
    context.exit(0 if report.valid else 1)


@cli.command()
@click.argument("record_id", metavar="ID")
@click.argument("file", type=click.Path(path_type=Path), metavar="FILE.pdf")
@click.option("--title", required=True, help="What the document is, e.g. \"第三方检测报告 Lab test report\".")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def attach(context: click.Context, record_id: str, file: Path, title: str, as_json: bool) -> None:
    """Store an external PDF with a record (checked first; corrupt, encrypted or hostile files are refused)."""
    from qdocs.pdf.attachments import attach_file

    entry = attach_file(open_repository(context), record_id, file, title, context.obj["actor"])
    if as_json:
        echo_json(entry)
    else:
        click.echo(f"{entry['path']}  ({entry['pages']} page(s), sha256 {entry['sha256'][:16]}…)")


@cli.command()
@click.argument("product", metavar="PRODUCT")
@click.option("--lot", metavar="LOT", help="One lot (with the product's own records); default: every lot.")
@click.option("-o", "--output", required=True, metavar="FILE.pdf", help="Where to write the pack.")
@click.option("--sign", is_flag=True, help="Sign the pack with the company certificate.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def pack(context: click.Context, product: str, lot: str | None, output: str, sign: bool, as_json: bool) -> None:
    """One PDF for an auditor: the audit's verdict (may ship / blocked, rule by rule), contents, the
    records with attachments, the evidence outside the lot the rules used, manifest; numbered pages."""
    from qdocs.pdf.export import write_files
    from qdocs.pdf.pack import build_pack

    repository = open_repository(context)
    target = Path(output)
    if target.is_dir():
        target = target / f"pack-{product}{'-' + lot if lot else ''}.pdf"
    update, finish = steps()
    try:
        content, summary = build_pack(repository, product, lot, context.obj["actor"], sign, company_passphrase,
                                      update)
    finally:
        finish()
    write_files([(target, content)])
    if as_json:
        echo_json({"file": str(target), **summary})
    else:
        click.echo(str(target))
        click.echo(f"{summary['records']} record(s), {summary['evidence_outside_lot']} outside the lot, "
                   f"{summary['attachments']} attachment(s), {summary['pages']} page(s); "
                   f"audit: {summary['audit']['line']}", err=True)


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
