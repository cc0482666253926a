"""The catalog and its forms: ``qdocs types``, ``qdocs templates check``, ``qdocs forms``."""

from __future__ import annotations

from pathlib import Path

import click

from qdocs.commands.passphrases import credentials
from qdocs.commands.shared import echo_json, json_option, open_catalog, open_repository


@click.group(invoke_without_command=True)
@json_option()
@click.pass_context
def types(context: click.Context, as_json: bool) -> None:
    """List the record types of the catalog.

    Examples:

    \b
      qdocs types
      qdocs types show final-inspection --example > inspection.yaml
    """
    if context.invoked_subcommand:
        return
    catalog = open_catalog(context)
    if as_json:
        echo_json([{"id": t.id, "prefix": t.prefix, "name": {"zh": t.name.zh, "en": t.name.en},
                    "clause": t.clause, "scope": list(t.scopes)} for t in catalog.types.values()])
        return
    for record_type in catalog.types.values():
        click.echo(f"{record_type.id:<28} {record_type.prefix:<4} {record_type.clause:<16} "
                   f"{'/'.join(record_type.scopes):<18} {record_type.name.zh} {record_type.name.en}")


@types.command("show")
@click.argument("type_id", metavar="TYPE")
@json_option()
@click.option("--example", is_flag=True, help="Print a complete example data file (YAML).")
@click.pass_context
def types_show(context: click.Context, type_id: str, as_json: bool, example: bool) -> None:
    """Show a type's fields, or an example data file for it.

    Examples:

    \b
      qdocs types show final-inspection
      qdocs types show final-inspection --example > inspection.yaml
    """
    from qdocs.examples import describe_type, example_yaml, field_hint

    catalog = open_catalog(context)
    record_type = catalog.get(type_id)
    if example:
        click.echo(example_yaml(catalog, record_type), nl=False)
        return
    if as_json:
        echo_json(describe_type(catalog, record_type))
        return
    click.echo(f"{record_type.id}: {record_type.name.zh} {record_type.name.en} ({record_type.clause})")
    click.echo(f"subject: {' or '.join(record_type.scopes)}; document numbers {record_type.prefix}-SITE-YEAR-NNNN; "
               f"kept {record_type.retention_years} years")
    click.echo("signatures: " + ", ".join(f"{s.meaning} ({'/'.join(s.roles)})" for s in record_type.signatures))
    for item in record_type.fields:
        click.echo(f"  {item.key:<26} {item.label.zh} {item.label.en} — {field_hint(item)}")


@click.group()
def templates() -> None:
    """Word templates.

    Examples:

    \b
      qdocs templates check
    """


@templates.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@json_option()
@click.pass_context
def templates_check(context: click.Context, files: tuple[Path, ...], as_json: bool) -> None:
    """Check templates against the catalog (all types, or the given files). Exit 1 on findings.

    Examples:

    \b
      qdocs templates check
      qdocs templates check records/forms/final-inspection.docx --json
    """
    from qdocs.templatecheck import check_templates

    catalog = open_catalog(context)
    findings = check_templates(catalog, list(files))
    if as_json:
        echo_json([finding.to_json() for finding in findings])
    else:
        for finding in findings:
            click.echo(str(finding))
        checked = len(files) or len(catalog.types)
        click.echo(f"{checked} template(s) checked, {len(findings)} finding(s)", err=True)
    context.exit(1 if findings else 0)


@click.group()
def forms() -> None:
    """The forms (catalog, rules, Word templates in forms/): controlled documents, approved before use.

    Examples:

    \b
      qdocs forms status
      qdocs forms approve --as wang.qc --comment "new torque item"
    """


@forms.command("status")
@json_option()
@click.pass_context
def forms_status(context: click.Context, as_json: bool) -> None:
    """Each form's approved version, and the changes waiting for approval.

    Examples:

    \b
      qdocs forms status
    """
    from qdocs.forms import form_states

    states = form_states(open_repository(context))
    if as_json:
        echo_json([state.to_json() for state in states])
        return
    for state in states:
        version = (state.approved or {}).get("version", "-")
        by = f"approved by {state.approved['by']} {state.approved['time']}" if state.approved else "never approved"
        click.echo(f"{state.path:<44} v{version:<3} {state.state:<9} {by}")
    waiting = [state.path for state in states if state.state != "approved"]
    click.echo(f"{len(states)} form(s); {len(waiting)} waiting for approval"
               + (": qdocs forms approve --as NAME" if waiting else ""))


@forms.command("approve")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--as", "approver", required=True, metavar="NAME",
              help="Who approves (a role the catalog lists under forms: approve; passphrase: prompt or QDOCS_PASSPHRASE).")
@click.option("--comment", help="What changed and why, for the history of the form.")
@json_option()
@click.pass_context
def forms_approve(context: click.Context, files: tuple[str, ...], approver: str, comment: str | None,
                  as_json: bool) -> None:
    """Put changed forms in force (default: every changed one), after checking they fit together.

    Examples:

    \b
      qdocs forms approve forms/final-inspection.docx --as wang.qc --comment "new torque item"
    """
    from qdocs.trust.administration import approve_forms

    approved = approve_forms(open_repository(context), credentials(approver), list(files), comment)
    if as_json:
        echo_json(approved)
        return
    for form in approved:
        click.echo(f"{form['path']} version {form['version']} in force (sha256 {form['sha256'][:16]}…)")
