"""What every command shares: the context (repository, catalog, actor), errors, output, progress.

- :class:`QdocsGroup` is the one place a :class:`~qdocs.errors.QdocsError` becomes one
  line on stderr and its exit status (each class carries its code: 2 input, 3 environment);
- :func:`open_repository` opens the ``--repo`` repository once per command, on first use,
  and :func:`print_notices` prints what it has to say when the command ends;
- :func:`json_option` and :func:`echo_json` are every command's ``--json``;
- :func:`progress`, :func:`progress_once_known` and :func:`steps` draw progress on a
  terminal's stderr, and nothing when stderr is not a terminal.

The library is imported inside the functions that use it, so that ``qdocs --help``
and a short command load only what they run.
"""

from __future__ import annotations

import atexit
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from qdocs.errors import QdocsError

DEFAULT_REPOSITORY = "records"

repository_option = click.option(
    "--repo", "repository_path", envvar="QDOCS_REPO", default=DEFAULT_REPOSITORY, show_default=True,
    metavar="PATH", help="Records repository (also QDOCS_REPO).")
actor_option = click.option(
    "--actor", envvar="QDOCS_ACTOR", default=None, metavar="NAME",
    help="Who is acting; authors the commit (also QDOCS_ACTOR; default: your login name).")


class QdocsGroup(click.Group):
    """Maps every :class:`QdocsError` to one line on stderr and its exit status (2 input, 3 environment)."""

    def invoke(self, context: click.Context) -> Any:
        try:
            return super().invoke(context)
        except QdocsError as error:
            print_notices(context)
            click.echo(f"qdocs: error: {error}", err=True)
            context.exit(error.exit_code)
        except BrokenPipeError:
            context.exit(0)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception:
            unfinished = _unfinished_merge(context)
            if unfinished is None:
                raise
            print_notices(context)
            click.echo(f"qdocs: error: {unfinished}", err=True)
            context.exit(2)


def run_and_end(group: click.Group) -> None:
    """Run ``group`` as the ``qdocs`` command.  Once the command is done (its files closed
    and synced, its lock released, its child processes waited for, the atexit handlers of
    the libraries run), the process ends without Python's interpreter teardown, which
    frees every object of every module one by one: about 30 ms, a tenth of a
    ``qdocs new``, that nobody waits for gladly (Instagram's servers skip it the same
    way).  An unexpected exception ends the normal way."""
    atexit.register(_end_without_teardown)
    try:
        group(prog_name="qdocs")
    except SystemExit as done:
        _ENDING["status"] = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        raise
    except BaseException:
        atexit.unregister(_end_without_teardown)
        raise


def start(context: click.Context, repository_path: str, actor: str | None) -> None:
    """What the ``qdocs`` group does before any command: remember ``--repo`` and the actor,
    and print the repository's notices when the command ends."""
    context.ensure_object(dict)
    context.obj["repository_path"] = repository_path
    context.obj["actor"] = actor_name(actor)
    context.call_on_close(lambda: print_notices(context))


def actor_name(given: str | None) -> str:
    """``--actor``, else the login name; a name that cannot author a commit is refused."""
    actor = given or os.environ.get("USER") or _login_name()
    if not actor.strip() or any(character in actor for character in "<>\n\r"):
        raise click.BadParameter(f"{actor!r} cannot name an actor", param_hint="--actor")
    return actor.strip()


def open_repository(context: click.Context, during_merge: bool = False):
    """The ``--repo`` repository, opened on first use and kept for the rest of the command.
    Actions leave the search index to the next search (:mod:`qdocs.hooks`).  While a git
    merge is unfinished in it, only a command that says ``during_merge`` opens it."""
    from qdocs.repository import Repository

    if "repository" not in context.obj:
        context.obj["repository"] = Repository.open(context.obj["repository_path"], during_merge=during_merge)
    return context.obj["repository"]


def open_catalog(context: click.Context):
    """The repository's catalog once the repository is open, else the catalog shipped with qdocs."""
    if "repository" in context.obj:
        return context.obj["repository"].catalog
    from qdocs.catalog import load_catalog

    return load_catalog()


def print_notices(context: click.Context) -> None:
    """The repository's notices (an index rebuilt, a dropped tail found), once, on stderr."""
    repository = (context.find_root().obj or {}).get("repository")
    if repository is not None:
        for notice in repository.notices:
            click.echo(f"qdocs: {notice}", err=True)
        repository.notices.clear()


def json_option(help_text: str = "Output JSON.") -> Callable[[Callable], Callable]:
    """The ``--json`` flag (parameter ``as_json``)."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def progress(total: int, label: str) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A progress bar on a terminal (stderr), nothing otherwise: (update with the count done, finish)."""
    if total < 2 or not sys.stderr.isatty():
        return None, lambda: None
    bar = click.progressbar(length=total, label=label, file=sys.stderr)
    bar.__enter__()
    state = {"done": 0}

    def update(done: int) -> None:
        bar.update(done - state["done"])
        state["done"] = done

    return update, lambda: bar.__exit__(None, None, None)


def progress_once_known(label: Callable[[int], str]) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A progress bar started by the first report of (done, total), when the total is known."""
    bar: dict[str, Any] = {}

    def report(done: int, total: int) -> None:
        if "update" not in bar:
            bar["update"], bar["finish"] = progress(total, label(total))
        if bar["update"]:
            bar["update"](done)

    def finish() -> None:  # once; no bar starts after it
        end = bar.pop("finish", None)
        bar["update"] = None
        if end is not None:
            end()

    return report, finish


def steps() -> tuple[Callable[[Any], None] | None, Callable[[], None]]:
    """Named steps (:class:`qdocs.progress.Step`) on a terminal (stderr), nothing otherwise:
    a bar for a counted step, a line for a step of unknown length (with what is done, when
    known), each left on its own line when the next begins, so the terminal keeps what was done."""
    if not sys.stderr.isatty():
        return None, lambda: None
    shown: dict[str, Any] = {"label": None, "bar": None, "done": 0}

    def close() -> None:
        if shown["bar"] is not None:
            shown["bar"].__exit__(None, None, None)
        elif shown["label"] is not None:
            click.echo("", err=True)
        shown.update(label=None, bar=None, done=0)

    def report(step: Any) -> None:
        if step.label != shown["label"]:
            close()
            shown["label"] = step.label
            if step.total:
                shown["bar"] = click.progressbar(length=step.total, label=step.label, file=sys.stderr)
                shown["bar"].__enter__()
            else:
                click.echo(step.label, err=True, nl=False)
        if shown["bar"] is not None:
            shown["bar"].update(step.done - shown["done"])
        elif step.done:
            click.echo(f"\r{step.label} {step.done} done", err=True, nl=False)
        shown["done"] = step.done

    return report, close


_ENDING = {"status": 0}


def _unfinished_merge(context: click.Context) -> str | None:
    """When a command failed unexpectedly: the sentence saying a git merge is unfinished in
    its repository, if one is (files with conflict markers are no records to read; the
    command reads again once the merge is finished or undone)."""
    from qdocs.store.merging import unfinished_merge

    path = (context.obj or {}).get("repository_path")
    if not path or not (Path(path) / ".git").exists():
        return None
    try:
        return unfinished_merge(Path(path), thorough=True)
    except Exception:  # the repository cannot even say: let the first error show
        return None


def _end_without_teardown() -> None:
    """Registered first, so it runs after every other atexit handler."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed pipe: nothing more can be said there
            pass
    os._exit(_ENDING["status"])


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "qdocs"
