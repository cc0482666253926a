"""Passphrases asked for by commands: from the environment (automation) or a hidden prompt.

Without a terminal and without the variable, a command stops with a usage error (exit 2)
instead of waiting for input nobody can type.
"""

from __future__ import annotations

import os
import sys

import click

from qdocs.errors import UsageError


def passphrase(confirm: bool = False, whose: str = "") -> str:
    """The passphrase of the person acting: QDOCS_PASSPHRASE (automation) or a hidden prompt."""
    if os.environ.get("QDOCS_PASSPHRASE"):
        return os.environ["QDOCS_PASSPHRASE"]
    if not sys.stdin.isatty():
        raise UsageError("a passphrase is needed: type it at a terminal, or set QDOCS_PASSPHRASE")
    return click.prompt(f"Passphrase{' of ' + whose if whose else ''}", hide_input=True, confirmation_prompt=confirm)


def new_passphrase(owner: str) -> str:
    """The passphrase that will protect a new key: QDOCS_NEW_PASSPHRASE or a prompt, typed twice."""
    if os.environ.get("QDOCS_NEW_PASSPHRASE"):
        return os.environ["QDOCS_NEW_PASSPHRASE"]
    if not sys.stdin.isatty():
        raise UsageError(f"a passphrase for {owner}'s new key is needed: type it at a terminal, "
                         "or set QDOCS_NEW_PASSPHRASE")
    return click.prompt(f"New passphrase for {owner}'s key", hide_input=True, confirmation_prompt=True)


def company_passphrase(confirm: bool = False) -> str:
    """The company certificate's passphrase: QDOCS_COMPANY_PASSPHRASE (automation) or a hidden prompt."""
    if os.environ.get("QDOCS_COMPANY_PASSPHRASE"):
        return os.environ["QDOCS_COMPANY_PASSPHRASE"]
    if not sys.stdin.isatty():
        raise UsageError("the company passphrase is needed: type it at a terminal, or set QDOCS_COMPANY_PASSPHRASE")
    return click.prompt("Company passphrase", hide_input=True, confirmation_prompt=confirm)


def credentials(name: str):
    """``name``'s credentials for a signed change; the passphrase is asked for only when needed."""
    from qdocs.trust.administration import Credentials

    return Credentials(name, lambda: passphrase(whose=name))
