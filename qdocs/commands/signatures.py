"""Signing and proving: ``qdocs sign``, ``qdocs verify``, ``qdocs checkpoint``."""

from __future__ import annotations

from pathlib import Path

import click

from qdocs.commands.passphrases import passphrase
from qdocs.commands.shared import echo_json, json_option, open_repository, progress, progress_once_known
from qdocs.errors import UsageError


@click.command()
@click.argument("record_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--as", "signer", required=True, metavar="NAME", help="The user signing.")
@click.option("--meaning", required=True, metavar="MEANING",
              help="What the signature means, from the catalog: prepared, inspected, performed, reviewed, approved.")
@click.option("--comment", help="A comment shown with the signature.")
@click.option("--rev", "revision", metavar="R", help="The revision you reviewed (refused if superseded).")
@json_option("Print the record(s) as JSON.")
@click.pass_context
def sign(context: click.Context, record_ids: tuple[str, ...], signer: str, meaning: str, comment: str | None,
         revision: str | None, as_json: bool) -> None:
    """Sign records (prepared / inspected / performed, then reviewed, then approved); several IDs sign in one commit.

    Examples:

    \b
      qdocs sign FIR-S1-2026-0001 --as li.si --meaning inspected
      qdocs sign FIR-S1-2026-0001 FIR-S1-2026-0002 --as wang.qc --meaning approved --rev A
    """
    from qdocs.signing import sign_records

    update, finish = progress(len(record_ids), "signing")
    try:
        records = sign_records(open_repository(context), list(record_ids), signer, meaning, passphrase, comment,
                               revision, update)
    finally:
        finish()
    if as_json:
        echo_json(records[0].to_json() if len(records) == 1 else [record.to_json() for record in records])
    else:
        for record in records:
            click.echo(f"{record.id} rev {record.revision} {record.status}")


@click.command()
@click.argument("record_ids", nargs=-1, metavar="[ID]...")
@click.option("--checkpoint", "checkpoint_files", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="A checkpoint kept outside the repository (qdocs checkpoint -o): report it if it is no longer "
                   "in the history (repeatable).")
@click.option("--since", metavar="CHECKPOINT",
              help="Check only what changed after a checkpoint: a file (qdocs checkpoint -o) or 'verified' "
                   "(the last full verify of this copy that found nothing).")
@json_option()
@click.pass_context
def verify(context: click.Context, record_ids: tuple[str, ...], checkpoint_files: tuple[Path, ...],
           since: str | None, as_json: bool) -> None:
    """Check documents, signatures, the trust chain (who may do what), the forms, the numbering
    and the event chains. Exit 1 on findings.

    The root of trust first (compare it with the fingerprint kept on paper), the findings,
    then a summary line, all on stdout: the summary is the answer to "is it clean?", so it
    goes where the answer is read and kept (a log, a CI job), not with diagnostics.

    Examples:

    \b
      qdocs verify
      qdocs verify --checkpoint 2026-12-01.checkpoint
      qdocs verify --since verified
      qdocs verify --since 2026-12-01.checkpoint
      qdocs verify FIR-S1-2026-0001 --json
    """
    from qdocs.checkpoints import read_checkpoint, since_point
    from qdocs.verification import verify_repository

    if since and record_ids:
        raise UsageError("give record ids or --since, not both")
    repository = open_repository(context)
    points = [read_checkpoint(path) for path in checkpoint_files]
    if since:
        from qdocs.verifysince import verify_since

        anchor = since_point(repository, since)
        report_progress, finish = progress_once_known(lambda total: "verifying changes")
        try:
            report = verify_since(repository, anchor, report_progress, points)
        finally:
            finish()
    else:
        total = len(record_ids) or sum(1 for _ in repository.git.find_files("**/record.yaml"))
        update, finish = progress(total, "verifying")
        try:
            report = verify_repository(repository, list(record_ids) or None, update, points)
        finally:
            finish()
    if as_json:
        echo_json(report.to_json())
    else:
        root = report.root
        click.echo(f"root of trust: {root['fingerprint']} ({root['user']}, {root['created']})" if root
                   else "root of trust: none (qdocs migrate)")
        for finding in report.findings:
            click.echo(str(finding))
        for note in report.notes:
            click.echo(f"note: {note}")
        if report.since:
            click.echo(f"since checkpoint {report.since['commit'][:12]} of {report.since['time'] or '?'}: "
                       f"{report.since['not_read']}")
        click.echo(f"{report.records_checked} record(s), {report.signatures_checked} signature(s), "
                   f"{report.events_checked} event(s), {report.trust_entries} trust entr"
                   f"{'y' if report.trust_entries == 1 else 'ies'} checked: "
                   f"{'clean' if report.clean else str(len(report.findings)) + ' finding(s)'}")
    context.exit(0 if report.clean else 1)


@click.command()
@click.option("-o", "--output", metavar="FILE", help="Also write the checkpoint to FILE.")
@json_option()
@click.pass_context
def checkpoint(context: click.Context, output: str | None, as_json: bool) -> None:
    """Print the head of the history (commit and every chain's last hash) to keep outside the
    repository; qdocs verify --checkpoint reports when it is no longer in the history.

    Examples:

    \b
      qdocs checkpoint -o 2026-12-02.checkpoint
      qdocs checkpoint --json
    """
    from qdocs.checkpoints import take_checkpoint

    point = take_checkpoint(open_repository(context), Path(output) if output else None)
    if as_json:
        echo_json(point.to_json())
    else:
        click.echo(point.text(), nl=False)
