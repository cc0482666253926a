"""Trust: who may do what in a records repository, and the proof of it.

- :mod:`.log`: the trust log, one signed entry per change of users, roles, keys and forms;
- :mod:`.state`: the log folded in time order, each entry checked against the state before it;
- :mod:`.credentials`: the trust state folded once per process, and a user's key unlocked;
- :mod:`.administration`: making those changes (users, roles, keys, forms approval);
- :mod:`.genesis`: the root administrator made with the repository, and the migration of
  a repository made before trust existed;
- :mod:`.formcheck`: what changed forms must pass before they are approved;
- :mod:`.report`: what ``qdocs trust`` prints.
"""
