"""The web application: ``qdocs serve``."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default; "
              "put a TLS reverse proxy in front for other machines).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--idle-minutes", default=15.0, show_default=True, type=click.FloatRange(1, 24 * 60),
              help="A session ends after this long without a request.")
@click.option("--secure-cookies", is_flag=True, help="Send the session cookie over HTTPS only (behind a TLS proxy).")
@click.option("--trusted-proxy", metavar="ADDRESS", help="The reverse proxy whose X-Forwarded-For names the client.")
@click.option("--keys", "keys_home", type=click.Path(path_type=Path, file_okay=False), metavar="FOLDER",
              help="Folder of the users' private keys (default: QDOCS_HOME; the demo repository's own demo keys).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@click.pass_context
def serve(context: click.Context, host: str, port: int, idle_minutes: float, secure_cookies: bool,
          trusted_proxy: str | None, keys_home: Path | None, threads: int) -> None:
    """Serve the repository to browsers: inbox, records, signing, search, release board (JSON twins too).

    Users log in with their user name and the passphrase of their signing key, as for qdocs sign.

    Examples:

    \b
      qdocs serve
      qdocs --repo /srv/records serve --host 127.0.0.1 --port 8000 --secure-cookies --trusted-proxy 127.0.0.1
    """
    from qdocs.web.server import serve as run_server
    from qdocs.web.settings import Settings

    settings = Settings(idle_minutes=idle_minutes, secure_cookies=secure_cookies, trusted_proxy=trusted_proxy,
                        keys_home=keys_home, threads=threads)

    def ready(address: str) -> None:
        click.echo(f"qdocs serves {context.obj['repository_path']} at {address} (Ctrl-C stops it)", err=True)
        if keys_home is None and (Path(context.obj["repository_path"]) / ".git" / "qdocs" / "demo-keys").is_dir():
            click.echo("the demo repository: log in as demo.inspector, demo.qc-manager, demo.auditor, ... "
                       "(demo.ROLE) with the passphrase demo-passphrase", err=True)

    run_server(context.obj["repository_path"], settings, host, port, ready)
