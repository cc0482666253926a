"""Making a records repository: ``qdocs init``, ``qdocs migrate``, ``qdocs demo``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qdocs.commands.passphrases import passphrase
from qdocs.commands.shared import echo_json, json_option, open_repository


@click.command()
@click.argument("path", required=False)
@click.option("--site", metavar="CODE", help="Site code used in document numbers (default S1).")
@click.option("--time-zone", "time_zone", metavar="ZONE",
              help="The company's time zone, e.g. Asia/Shanghai or +08:00 (default: this machine's).")
@click.option("--admin", "admin_name", metavar="NAME", help="A new repository's first administrator (user name).")
@click.option("--full-name", metavar="TEXT", help="The first administrator's printed name.")
@click.pass_context
def init(context: click.Context, path: str | None, site: str | None, time_zone: str | None, admin_name: str | None,
         full_name: str | None) -> None:
    """Create a records repository (default ./records) with its first administrator, or
    register this copy's site.  The administrator's key passphrase: prompt or QDOCS_PASSPHRASE.

    Examples:

    \b
      qdocs init --site S1 --time-zone Asia/Shanghai --admin li.admin --full-name 李明
      qdocs init records-copy --site S2
    """
    from qdocs.founding import init_repository
    from qdocs.repository import CONFIG_PATH
    from qdocs.trust.genesis import Enrollment

    target = Path(path or context.obj["repository_path"])
    administrator = None
    if not (target / CONFIG_PATH).is_file():
        if admin_name is None and sys.stdin.isatty():
            admin_name = click.prompt("First administrator (user name, e.g. li.admin)")
            full_name = full_name or click.prompt("Printed name of the administrator")
        if admin_name:
            administrator = Enrollment(admin_name, full_name or "", lambda: passphrase(confirm=True))
    repository, message = init_repository(target, site, context.obj["actor"], time_zone=time_zone,
                                          administrator=administrator)
    context.obj["repository"] = repository
    click.echo(message)


@click.command()
@click.option("--admin", "admin_name", required=True, metavar="NAME", help="The root administrator (user name).")
@click.option("--full-name", required=True, metavar="TEXT", help="The root administrator's printed name.")
@json_option()
@click.pass_context
def migrate(context: click.Context, admin_name: str, full_name: str, as_json: bool) -> None:
    """Give a repository made before controlled forms and trust its root administrator: its users
    are attested, the forms copied into forms/ and approved.  Nothing is lost.

    Examples:

    \b
      qdocs migrate --admin li.admin --full-name 李明
    """
    from qdocs.trust.genesis import Enrollment, migrate as migrate_repository

    result = migrate_repository(open_repository(context), Enrollment(admin_name, full_name,
                                                                     lambda: passphrase(confirm=True)))
    if as_json:
        echo_json(result)
        return
    click.echo(f"root administrator {result['root']}, key {result['fingerprint']} (write it down)")
    click.echo(f"attested {len(result['users_attested'])} earlier user(s): {', '.join(result['users_attested']) or '-'}")
    click.echo(f"{len(result['forms'])} form(s) in forms/, approved; private key: {result['private_key_file']}")


@click.command()
@click.pass_context
def demo(context: click.Context) -> None:
    """Fill the repository with a full record set for one product and lot.

    Examples:

    \b
      qdocs --repo demo-records demo
    """
    from qdocs.demo import run_demo

    report = run_demo(context.obj["repository_path"], context.obj["actor"])
    for line in report:
        click.echo(line)
