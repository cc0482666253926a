"""The ``qdocs`` command line: parse, call one library method, format, map errors.

This module is the entry point (``qdocs = cli:main``).  It builds the ``qdocs`` group
and nothing more: each command lives in a module of :mod:`qdocs.commands`, one per
domain, loaded only when that command runs (or when ``--help`` lists them), so a short
command does not import what the others need.

Exit codes:

- 0: done;
- 1: a check found problems (templates check, verify, verify-pdf, audit,
  release-check, index status; search found nothing), or sync needs a person (a
  conflict, incoming history that does not verify, a push the server refused);
- 2: the input was wrong (an option, a data file, an unknown record, type,
  product or lot, a record whose state forbids the action); nothing was written;
- 3: the environment failed (the repository busy, the disk full or not writable,
  git or LibreOffice missing, a conversion that failed or hung); nothing was
  written, and the same command may succeed later unchanged.

Each error class of :mod:`qdocs.errors` carries its code;
:class:`qdocs.commands.shared.QdocsGroup` maps them in one place.
"""

from __future__ import annotations

from importlib import import_module

import click

from qdocs import __version__
from qdocs.commands.shared import QdocsGroup, actor_option, repository_option, run_and_end, start

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
    "audit": "audit:audit", "release-check": "audit:release_check", "suppliers": "audit:suppliers",
    "kpi": "kpi:kpi",
    "remote": "sites:remote", "sync": "sites:sync", "status": "sites:status", "server": "sites:server",
    "serve": "web:serve",
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
    """qdocs: controlled quality records from Word templates, kept in git.

    Examples:

    \b
      qdocs init --site S1 --time-zone Asia/Shanghai --admin li.admin --full-name 李明
      qdocs types show final-inspection --example > inspection.yaml
      qdocs new final-inspection --data inspection.yaml --product PUMP-X200 --lot L2026-031
      qdocs --repo /srv/records list --lot L2026-031
      qdocs COMMAND --help
    """
    start(context, repository_path, actor)


if __name__ == "__main__":
    main()
