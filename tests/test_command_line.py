"""The shape of the command line: every command helps with examples, the commands are
loaded only when needed, and only the command line imports click."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import click
from click.testing import CliRunner

import cli

PROJECT = Path(__file__).resolve().parent.parent


def every_command() -> list[tuple[str, ...]]:
    """The path of every command and subcommand of ``qdocs``, the group itself first."""
    found: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        found.append(path)
        if isinstance(command, click.Group):
            context = click.Context(command)
            for name in command.list_commands(context):
                walk(command.get_command(context, name), (*path, name))

    walk(cli.cli, ())
    return found


def test_the_walk_sees_every_command_and_subcommand():
    paths = every_command()
    assert len(paths) == len(set(paths))
    assert {(), ("new",), ("list",), ("types",), ("types", "show"), ("users", "remove-role"),
            ("keys", "company-cert"), ("index", "status"), ("verify-pdf",), ("release-check",)} <= set(paths)
    assert len(paths) >= 40


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for path in every_command():
        result = runner.invoke(cli.cli, [*path, "--help"])
        shown = " ".join(("qdocs", *path))
        assert result.exit_code == 0, f"{shown} --help: {result.output}"
        lines = [line.strip() for line in result.output.splitlines()]
        assert "Examples:" in lines, f"{shown} --help has no Examples: section"
        examples = [line for line in lines[lines.index("Examples:") + 1:lines.index("Options:")]
                    if line.startswith("qdocs ")]
        assert examples, f"{shown} --help shows no example"
        assert any(" ".join(path) in example for example in examples), f"{shown} --help: no example of it"


def test_every_listed_command_is_found_under_its_name():
    context = click.Context(cli.cli)
    for name, place in cli.COMMANDS.items():
        command = cli.cli.get_command(context, name)
        assert isinstance(command, click.Command), place
        assert command.name == name, f"{place} is called {command.name!r}, listed as {name!r}"


def test_every_command_written_is_listed():
    """A command written in a module of qdocs/commands but missing from ``cli.COMMANDS`` would
    never run."""
    written: dict[int, click.Command] = {}
    for path in sorted((PROJECT / "qdocs" / "commands").glob("*.py")):
        module = import_module(f"qdocs.commands.{path.stem}")
        written.update({id(value): value for value in vars(module).values() if isinstance(value, click.Command)})
    subcommands = {id(command) for group in written.values() if isinstance(group, click.Group)
                   for command in group.commands.values()}
    top_level = {command.name for key, command in written.items() if key not in subcommands}
    assert top_level == set(cli.COMMANDS)


def test_a_command_loads_only_its_own_module():
    """``qdocs --version`` loads no command module, ``qdocs list`` only the records commands."""
    script = ("import sys, cli\nsys.argv = ['qdocs', *sys.argv[1:]]\ntry:\n    cli.main()\nexcept SystemExit:\n"
              "    pass\nprint(sorted(name for name in sys.modules if name.startswith('qdocs.commands.')), "
              "file=sys.stderr)")

    def modules(*arguments: str) -> str:
        result = subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True, text=True,
                                cwd=PROJECT)
        return result.stderr.strip().splitlines()[-1]

    assert modules("--version") == "['qdocs.commands.shared']"
    assert modules("--repo", "no-such-repository", "list", "--json") == \
        "['qdocs.commands.records', 'qdocs.commands.shared']"


def test_the_library_never_imports_click_nor_the_command_line():
    """The library (qdocs/ outside qdocs/commands/) is usable without a command line: it
    raises :class:`qdocs.errors.QdocsError` and returns values; the commands print them."""
    command_line = PROJECT / "qdocs" / "commands"
    offenders = []
    for path in sorted((PROJECT / "qdocs").rglob("*.py")):
        if command_line in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] if node.level == 0 else [f".{node.module}"]
            else:
                continue
            for name in names:
                if name.split(".")[0] in ("click", "cli") or name.startswith(("qdocs.commands", ".commands")):
                    offenders.append(f"{path.relative_to(PROJECT)}: {name}")
    assert not offenders
    assert (command_line / "shared.py").is_file()  # the walk looked where the commands are
