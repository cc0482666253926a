"""Layering rules that code review alone would let slip: every module of qdocs belongs to
one layer and imports only its own layer and the ones below it; only ``qdocs/store/`` runs
git or reads git objects, and the store imports nothing above it."""

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
STORE_MAY_IMPORT = {"qdocs.clock", "qdocs.errors", "qdocs.yamlio", "qdocs.yamlcodec", "qdocs.timezones", "qdocs.events"}
#: the layers, lowest first: a module imports only modules of its own layer or of a lower one
LAYERS = ["base", "store", "records", "actions", "features", "web", "commands"]

#: every module of qdocs and its layer.  A name ending in ``.*`` places a whole package (only
#: for packages that lie in one layer); every other module is named, so a new module of qdocs
#: itself, of ``audit`` or of ``trust`` fails the test until it is placed here.
LAYER_OF = {
    # -- base: utilities that know nothing of repositories or records
    "qdocs": "base",  # the package's front door: names Repository, Catalog... for library users,
    #                   imported on first use (a qdocs module never goes through it)
    "qdocs.clock": "base",
    "qdocs.errors": "base",
    "qdocs.yamlio": "base",
    "qdocs.yamlcodec": "base",  # behind yamlio, with PyYAML
    "qdocs.jsonio": "base",
    "qdocs.timezones": "base",
    "qdocs.progress": "base",
    "qdocs.usercache": "base",
    "qdocs.suggestions": "base",
    "qdocs.findings": "base",
    "qdocs.docxtext": "base",  # text of a .docx (lxml), for search and tests; no record knowledge
    # -- store: git, files, the lock, the journal; the repository as storage
    "qdocs.store.*": "store",  # runner, objects, writer, listing, history, record cache, journal,
    #                            locking, last commit, and the storage Repository and its Change
    "qdocs.events": "store",  # the event-chain files every transaction appends to (Change.events)
    # -- records: what a record is, the forms that define it, reading records and trust
    "qdocs.catalog": "records",
    "qdocs.forms": "records",
    "qdocs.validation": "records",
    "qdocs.rendering": "records",
    "qdocs.records": "records",
    "qdocs.subjects": "records",
    "qdocs.datafiles": "records",
    "qdocs.examples": "records",
    "qdocs.templatecheck": "records",
    "qdocs.queries": "records",
    "qdocs.keys": "records",  # key files and passphrases: read to sign and to check
    "qdocs.users": "records",
    "qdocs.repository": "records",  # the storage Repository plus the catalog in force, templates, trust state
    "qdocs.signatures": "records",  # what a signature signs and the signature block (signing: qdocs.signing)
    "qdocs.authority": "records",
    "qdocs.checkpoints": "records",  # reads the chains' heads; the last commit is kept by the store
    "qdocs.trust": "records",  # the package's docstring only
    "qdocs.trust.log": "records",
    "qdocs.trust.state": "records",
    "qdocs.trust.credentials": "records",  # the trust state folded once, and a user's key unlocked
    "qdocs.trust.formcheck": "records",  # only reads and parses the forms; approving them (actions) needs it
    # the rules file is a controlled form like the catalog: creating a record checks its
    # references against it, and approving forms parses it, so reading it sits below the actions
    "qdocs.audit.rules": "records",
    "qdocs.audit.located": "records",
    "qdocs.audit.kinds": "records",
    "qdocs.audit.parameters": "records",
    "qdocs.audit.references": "records",
    "qdocs.audit.referencecheck": "records",  # refuses or warns about unknown references of new records
    "qdocs.audit.lookup": "records",
    "qdocs.audit.dates": "records",  # days and moments of the rules (as of a day), and the commit of a day
    # -- actions: everything that writes a commit
    "qdocs.actions": "actions",  # create, revise, void
    "qdocs.signing": "actions",  # sign
    "qdocs.mergeoutcomes": "actions",  # the merged record of one changed at two sites (sync)
    "qdocs.founding": "actions",  # init: a new repository, or a clone adopted under its own site
    "qdocs.trust.administration": "actions",  # users, roles, keys, forms approval
    "qdocs.trust.genesis": "actions",  # the root administrator, and migrate
    # -- features: built on the records and the actions
    "qdocs.search.*": "features",
    "qdocs.pdf.*": "features",
    "qdocs.audit": "features",  # the package's docstring only
    "qdocs.audit.aftersales": "features",
    "qdocs.audit.authorised": "features",
    "qdocs.audit.context": "features",
    "qdocs.audit.demorecords": "features",
    "qdocs.audit.evaluation": "features",
    "qdocs.audit.extraction": "features",
    "qdocs.audit.facts": "features",
    "qdocs.audit.htmlreport": "features",
    "qdocs.audit.kpi": "features",  # quality figures from the audit's facts
    "qdocs.audit.kpicharts": "features",  # the figures drawn with matplotlib
    "qdocs.audit.materials": "features",
    "qdocs.audit.outcome": "features",
    "qdocs.audit.parallel": "features",
    "qdocs.audit.production": "features",
    "qdocs.audit.release": "features",
    "qdocs.audit.snapshot": "features",
    "qdocs.audit.suppliers": "features",
    "qdocs.audit.textreport": "features",
    "qdocs.audit.verified": "features",
    "qdocs.verification": "features",
    "qdocs.verifyrecords": "features",  # verify's record checks, on every core
    "qdocs.verifysince": "features",  # verify of what changed after a checkpoint
    "qdocs.trustcheck": "features",
    "qdocs.outsidecheck": "features",
    "qdocs.trail": "features",
    "qdocs.trust.report": "features",  # what qdocs trust and qdocs show print about trust and forms
    "qdocs.demo": "features",  # creates, signs, verifies and audits a record set: above all of them
    "qdocs.hooks": "features",  # keeps the search index current; registered on a repository by the web server
    "qdocs.incomingcheck": "features",  # the check of what a sync takes in
    "qdocs.syncing": "features",  # sync and status: merges only what verification (a feature) passes
    "qdocs.serverhook": "features",  # the server's pre-receive hook: verification of a pushed commit
    # -- web: the web application, beside the command line (the library never imports it;
    #    qdocs serve, a command, starts it)
    "qdocs.web.*": "web",
    # -- commands: the command line
    "qdocs.commands.*": "commands",
    "cli": "commands",
}

