"""Reading git objects: the one parser of ``git cat-file --batch``.

Each request is an object name (a blob or tree id, ``<commit>:<path>``,
``<commit>^{tree}``); git answers ``<id> <type> <size>\\n<content>\\n``, or
``<name> missing\\n`` (``ambiguous`` and the like likewise end the line).
Three ways to ask, one parser (:func:`answers`):

* :class:`ObjectReader`: one long-lived process for many small exchanges (the
  search index reads a chunk of records at a time, in every worker);
* :func:`read_once`: one exchange with a process of its own (the writer reads
  the trees along the changed paths);
* :func:`stream`: many objects answered while they are still being asked for,
  requests written from a thread (the audit reads every ``record.yaml`` it has
  not seen, 150,000 of them in a big repository).
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import IO, Iterable, Iterator

from ..errors import StorageError
from . import runner

#: An answer: (type, content), or None when git has no such object.
Answer = tuple[bytes, bytes] | None

#: Requests written before their answers are read: 1,000 names of up to ~60 bytes
#: stay well inside a pipe's buffer, so git never waits for this process to read.
_BATCH = 1000


def answers(output: IO[bytes], count: int) -> Iterator[Answer]:
    """The next ``count`` answers of ``git cat-file --batch`` read from ``output``."""
    readline, read = output.readline, output.read
    for _ in range(count):
        header = readline()
        if not header:
            raise StorageError("git cat-file stopped answering")
        parts = header.split()
        if len(parts) != 3 or not parts[2].isdigit():
            yield None  # "<name> missing", "<name> ambiguous"
            continue
        content = read(int(parts[2]))
        read(1)
        yield parts[1], content


#: For the readers kept running over many objects: git maps a pack in windows and keeps
#: up to 8 GiB of them mapped by default, so a reader of every record of a large repository
#: (an index rebuild, an audit) held the whole pack in its memory (5 GiB at 1,000,000
#: records).  Smaller windows, fewer kept: its memory stays flat, at no measurable cost.
#: Its cache of delta bases (96 MB by default, its own memory) is kept to 16 MB: reading
#: 200,000 record files in git's order took 5-10 % longer, and a rebuild reads far more
#: slowly than git answers.
READER_OPTIONS = ["-c", "core.packedGitWindowSize=16m", "-c", "core.packedGitLimit=64m",
                  "-c", "core.deltaBaseCacheLimit=16m"]
#: For the listings of every record of a commit (``git ls-tree -r``, ``git diff-index``), which
#: read every tree of it: with git's defaults the listing of 1,000,000 records mapped the
#: whole pack (1.8 GiB of memory for 9.5 s); with at most 256 MB of it mapped and a small
#: delta cache, 370 MiB for 15 s (the trees lie all over the pack: smaller windows, more
#: remapping, more time, no less memory).
LISTING_OPTIONS = ["-c", "core.packedGitWindowSize=64m", "-c", "core.packedGitLimit=256m",
                   "-c", "core.deltaBaseCacheLimit=8m"]


class ObjectReader:
    """Objects read through one ``git cat-file --batch`` process, kept for many exchanges."""

    def __init__(self, root: Path) -> None:
        self._process = runner.start(root, [*READER_OPTIONS, "cat-file", "--batch"], stdin=runner.PIPE)

    def read(self, name: str) -> bytes:
        """One object's content; :class:`StorageError` when git has none by that name."""
        found = self.read_many([name])
        if name not in found:
            raise StorageError(f"git has no object {name}")
        return found[name]

    def read_many(self, names: Iterable[str]) -> dict[str, bytes]:
        """Several objects' contents, by name (those git does not have are left out).
        Requests are written a batch at a time before any answer of the batch is read."""
        wanted = list(dict.fromkeys(name for name in names if name))
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start:start + _BATCH]
            for name, answer in zip(batch, self._exchange(batch)):
                if answer is not None:
                    found[name] = answer[1]
        return found

    def read_typed(self, names: list[str]) -> list[Answer]:
        """(type, content) or None of each name, in order."""
        result: list[Answer] = []
        for start in range(0, len(names), _BATCH):
            result.extend(self._exchange(names[start:start + _BATCH]))
        return result

    def _exchange(self, names: list[str]) -> list[Answer]:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write("".join(name + "\n" for name in names).encode("utf-8"))
            stdin.flush()
        except BrokenPipeError:
            raise StorageError("git cat-file stopped answering") from None
        return list(answers(stdout, len(names)))

    def close(self) -> None:
        if self._process.stdin:
            try:
                self._process.stdin.close()
            except BrokenPipeError:
                pass
        self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()

    def __enter__(self) -> "ObjectReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_once(root: Path, names: list[str]) -> list[Answer]:
    """(type, content) or None of each name, in order, from a process of its own."""
    request = "".join(name + "\n" for name in names).encode("utf-8")
    output = runner.run(root, "cat-file", "--batch", input=request)
    return list(answers(io.BytesIO(output), len(names)))


def stream(root: Path, names: list[bytes]) -> Iterator[Answer]:
    """(type, content) or None of each name (bytes, without the newline), in order,
    answered while a thread is still writing the requests."""
    process = runner.start(root, [*READER_OPTIONS, "cat-file", "--batch"], stdin=runner.PIPE)
    assert process.stdin is not None and process.stdout is not None
    requests = process.stdin

    def feed() -> None:
        try:
            for start in range(0, len(names), _BATCH):
                requests.write(b"".join(name + b"\n" for name in names[start:start + _BATCH]))
            requests.close()
        except (BrokenPipeError, ValueError, OSError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    output = process.stdout
    try:
        yield from answers(output, len(names))
    finally:
        output.close()
        process.wait()
        feeder.join()
