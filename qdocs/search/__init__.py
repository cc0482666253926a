"""Full-text search over the records, Chinese and English (tantivy behind one package).

Import costs nothing until used: :func:`index_exists` only looks at the disk, so
the after-commit hook of an unrelated command never loads the search engine.
"""

from __future__ import annotations

from pathlib import Path

#: Where the index lives inside a records repository (git-ignored).
INDEX_FOLDER = ".qdocs/index"


def index_exists(root: Path) -> bool:
    return (Path(root) / INDEX_FOLDER / "CURRENT").is_file()
