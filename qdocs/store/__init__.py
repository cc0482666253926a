"""Storage: the only package that runs git or reads git objects.

Everything above it (records, actions, search, audit, verification, the command
line) reaches the records repository's history through these modules:

* :mod:`.runner`: the one way to run git (one environment, one error mapping);
* :mod:`.objects`: the one reader of git objects (``git cat-file --batch``);
* :mod:`.writer`, with :mod:`.trees` and :mod:`.commits`: an action's commit;
* :mod:`.trailers`: the ``Key: value`` lines that end every commit message;
* :mod:`.history`: commits that touched a path, ancestry, files a log gained;
* :mod:`.listing`: the records of a commit (folders and blob ids), and
  :mod:`.recordcache`, the one cache of parsed ``record.yaml`` files;
* :mod:`.journal`, :mod:`.locking` and :mod:`.crashpoints`: all-or-nothing
  actions, one writer at a time.

It imports nothing of qdocs but the base utilities (:mod:`qdocs.clock`,
:mod:`qdocs.errors`, :mod:`qdocs.yamlio`); ``tests/test_architecture.py``
checks that.
"""
