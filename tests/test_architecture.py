"""Layering rules that code review alone would let slip: only ``qdocs/store/`` runs git or
reads git objects, and the store imports nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
STORE = PROJECT / "qdocs" / "store"

#: modules outside the store that start programs other than git, and which ones
OTHER_PROGRAMS = {
    "qdocs/pdf/office.py": "LibreOffice (soffice) and fc-list",
    "qdocs/pdf/chinesefonts.py": "fc-list",
    "qdocs/pdf/sandbox.py": "a Python child that inspects untrusted PDFs",
}
#: what the store may import besides its own modules: base utilities, and the event-chain files
#: (``qdocs.events``, store layer: every transaction appends to the chain)
STORE_MAY_IMPORT = {"qdocs.clock", "qdocs.errors", "qdocs.yamlio", "qdocs.timezones", "qdocs.events"}
#: modules that start processes besides subprocess
PROCESS_CALLS = {"system", "popen", "execv", "execve", "execvp", "execvpe", "execl", "execlp", "execle",
                 "execlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "spawnl", "spawnle", "spawnlp",
                 "spawnlpe", "posix_spawn", "posix_spawnp"}


def test_only_the_store_runs_git():
    problems = []
    for path, tree in _library():
        relative = path.relative_to(PROJECT).as_posix()
        if path.is_relative_to(STORE):
            continue
        imported = _imported_modules(tree, path)
        for name in sorted(imported & {"git", "pygit2", "dulwich"}):
            problems.append(f"{relative} imports {name}: reach git through qdocs.store")
        if "subprocess" in imported or "pty" in imported:
            if relative not in OTHER_PROGRAMS:
                problems.append(f"{relative} imports subprocess: git runs through qdocs.store.runner; "
                                "another program needs an entry in OTHER_PROGRAMS")
            elif _mentions_git(tree):
                problems.append(f"{relative} may start {OTHER_PROGRAMS[relative]}, not git")
        for call in _os_process_calls(tree):
            problems.append(f"{relative} calls os.{call}: start programs with subprocess (git: qdocs.store)")
    assert not problems, "\n".join(problems)


def test_every_other_program_is_still_started_where_the_list_says():
    """The allow-list stays exact: an entry whose module no longer starts a program goes."""
    for relative in OTHER_PROGRAMS:
        tree = ast.parse((PROJECT / relative).read_text(encoding="utf-8"))
        assert "subprocess" in _imported_modules(tree, PROJECT / relative), relative


def test_the_store_imports_nothing_above_it():
    problems = []
    for path, tree in _library():
        if not path.is_relative_to(STORE):
            continue
        for name in sorted(_imported_modules(tree, path)):
            allowed = any(name == base or name.startswith(base + ".") for base in {"qdocs.store", *STORE_MAY_IMPORT})
            if name.startswith("qdocs.") and not allowed:
                problems.append(f"{path.relative_to(PROJECT).as_posix()} imports {name}")
    assert not problems, "the store may import only " + ", ".join(sorted(STORE_MAY_IMPORT)) + ":\n" + \
        "\n".join(problems)


def test_the_search_imports_the_repository_only_for_type_hints():
    """The search index is a feature on top of the records: what it needs of storage (the
    listing, the object reader, crash points) comes from the store, not the repository module."""
    problems = []
    for path, tree in _library():
        if path.is_relative_to(PROJECT / "qdocs" / "search"):
            hints = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                     and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
            runtime = ast.Module([node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                                  and id(node) not in hints], [])
            if "qdocs.repository" in _imported_modules(runtime, path):
                problems.append(path.relative_to(PROJECT).as_posix())
    assert not problems, f"import qdocs.repository only under TYPE_CHECKING: {problems}"


def test_the_rules_see_what_they_check():
    """The scan finds the imports it is about (a rule that sees nothing passes for nothing)."""
    modules = {path.relative_to(PROJECT).as_posix(): _imported_modules(tree, path) for path, tree in _library()}
    assert "subprocess" in modules["qdocs/store/runner.py"]
    assert "qdocs.clock" in modules["qdocs/store/runner.py"]
    assert "qdocs.store.runner" in modules["qdocs/store/repository.py"]
    assert "cli.py" in modules


def _library() -> list[tuple[Path, ast.Module]]:
    paths = sorted((PROJECT / "qdocs").rglob("*.py")) + [PROJECT / "cli.py"]
    return [(path, ast.parse(path.read_text(encoding="utf-8"), str(path))) for path in paths]


def _imported_modules(tree: ast.Module, path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (functions too), relative ones resolved."""
    package = ".".join(path.relative_to(PROJECT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name} | {name.split(".")[0] for name in found if name}


def _mentions_git(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.Constant) and node.value == "git" for node in ast.walk(tree))


def _os_process_calls(tree: ast.Module) -> list[str]:
    return sorted({node.attr for node in ast.walk(tree)
                   if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                   and node.value.id == "os" and node.attr in PROCESS_CALLS})
