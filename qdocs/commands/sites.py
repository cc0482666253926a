"""Several sites, one record set: ``qdocs remote``, ``qdocs sync``, ``qdocs status`` and
``qdocs server`` (the shared repository's guard)."""

from __future__ import annotations

import sys

import click

from qdocs.commands.shared import echo_json, json_option, open_repository, steps
from qdocs.errors import UsageError


@click.group()
def remote() -> None:
    """The git servers this copy syncs with (plain git remote works too).

    Examples:

    \b
      qdocs remote add origin ssh://git.example.com/srv/git/records.git
      qdocs remote list
    """


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.pass_context
def remote_add(context: click.Context, name: str, url: str) -> None:
    """Add remote NAME at URL (any git server: ssh, https, git://, a path).

    Examples:

    \b
      qdocs remote add origin ssh://git.example.com/srv/git/records.git
    """
    from qdocs.store.remotes import add_remote

    repository = open_repository(context)
    add_remote(repository.git, name, url)
    click.echo(f"remote {name}: {url}")


@remote.command("list")
@json_option()
@click.pass_context
def remote_list(context: click.Context, as_json: bool) -> None:
    """The remotes of this copy and their addresses.

    Examples:

    \b
      qdocs remote list --json
    """
    from qdocs.store.remotes import remotes

    known = remotes(open_repository(context).git)
    if as_json:
        echo_json(known)
        return
    for name, url in sorted(known.items()):
        click.echo(f"{name}\t{url}")


@click.command()
@click.argument("remote_name", metavar="[REMOTE]", default="origin")
@click.option("--resolve", "resolve", multiple=True, metavar="ID",
              help="A record revised both here and at REMOTE (the conflict a sync stopped on); repeatable.")
@click.option("--keep", "keep", multiple=True, metavar="SITE",
              help="The site whose revision of the --resolve record stands (one for all, or one per --resolve).")
@click.option("--reason", default="", help="Why (required with --resolve; it goes into the history).")
@json_option()
@click.pass_context
def sync(context: click.Context, remote_name: str, resolve: tuple[str, ...], keep: tuple[str, ...], reason: str,
         as_json: bool) -> None:
    """Exchange records with REMOTE (default origin): fetch, check what came in (the checks
    of qdocs verify, for what changed), merge (a merge commit, never a rebase), push; again if another site pushed
    meanwhile.  Exit 0 in sync, 1 when a person is needed (a conflict, a failed check, a
    push the server refused), 2 bad input, 3 when the remote cannot be reached.

    A record revised at both sites between two syncs stops the sync; settle it with --resolve
    ID --keep SITE --reason TEXT: the revision made at SITE stands, the other does not count
    (it stays in history), and the merge records who decided and why.

    Examples:

    \b
      qdocs sync
      qdocs sync headquarters --json
      qdocs sync --resolve FIR-S1-2026-0007 --keep S1 --reason "S1 measured again after calibration"
    """
    from qdocs.syncing import CONFLICT, REFUSED, sync as run_sync

    if keep and not resolve:
        raise UsageError("--keep needs --resolve ID: name the record whose conflict it settles")
    if resolve and len(keep) not in (1, len(resolve)):
        raise UsageError(f"--resolve names {len(resolve)} record(s) and --keep {len(keep)} site(s): give one site "
                         "for all, or one per record, in the same order")
    resolutions = dict(zip(resolve, keep * len(resolve) if len(keep) == 1 else keep))
    report, finish = steps()
    try:
        result = run_sync(open_repository(context), context.obj["actor"], remote_name, report, resolutions, reason)
    finally:
        finish()
    if as_json:
        echo_json(result.to_json())
    elif result.state == CONFLICT:
        click.echo(f"conflict: {len(result.conflicts)} file(s) were changed both here and at {remote_name} "
                   "in a way qdocs does not merge; nothing was merged:")
        for conflict in result.conflicts:
            click.echo(f"  {conflict['record']}: {conflict['path']} (here: {conflict.get('ours', 'changed')}; "
                       f"{remote_name}: {conflict.get('theirs', 'changed')})")
        revised = sorted({conflict["record"] for conflict in result.conflicts
                          if "revise" in conflict.get("ours", "") and "revise" in conflict.get("theirs", "")})
        if revised:
            click.echo(f"a person decides which revision stands: qdocs sync {remote_name} --resolve "
                       f"{revised[0]} --keep SITE --reason TEXT (see qdocs sync --help)")
    elif result.state == REFUSED:
        click.echo(f"refused what came from {remote_name}: the merged history does not pass qdocs verify; "
                   "nothing was merged:")
        for finding in result.findings:
            click.echo(f"  {finding}")
    elif result.needs_person:
        click.echo(f"the server of {remote_name} refused the push; nothing was sent:")
        for message in result.messages:
            click.echo(f"  {message}")
    else:
        for path in result.views:
            click.echo(f"merged {path} (changed here and at {remote_name}): written for both sites' trust logs")
        for record_id, site in sorted(result.resolved.items()):
            click.echo(f"resolved {record_id}: the revision made at {site} stands ({reason.strip()})")
        for entry in result.merged:
            click.echo(f"merged {entry['record']} (changed here and at {remote_name}): {entry['outcome']}")
            for item in entry["superseded"]:
                click.echo(f"  note: {item['note']}")
        click.echo(f"received {len(set(result.received))} record(s) and {result.events_received} event(s), "
                   f"sent {len(set(result.sent))} record(s) and {result.events_sent} event(s); "
                   f"sites: {', '.join(result.sites) or '-'}")
        click.echo(f"in sync with {remote_name} ({result.url})")
    if result.needs_person:
        context.exit(1)