#: the only imports of qdocs modules inside functions, each for start-up cost alone (the
#: module behind it loads a heavy stack, or a command's library is loaded when it runs);
#: (importing module, imported module): why
_COMMAND = "qdocs --help imports every command module: a command loads its library when it runs"
INNER_IMPORTS = {
    ("qdocs.yamlio", "qdocs.yamlcodec"): "PyYAML (~10 ms) loads only for a command that reads or writes YAML",
    ("qdocs.repository", "qdocs.catalog"): "a search with its index current loads no catalog, forms or templates",
    ("qdocs.repository", "qdocs.forms"): "a search with its index current loads no catalog, forms or templates",
    ("qdocs.repository", "qdocs.rendering"): "a search with its index current loads no catalog, forms or templates",
    ("qdocs.syncing", "qdocs.mergeoutcomes"): "a sync with nothing to merge loads no rendering (~0.12 s)",
    ("qdocs.hooks", "qdocs.search.index"): "an action without a search index loads no search code (~0.1 s)",
    ("qdocs.search.build", "qdocs.search.engine"): "tantivy loads only when the index is read or written",
    ("qdocs.search.damage", "qdocs.search.engine"): "tantivy loads only when the index is read or written",
    ("qdocs.search.generations", "qdocs.search.engine"): "tantivy loads only when the index is read or written",
    ("qdocs.search.index", "qdocs.search.engine"): "tantivy loads only when the index is read or written",
    ("qdocs.search.writing", "qdocs.search.engine"): "tantivy loads only when the index is read or written",
    ("qdocs.search.index", "qdocs.search.writing"): "a search with its index current loads no document reader "
                                                    "(lxml, ~12 ms)",
    ("qdocs.commands.admin", "qdocs.pdf.company"): _COMMAND + " (cryptography's X.509 and PKCS#12)",
    ("qdocs.commands.admin", "qdocs.trust.administration"): _COMMAND,
    ("qdocs.commands.admin", "qdocs.trust.report"): _COMMAND,
    ("qdocs.commands.admin", "qdocs.users"): _COMMAND,
    ("qdocs.commands.audit", "qdocs.audit.dates"): _COMMAND,
    ("qdocs.commands.audit", "qdocs.audit.evaluation"): _COMMAND + " (the whole audit)",
    ("qdocs.commands.audit", "qdocs.audit.htmlreport"): _COMMAND,
    ("qdocs.commands.audit", "qdocs.audit.rules"): _COMMAND,
    ("qdocs.commands.audit", "qdocs.audit.suppliers"): _COMMAND + " (docxtpl for the supplier list)",
    ("qdocs.commands.audit", "qdocs.audit.textreport"): _COMMAND,
    ("qdocs.commands.catalog", "qdocs.examples"): _COMMAND,
    ("qdocs.commands.kpi", "qdocs.audit.dates"): _COMMAND,
    ("qdocs.commands.kpi", "qdocs.audit.kpi"): _COMMAND + " (the audit's listing and facts)",
    # matplotlib (imported inside kpicharts.write_charts only) costs about 0.5 s to load:
    # only a kpi run that draws charts pays it
    ("qdocs.commands.kpi", "qdocs.audit.kpicharts"): _COMMAND + " (matplotlib, ~0.5 s)",
    ("qdocs.commands.catalog", "qdocs.forms"): _COMMAND,
    ("qdocs.commands.catalog", "qdocs.templatecheck"): _COMMAND + " (docxtpl and Jinja)",
    ("qdocs.commands.catalog", "qdocs.trust.administration"): _COMMAND,
    ("qdocs.commands.passphrases", "qdocs.trust.administration"): _COMMAND,
    ("qdocs.commands.pdf", "qdocs.pdf.attachments"): _COMMAND + " (pypdf)",
    ("qdocs.commands.pdf", "qdocs.pdf.company"): _COMMAND + " (cryptography's X.509 and PKCS#12)",
    ("qdocs.commands.pdf", "qdocs.pdf.export"): _COMMAND + " (pypdf, pyHanko, LibreOffice)",
    ("qdocs.commands.pdf", "qdocs.pdf.pack"): _COMMAND + " (pypdf, pyHanko, the audit)",
    ("qdocs.commands.pdf", "qdocs.pdf.validation"): _COMMAND + " (pyHanko)",
    ("qdocs.commands.records", "qdocs.actions"): _COMMAND + " (docxtpl and Jinja to render)",
    ("qdocs.commands.records", "qdocs.datafiles"): _COMMAND,
    ("qdocs.commands.records", "qdocs.queries"): _COMMAND,
    ("qdocs.commands.records", "qdocs.timezones"): _COMMAND,
    ("qdocs.commands.records", "qdocs.trust.report"): _COMMAND,
    ("qdocs.commands.records", "qdocs.validation"): _COMMAND,
    ("qdocs.commands.repository", "qdocs.demo"): _COMMAND + " (the audit, verification, rendering)",
    ("qdocs.commands.repository", "qdocs.founding"): _COMMAND,
    ("qdocs.commands.repository", "qdocs.repository"): _COMMAND,
    ("qdocs.commands.repository", "qdocs.trust.genesis"): _COMMAND,
    ("qdocs.commands.search", "qdocs.records"): _COMMAND,
    ("qdocs.commands.search", "qdocs.search.index"): _COMMAND + " (the search modules)",
    ("qdocs.commands.search", "qdocs.search.model"): _COMMAND,
    ("qdocs.commands.shared", "qdocs.store.merging"): _COMMAND + " (shared is loaded by every command)",
    ("qdocs.commands.sites", "qdocs.serverhook"): _COMMAND + " (the verification)",
    ("qdocs.commands.sites", "qdocs.store.remotes"): _COMMAND,
    ("qdocs.commands.sites", "qdocs.syncing"): _COMMAND + " (the verification)",
    ("qdocs.commands.shared", "qdocs.catalog"): _COMMAND + " (shared is loaded by every command)",
    ("qdocs.commands.shared", "qdocs.repository"): _COMMAND + " (shared is loaded by every command)",
    ("qdocs.commands.signatures", "qdocs.checkpoints"): _COMMAND,
    ("qdocs.commands.signatures", "qdocs.signing"): _COMMAND,
    ("qdocs.commands.signatures", "qdocs.verification"): _COMMAND,
    ("qdocs.commands.signatures", "qdocs.verifysince"): _COMMAND,
    ("qdocs.commands.web", "qdocs.web.server"): _COMMAND + " (Flask, waitress and the whole library)",
    ("qdocs.commands.web", "qdocs.web.settings"): _COMMAND,
}

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


