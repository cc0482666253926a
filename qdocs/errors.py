"""Every error qdocs raises for a user to read.

One base, :class:`QdocsError`, with small named subclasses.  The command line maps
them to one-line messages and exit codes in one place (``qdocs/commands/shared.py``),
from each class's ``exit_code``:

- 2, the input was wrong (an option, a data file, a record id, a record's state):
  the user can fix it by giving something else; nothing was written;
- 3, the environment failed (:class:`EnvironmentFailure`): the repository was
  busy, the disk full or not writable, git or LibreOffice missing, a conversion
  hung.  The same command may succeed later unchanged, which is why a script or a
  scheduler must be able to tell it apart from 2 (retry, or call an
  administrator, rather than correct the input).

Checks that *find* problems (verify, audit, release-check, templates check) do not
raise: they return findings and exit 1.
"""

from __future__ import annotations


class QdocsError(Exception):
    """Base of every error meant for the user. ``str(error)`` is the message."""

    exit_code = 2


class UsageError(QdocsError):
    """A command was given something it cannot use (option, file, value)."""


class DataFileError(QdocsError):
    """A data file is missing, unreadable or malformed."""


class DuplicateKeyError(DataFileError):
    """A mapping of a data file names the same key twice.

    YAML and JSON parsers keep the last value without a word, so a record would
    silently lose the first one (``conclusion: pass`` ... ``conclusion: fail``).
    The readers raise this without the file's name; :mod:`qdocs.datafiles` adds it.
    """

    def __init__(self, key: str, first: tuple[int, int] | None, second: tuple[int, int] | None) -> None:
        """``first`` and ``second``: (line, column) of each, counted from 1; None when unknown."""
        self.key, self.first, self.second = key, first, second
        super().__init__(f"key {key!r} appears twice{self.places()}; keep one")

    def places(self, unit: str = "") -> str:
        """`` (lines 7 and 12)``, or on one line `` (line 1, columns 2 and 20)``."""
        if not self.first or not self.second:
            return ""
        (line, column), (other_line, other_column) = self.first, self.second
        if line == other_line:
            return f" ({unit}line {line}, columns {column} and {other_column})"
        return f" ({unit}lines {line} and {other_line})"


class ValidationError(QdocsError):
    """Input data broke the catalog's rules. Carries every problem found."""

    def __init__(self, record_type: str, problems: list[str], context: str = "") -> None:
        self.record_type = record_type
        self.problems = list(problems)
        self.context = context
        where = f"{record_type}{' ' + context if context else ''}"
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{where}: {count} {noun}: " + "; ".join(self.problems))


class UnknownTypeError(QdocsError):
    """No record type with that id in the catalog."""


class CatalogError(QdocsError):
    """The catalog file is malformed."""


class TemplateError(QdocsError):
    """A Word template is missing, unreadable or does not render."""


class NotARepositoryError(QdocsError):
    """The path is not a qdocs records repository."""


class RecordNotFoundError(QdocsError):
    """No record (or revision) with that id."""


class RecordStateError(QdocsError):
    """The record's state does not allow the action (e.g. revising a voided record)."""


class EnvironmentFailure(QdocsError):
    """The machine, not the input, stopped the command (exit 3); nothing was kept."""

    exit_code = 3


class RepositoryBusyError(EnvironmentFailure):
    """Another qdocs process held the repository lock for too long."""


class StorageError(EnvironmentFailure):
    """Writing or reading the repository failed (disk full, permissions, git failed); nothing was kept."""


class ToolMissingError(EnvironmentFailure):
    """A program qdocs runs is not installed: git, LibreOffice (or a font it needs)."""


class MergeUnfinishedError(QdocsError):
    """A git merge (or cherry-pick, revert, rebase) is unfinished in the repository: nothing
    may be committed until a person finishes or aborts it (exit 2: the repository's state,
    not the machine, stops the command)."""


class RemoteUnreachableError(EnvironmentFailure):
    """The git server of a remote could not be reached (network, server down, wrong address)."""
