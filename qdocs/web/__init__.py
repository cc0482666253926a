"""The web application: the library in front of people through a browser (``qdocs serve``).

A layer beside the command line: it imports the library and the library never imports
it.  Server-rendered HTML (Jinja2, autoescaped) with a JSON twin of every page; no
JavaScript.  Modules:

- :mod:`.settings`: what an administrator may set (idle timeout, lockout, TLS cookies, ...);
- :mod:`.workspace`: the repository opened once per thread, the lock around writes, and
  what is derived once per commit: :mod:`.listing` (every record of HEAD, brought up to date
  commit by commit), :mod:`.auditing` (the audit, made by a worker process on a large
  repository, as is keeping the search index current), :mod:`.overview` (the record list's
  filters);
- :mod:`.sessions`, :mod:`.lockout`, :mod:`.identity`: log-in, server-side sessions, locking
  out repeated failures, who may change what;
- :mod:`.app`: the Flask application (:func:`create_app`), its security headers and checks;
- :mod:`.pages`: one module per page group, each page with its JSON twin;
- :mod:`.server`: waitress serving the application.
"""