def test_every_module_has_a_layer():
    modules = {_module_name(path) for path, _ in _library()}
    unplaced = sorted(module for module in modules if _layer(module) is None)
    assert not unplaced, f"place these modules in LAYER_OF (tests/test_architecture.py): {unplaced}"
    stale = sorted(name for name in LAYER_OF if not any(module == name or (name.endswith(".*") and
                   module.startswith(name[:-1])) for module in modules))
    assert not stale, f"LAYER_OF names modules that are gone: {stale}"


def test_layers_only_look_down():
    """Every import of a qdocs module, at module level or inside a function, goes to the same
    layer or a lower one (imports under ``if TYPE_CHECKING:`` are type hints only)."""
    problems = []
    for path, tree in _library():
        module = _module_name(path)
        layer = _layer(module)
        for imported, line, _ in _qdocs_imports(tree, module):
            target = _layer(imported)
            if layer is None or target is None:
                continue  # test_every_module_has_a_layer names them
            if LAYERS.index(target) > LAYERS.index(layer):
                problems.append(f"{path.relative_to(PROJECT).as_posix()}:{line}: {module} ({layer}) imports "
                                f"{imported} ({target})")
    assert not problems, "a layer imports only its own and lower layers " \
        f"({' <- '.join(LAYERS)}):\n" + "\n".join(problems)


