"""The ``qdocs`` commands, one module per domain; ``cli.py`` loads each when it is needed.

Each command parses its options, calls one function or method of the library, formats
the result and leaves errors to :class:`qdocs.commands.shared.QdocsGroup`.  Only this
package (and ``cli.py``) imports click; the library never does.
"""
