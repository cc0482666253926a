"""Records: ``qdocs new``, ``show``, ``list``, ``history``, ``revise``, ``void``, ``open``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from qdocs.commands.shared import echo_json, json_option, open_catalog, open_repository, progress
from qdocs.errors import StorageError, UsageError


def _subject_options(function: Callable) -> Callable:
    """One option per kind of subject (``--product``, ``--lot``, ...), parameters ``subject_product``, ..."""
    for key in reversed(("product", "lot", "supplier", "contract", "material-lot", "equipment", "staff", "case")):
        function = click.option(f"--{key}", f"subject_{key.replace('-', '_')}", metavar="ID",
                                help=f"Subject: {key.replace('-', ' ')} id.")(function)
    return function


@click.command()
@click.argument("type_id", metavar="TYPE")
@click.option("--data", "data_file", metavar="FILE", help="Data file (.yaml or .json).")
@click.option("--batch", "batch_file", metavar="FILE", help="Many records: .csv (a row each) or a YAML/JSON list.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Set or override one value.")
@_subject_options
@json_option("Print the new record(s) as JSON.")
@click.pass_context
def new(context: click.Context, type_id: str, data_file: str | None, batch_file: str | None,
        assignments: tuple[str, ...], as_json: bool, **subject: str | None) -> None:
    """Create a record of TYPE from a data file; print its id.

    Examples:

    \b
      qdocs new final-inspection --data inspection.yaml --product PUMP-X200 --lot L2026-031
      qdocs new final-inspection --data inspection.yaml --set conclusion=fail --json
      qdocs new final-inspection --batch inspections.csv
    """
    from qdocs.actions import create_record, create_records

    catalog = open_catalog(context)
    catalog.get(type_id)
    if batch_file and data_file:
        raise UsageError("give --data or --batch, not both")
    if batch_file:
        from qdocs.datafiles import read_batch_file

        inputs = read_batch_file(batch_file, catalog.get(type_id))
        overrides = _values(None, assignments, subject)
        inputs = [{**item, **overrides} for item in inputs]
        repository = open_repository(context)
        update, finish = progress(len(inputs), f"creating {len(inputs)} records")
        try:
            records = create_records(repository, type_id, inputs, context.obj["actor"], update)
        finally:
            finish()
    else:
        if not data_file and not assignments:
            raise UsageError(f"give the record's data with --data FILE (see: qdocs types show {type_id} --example)")
        values = _values(data_file, assignments, subject)
        records = [create_record(open_repository(context), type_id, values, context.obj["actor"])]
    if as_json:
        echo_json(records[0].to_json() if not batch_file else [record.to_json() for record in records])
    else:
        for record in records:
            click.echo(record.id)


@click.command()
@click.argument("record_id", metavar="ID")
@click.option("--rev", "revision", metavar="R", help="An earlier revision (A, B, ...).")
@json_option()
@click.pass_context
def show(context: click.Context, record_id: str, revision: str | None, as_json: bool) -> None:
    """Show a record's metadata and data (times in the company's time zone; --json: as stored).

    Examples:

    \b
      qdocs show FIR-S1-2026-0001
      qdocs show FIR-S1-2026-0001 --rev A --json
    """
    from qdocs.queries import record_at_revision
    from qdocs.timezones import display_text
    from qdocs.trust.report import record_forms
    from qdocs.validation import NONE, NONE_DISPLAY

    repository = open_repository(context)
    record, _ = record_at_revision(repository, record_id, revision)
    forms = record_forms(repository, record)
    if as_json:
        echo_json({**record.to_json(), "forms": forms})
        return
    record_type = repository.catalog.get(record.type)
    zone = repository.time_zone
    click.echo(f"{record.id}  {record_type.name.zh} {record_type.name.en}")
    click.echo(f"  subject   {record.subject.scope}: {record.subject.label()}")
    click.echo(f"  revision  {record.revision}   status {record.status}")
    click.echo(f"  created   {display_text(record.created.time, zone)} by {record.created.actor}")
    click.echo(f"  changed   {display_text(record.changed.time, zone)} by {record.changed.actor}")
    if record.void:
        click.echo(f"  void      {display_text(record.void['time'], zone)} by {record.void['actor']}: "
                   f"{record.void['reason']}")
    for signature in record.signatures:
        meaning = repository.catalog.meanings.get(signature["meaning"])
        label = f"{meaning.label.zh} {signature['meaning']}" if meaning else signature["meaning"]
        click.echo(f"  signed    {label} by {signature.get('full_name', '')} ({signature['signer']}) "
                   f"{display_text(signature['time'], zone)}")
    for item in record.superseded:
        click.echo(f"  note      {item.get('note', '')}")
    click.echo(f"  folder    {record.path}")
    for form in forms.values():
        state = f"version {form['version']}" if form["version"] else "never approved"
        click.echo(f"  form      {form['path']} {state} (sha256 {form['sha256'][:16]}…)")
    for item in record_type.fields:
        value = record.data.get(item.key)
        if item.type == "table" and value == NONE:
            click.echo(f"  {item.label.zh} {item.label.en}: {NONE_DISPLAY}")
        elif item.type == "table":
            click.echo(f"  {item.label.zh} {item.label.en}:")
            for row in value or []:
                click.echo("    - " + "; ".join(f"{key}: {cell}" for key, cell in row.items() if cell not in (None, "")))
        else:
            text = "" if value is None else ("yes" if value is True else "no" if value is False else str(value))
            click.echo(f"  {item.label.zh} {item.label.en}: {text}")


@click.command("list")
@click.option("--type", "type_id", metavar="TYPE", help="Only this record type.")
@click.option("--product", metavar="P")
@click.option("--lot", metavar="L")
@click.option("--status", type=click.Choice(["draft", "in-review", "approved", "void"]))
@json_option()
@click.pass_context
def list_records(context: click.Context, type_id: str | None, product: str | None, lot: str | None,
                 status: str | None, as_json: bool) -> None:
    """List current records.

    Examples:

    \b
      qdocs list --product PUMP-X200 --lot L2026-031
      qdocs list --type final-inspection --status draft --json
    """
    from qdocs.queries import iter_records

    repository = open_repository(context)
    if type_id:
        repository.catalog.get(type_id)
    records = list(iter_records(repository, type_id, product, lot, status))
    if as_json:
        echo_json([record.to_json() for record in records])
        return
    for record in records:
        click.echo(f"{record.id:<22} {record.revision:<3} {record.status:<9} {record.type:<28} {record.subject.label()}")
    click.echo(f"{len(records)} record(s)", err=True)


@click.command()
@click.argument("record_id", metavar="ID")
@json_option()
@click.pass_context
def history(context: click.Context, record_id: str, as_json: bool) -> None:
    """A record's history from git, newest first (times in the company's time zone; --json: as git has them).

    Examples:

    \b
      qdocs history FIR-S1-2026-0001
    """
    from qdocs.queries import history as record_history
    from qdocs.timezones import display_text

    repository = open_repository(context)
    entries = record_history(repository, record_id)
    if as_json:
        echo_json([entry.to_json() for entry in entries])
        return
    for entry in entries:
        reason = f"  ({entry.reason})" if entry.reason else ""
        click.echo(f"{entry.commit[:10]}  {display_text(entry.time, repository.time_zone)}  {entry.actor:<14} "
                   f"{entry.action:<8} rev {entry.revision}{reason}")


@click.command()
@click.argument("record_id", metavar="ID")
@click.option("--data", "data_file", metavar="FILE", help="The complete new data (.yaml or .json).")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Change one value.")
@click.option("--reason", required=True, help="Why the record is revised.")
@json_option("Print the record as JSON.")
@click.pass_context
def revise(context: click.Context, record_id: str, data_file: str | None, assignments: tuple[str, ...],
           reason: str, as_json: bool) -> None:
    """Start the next revision of a record (A → B → ...).

    Examples:

    \b
      qdocs revise FIR-S1-2026-0001 --set conclusion=fail --reason "re-test of flow failed"
      qdocs revise FIR-S1-2026-0001 --data inspection.yaml --reason "wrong quantities"
    """
    from qdocs.actions import revise_record
    from qdocs.queries import get_record

    repository = open_repository(context)
    if data_file:
        values = _values(data_file, assignments, {})
    else:
        values = {**get_record(repository, record_id).data, **_values(None, assignments, {})}
    record = revise_record(repository, record_id, values, reason, context.obj["actor"])
    echo_json(record.to_json()) if as_json else click.echo(f"{record.id} revision {record.revision}")


@click.command()
@click.argument("record_id", metavar="ID")
@click.option("--reason", required=True, help="Why the record is void.")
@json_option("Print the record as JSON.")
@click.pass_context
def void(context: click.Context, record_id: str, reason: str, as_json: bool) -> None:
    """Mark a record void (nothing is deleted).

    Examples:

    \b
      qdocs void FIR-S1-2026-0002 --reason "entered against the wrong lot"
    """
    from qdocs.actions import void_record

    record = void_record(open_repository(context), record_id, reason, context.obj["actor"])
    echo_json(record.to_json()) if as_json else click.echo(f"{record.id} void")


@click.command("open")
@click.argument("record_id", metavar="ID")
@click.option("--rev", "revision", metavar="R", help="An earlier revision.")
@click.option("-o", "--output", metavar="FILE", help="Where to write the .docx (default ID[-R].docx).")
@click.pass_context
def open_record(context: click.Context, record_id: str, revision: str | None, output: str | None) -> None:
    """Write out a record's Word document.

    Examples:

    \b
      qdocs open FIR-S1-2026-0001
      qdocs open FIR-S1-2026-0001 --rev A -o first-revision.docx
    """
    from qdocs.queries import record_at_revision

    _, document = record_at_revision(open_repository(context), record_id, revision)
    target = Path(output or f"{record_id}{'-' + revision if revision else ''}.docx")
    try:
        target.write_bytes(document)
    except OSError as error:
        raise StorageError(f"cannot write {target}: {error.strerror}") from None
    click.echo(str(target))


def _values(data_file: str | None, assignments: tuple[str, ...], subject: dict[str, str | None]) -> dict[str, Any]:
    """The data file's values, then each ``--set KEY=VALUE``, then each subject option given."""
    from qdocs.datafiles import parse_assignment, read_data_file

    values = read_data_file(data_file) if data_file else {}
    for assignment in assignments:
        key, value = parse_assignment(assignment)
        values[key] = value
    for key, value in subject.items():
        if value is not None:
            values[key.removeprefix("subject_")] = value
    return values
