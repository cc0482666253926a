"""``qdocs serve``: the application under waitress.

waitress is a production WSGI server in pure Python (no compiler, the same on Linux,
macOS and Windows), serving with a pool of threads in one process: the sessions, the
lockout and what is derived once per commit live in that process, and the repository's
file lock serialises writers with the command line.  TLS is the reverse proxy's
(README, "Web application"); waitress is told which proxy to trust for the client's
address.
"""

from __future__ import annotations

import errno
import signal
import threading
from pathlib import Path
from typing import Callable

from ..errors import EnvironmentFailure
from .app import create_app
from .settings import Settings


def serve(repository_path: str | Path, settings: Settings, host: str = "127.0.0.1", port: int = 8000,
          ready: Callable[[str], None] | None = None) -> None:
    """Serve the repository until interrupted; ``ready`` is told the address once listening."""
    import waitress

    app = create_app(repository_path, settings)
    options: dict[str, object] = {"threads": settings.threads, "ident": "qdocs", "clear_untrusted_proxy_headers": True}
    if settings.trusted_proxy:
        options.update(trusted_proxy=settings.trusted_proxy, trusted_proxy_headers="x-forwarded-for x-forwarded-proto",
                       trusted_proxy_count=1)
    try:
        server = waitress.create_server(app, host=host, port=port, **options)
    except OSError as error:
        reason = "the port is in use" if error.errno == errno.EADDRINUSE else (error.strerror or str(error))
        raise EnvironmentFailure(f"cannot listen on {host}:{port}: {reason}") from None
    if ready is not None:
        ready(f"http://{host}:{server.effective_port}/")
    stop = _stop_on_terminate()
    try:
        server.run()
    finally:
        server.close()
        app.extensions["qdocs"].workspace.close()  # the search, audit and index workers with it
        stop()


def _stop_on_terminate() -> Callable[[], None]:
    """``kill`` (SIGTERM, how service managers stop a server) stops the server as Ctrl-C does,
    so that its worker processes are stopped with it; returns what puts the old handler back.
    Only the main thread may set a handler: a server run in another thread (tests) is stopped
    by its caller."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(number: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, previous)
