"""PDF copies: ``qdocs export``, ``qdocs pack``, ``qdocs attach``, ``qdocs verify-pdf``.

The library is :mod:`qdocs.pdf`; LibreOffice, pypdf and pyHanko are used only when these
commands run.  The company certificate that signs the copies is made by
``qdocs keys company-cert``.
"""

from __future__ import annotations

from pathlib import Path

import click

from qdocs.commands.passphrases import company_passphrase
from qdocs.commands.shared import echo_json, json_option, open_repository, steps
from qdocs.errors import UsageError


@click.command()
@click.argument("record_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--rev", "revision", metavar="R", help="An earlier revision (stamped SUPERSEDED when not current).")
@click.option("--pdf", "as_pdf", is_flag=True, default=True, help="PDF (the only format; the default).")
@click.option("-o", "--output", metavar="PATH", help="File for one record, folder for several (default: here, ID.pdf).")
@click.option("--sign", is_flag=True, help="Sign with the company certificate (approved, current records only).")
@json_option()
@click.pass_context
def export(context: click.Context, record_ids: tuple[str, ...], revision: str | None, as_pdf: bool,
           output: str | None, sign: bool, as_json: bool) -> None:
    """Render records to stamped PDF copies with LibreOffice (one run for all); --sign signs them.

    Examples:

    \b
      qdocs export FIR-S1-2026-0001
      qdocs export FIR-S1-2026-0001 --rev A -o first-revision.pdf
      qdocs export FIR-S1-2026-0001 FIR-S1-2026-0002 --sign -o copies/
    """
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


@click.command()
@click.argument("product", metavar="PRODUCT")
@click.option("--lot", metavar="LOT", help="One lot (with the product's own records); default: every lot.")
@click.option("-o", "--output", required=True, metavar="FILE.pdf", help="Where to write the pack.")
@click.option("--sign", is_flag=True, help="Sign the pack with the company certificate.")
@json_option()
@click.pass_context
def pack(context: click.Context, product: str, lot: str | None, output: str, sign: bool, as_json: bool) -> None:
    """One PDF for an auditor: the audit's verdict (may ship / blocked, rule by rule), contents, the
    records with attachments, the evidence outside the lot the rules used, manifest; numbered pages.

    Examples:

    \b
      qdocs pack PUMP-X200 --lot L2026-031 -o pack.pdf --sign
      qdocs pack PUMP-X200 -o packs/
    """
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


@click.command()
@click.argument("record_id", metavar="ID")
@click.argument("file", type=click.Path(path_type=Path), metavar="FILE.pdf")
@click.option("--title", required=True, help="What the document is, e.g. \"第三方检测报告 Lab test report\".")
@json_option()
@click.pass_context
def attach(context: click.Context, record_id: str, file: Path, title: str, as_json: bool) -> None:
    """Store an external PDF with a record (checked first; corrupt, encrypted or hostile files are refused).

    Examples:

    \b
      qdocs attach FIR-S1-2026-0001 lab-report.pdf --title "第三方检测报告 Lab test report"
    """
    from qdocs.pdf.attachments import attach_file

    entry = attach_file(open_repository(context), record_id, file, title, context.obj["actor"])
    if as_json:
        echo_json(entry)
    else:
        click.echo(f"{entry['path']}  ({entry['pages']} page(s), sha256 {entry['sha256'][:16]}…)")


@click.command("verify-pdf")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cert", "certificate", type=click.Path(path_type=Path), metavar="FILE.pem",
              help="Check against this certificate instead of the repository's company certificates.")
@json_option()
@click.pass_context
def verify_pdf_command(context: click.Context, file: Path, certificate: Path | None, as_json: bool) -> None:
    """Validate a signed PDF against the company certificate. Exit 1 when invalid or modified.

    Examples:

    \b
      qdocs verify-pdf FIR-S1-2026-0001.pdf
      qdocs verify-pdf pack.pdf --cert company-cert.pem --json
    """
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