def test_imports_inside_functions_are_only_the_listed_ones():
    """No import inside a function to dodge a cycle: only the start-up costs INNER_IMPORTS
    lists, and every entry there is still needed."""
    found: dict[tuple[str, str], str] = {}
    for path, tree in _library():
        module = _module_name(path)
        for imported, line, inner in _qdocs_imports(tree, module):
            if inner:
                found.setdefault((module, imported), f"{path.relative_to(PROJECT).as_posix()}:{line}")
    unlisted = sorted(f"{where}: {module} imports {imported} inside a function"
                      for (module, imported), where in found.items() if (module, imported) not in INNER_IMPORTS)
    assert not unlisted, "import at module level (a cycle means the code is in the wrong module or " \
        "layer); for a start-up cost, add it to INNER_IMPORTS with the reason:\n" + "\n".join(unlisted)
    stale = sorted(f"{module} -> {imported}" for module, imported in INNER_IMPORTS if (module, imported) not in found)
    assert not stale, f"INNER_IMPORTS entries no longer imported inside a function: {stale}"


def test_the_rules_see_what_they_check():
    """The scan finds the imports it is about (a rule that sees nothing passes for nothing)."""
    modules = {path.relative_to(PROJECT).as_posix(): _imported_modules(tree, path) for path, tree in _library()}
    assert "subprocess" in modules["qdocs/store/runner.py"]
    assert "qdocs.clock" in modules["qdocs/store/runner.py"]
    assert "qdocs.store.runner" in modules["qdocs/store/repository.py"]
    assert "cli.py" in modules
    imports = {_module_name(path): _qdocs_imports(tree, _module_name(path)) for path, tree in _library()}
    assert ("qdocs.search.engine", True) in {(name, inner) for name, _, inner in imports["qdocs.search.index"]}
    assert "qdocs.store.repository" in {name for name, _, _ in imports["qdocs.repository"]}
    assert "qdocs.yamlio" in {name for name, _, _ in imports["qdocs.founding"]}  # from . import yamlio
    assert "qdocs.repository" not in {name for name, _, _ in imports["qdocs.actions"]}  # TYPE_CHECKING only
    assert _layer("qdocs.store.runner") == "store" and _layer("qdocs.audit.rules") == "records"
    assert _layer("cli") == "commands" and _layer("qdocs") == "base"


def _library() -> list[tuple[Path, ast.Module]]:
    paths = sorted((PROJECT / "qdocs").rglob("*.py")) + [PROJECT / "cli.py"]
    return [(path, ast.parse(path.read_text(encoding="utf-8"), str(path))) for path in paths]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str | None:
    """The layer of a module: its own entry, else the nearest ``package.*`` entry above it."""
    if module in LAYER_OF:
        return LAYER_OF[module]
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        layer = LAYER_OF.get(".".join(parts[:end]) + ".*")
        if layer is not None:
            return layer
    return None


def _qdocs_imports(tree: ast.Module, module: str) -> list[tuple[str, int, bool]]:
    """(imported qdocs module, line, inside a function) for every import outside ``if TYPE_CHECKING:``;
    ``from package import name`` counts as importing ``package.name`` when that is a module."""
    package = module if (PROJECT / Path(*module.split("."))).is_dir() else module.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, inner: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child, inner)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inner = True
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, inner) for alias in node.names
                         if alias.name.split(".")[0] in ("qdocs", "cli"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if source.split(".")[0] in ("qdocs", "cli"):
                for alias in node.names:
                    candidate = f"{source}.{alias.name}"
                    is_module = (PROJECT / Path(*candidate.split("."))).with_suffix(".py").is_file() or \
                        (PROJECT / Path(*candidate.split("."))).is_dir()
                    found.append((candidate if is_module else source, node.lineno, inner))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return found


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