@click.command()
@click.argument("remote_name", metavar="[REMOTE]", required=False)
@click.option("--fetch", "fetch_first", is_flag=True, help="Fetch from the remote(s) first (needs the network).")
@json_option()
@click.pass_context
def status(context: click.Context, remote_name: str | None, fetch_first: bool, as_json: bool) -> None:
    """This copy's site, its remotes, what waits to be sent and received (as of the last
    fetch; --fetch to update first), and whether a git merge is unfinished.  Works offline.

    Examples:

    \b
      qdocs status
      qdocs status origin --fetch --json
    """
    from qdocs.syncing import status as copy_status

    result = copy_status(open_repository(context, during_merge=True), remote_name, fetch_first)
    if as_json:
        echo_json(result)
        return
    click.echo(f"site: {result['site'] or '- (this copy creates no records)'}; branch {result['branch'] or '-'}; "
               f"sites known: {', '.join(result['sites']) or '-'}")
    if not result["remotes"]:
        click.echo("no remote: add one with qdocs remote add origin URL")
    for entry in result["remotes"]:
        if not entry["fetched"]:
            click.echo(f"{entry['name']} ({entry['url']}): never fetched; to send: {entry['records_to_send']} "
                       f"record(s), {entry['events_to_send']} event(s)")
            continue
        click.echo(f"{entry['name']} ({entry['url']}): to send {entry['records_to_send']} record(s), "
                   f"{entry['events_to_send']} event(s); to receive {entry['records_to_receive']} record(s), "
                   f"{entry['events_to_receive']} event(s) (as of the last fetch)")
    if result["unfinished_merge"]:
        click.echo(result["unfinished_merge"])


@click.group()
def server() -> None:
    """The shared repository on the git server.

    Examples:

    \b
      qdocs server install-hook /srv/git/records.git
    """


@server.command("install-hook")
@click.argument("path", type=click.Path(file_okay=False))
def install_hook(path: str) -> None:
    """Install a pre-receive hook in the bare repository PATH that refuses any push that does
    not pass qdocs verify (with the findings in the refusal), and forbid forced pushes and
    deleted branches there.  Run it on the server, with the qdocs the hook shall use.

    Examples:

    \b
      git init --bare --initial-branch=main /srv/git/records.git
      qdocs server install-hook /srv/git/records.git
    """
    from qdocs.serverhook import install_hook as install

    hook = install(path)
    click.echo(f"installed {hook}: pushes to {path} must pass qdocs verify")


@server.command("check-push", hidden=True)
@click.pass_context
def check_push(context: click.Context) -> None:
    """Run by the pre-receive hook: read the pushed updates (OLD NEW REF lines on standard
    input), refuse (exit 1) what does not pass qdocs verify, printing the findings.

    Examples:

    \b
      qdocs server check-push < updates.txt   (each line: OLD NEW REF, as git gives a hook)
    """
    from qdocs.serverhook import check_push as check

    problems = check(sys.stdin.read().splitlines())
    for line in problems:
        click.echo(line, err=True)
    if problems:
        context.exit(1)
