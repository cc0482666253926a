"""Who may do what: ``qdocs trust``, ``qdocs users``, ``qdocs keys``.

Every change is an entry of the signed trust log, made by an administrator (or, for a key
rotation, by the user), whose passphrase is asked for only when the change is made.
"""

from __future__ import annotations

from pathlib import Path

import click

from qdocs.commands.passphrases import company_passphrase, credentials, new_passphrase
from qdocs.commands.shared import echo_json, json_option, open_repository
from qdocs.errors import UsageError

_AS_ADMIN = click.option("--as", "admin", required=True, metavar="ADMIN",
                         help="The administrator making the change (passphrase: prompt or QDOCS_PASSPHRASE).")


@click.command()
@json_option()
@click.pass_context
def trust(context: click.Context, as_json: bool) -> None:
    """The root of trust (compare its fingerprint with the one kept on paper), the administrators
    and the forms in force.

    Examples:

    \b
      qdocs trust
      qdocs trust --json
    """
    from qdocs.trust.report import trust_report

    report = trust_report(open_repository(context))
    if as_json:
        echo_json(report)
        return
    root = report["root"]
    if root is None:
        click.echo("no root of trust: this repository was made before trust existed (qdocs migrate)")
    else:
        click.echo(f"root        {root['fingerprint']}  {root['user']} ({root['full_name']}), {root['created']}")
    click.echo(f"admins      {', '.join(report['admins']) or '-'}")
    for form in report["forms"]:
        click.echo(f"form        {form['path']:<44} version {form['version']}  {form['state']}")
    for finding in report["findings"]:
        click.echo(f"finding     {finding['record']}: {finding['message']}")
    context.exit(1 if report["findings"] else 0)


@click.group()
def users() -> None:
    """Users who sign, and their roles: every change is signed by an administrator.

    Examples:

    \b
      qdocs users add zhang.san --full-name 张三 --role inspector --as li.admin
      qdocs users list
    """


@users.command("add")
@click.argument("name")
@click.option("--full-name", required=True, help="The printed name shown on signatures.")
@click.option("--role", "roles", multiple=True, required=True, help="A role from the catalog (repeatable).")
@click.option("--image", type=click.Path(path_type=Path), help="Signature image (PNG) shown in the signature block.")
@_AS_ADMIN
@click.pass_context
def users_add(context: click.Context, name: str, full_name: str, roles: tuple[str, ...], image: Path | None,
              admin: str) -> None:
    """Add a user with roles.

    Examples:

    \b
      qdocs users add zhang.san --full-name 张三 --role inspector --as li.admin
    """
    from qdocs.trust.administration import add_user

    user = add_user(open_repository(context), credentials(admin), name, full_name, list(roles), image)
    click.echo(f"added {user.name} ({user.full_name}): {', '.join(user.current_roles())}; "
               f"next: qdocs keys create {user.name} --as {admin}")


@users.command("grant")
@click.argument("name")
@click.option("--role", required=True, help="The role to grant.")
@_AS_ADMIN
@click.pass_context
def users_grant(context: click.Context, name: str, role: str, admin: str) -> None:
    """Grant a role (another administrator than the user).

    Examples:

    \b
      qdocs users grant zhang.san --role qc-manager --as li.admin
    """
    from qdocs.trust.administration import grant_role

    user = grant_role(open_repository(context), credentials(admin), name, role)
    click.echo(f"{user.name}: {', '.join(user.current_roles())}")


@users.command("remove-role")
@click.argument("name")
@click.option("--role", required=True, help="The role to take away.")
@click.option("--reason", required=True, help="Why, for the audit trail.")
@_AS_ADMIN
@click.pass_context
def users_remove_role(context: click.Context, name: str, role: str, reason: str, admin: str) -> None:
    """Take a role away; signatures given in it before stay valid.

    Examples:

    \b
      qdocs users remove-role zhang.san --role inspector --reason "moved to sales" --as li.admin
    """
    from qdocs.trust.administration import remove_role

    user = remove_role(open_repository(context), credentials(admin), name, role, reason)
    click.echo(f"{user.name}: {', '.join(user.current_roles()) or 'no role'}")


@users.command("list")
@json_option()
@click.pass_context
def users_list(context: click.Context, as_json: bool) -> None:
    """List users, their roles and keys, as the signed trust log has them.

    Examples:

    \b
      qdocs users list --json
    """
    from qdocs.trust.administration import trust_state
    from qdocs.users import user_view

    state = trust_state(open_repository(context))
    found = [state.users[name] for name in sorted(state.users)]
    if as_json:
        echo_json([user_view(user) for user in found])
        return
    for user in found:
        key = user.current_key()
        status = f"revoked {user.revoked_text}" if user.revoked_text else (key.fingerprint if key else "no key")
        click.echo(f"{user.name:<18} {user.full_name:<12} {','.join(user.current_roles()):<32} {status}")


@users.command("revoke")
@click.argument("name")
@click.option("--reason", required=True, help="Why the user may no longer sign.")
@_AS_ADMIN
@click.pass_context
def users_revoke(context: click.Context, name: str, reason: str, admin: str) -> None:
    """Revoke a user: no signature from now on; earlier ones stay valid.

    Examples:

    \b
      qdocs users revoke zhang.san --reason "left the company" --as li.admin
    """
    from qdocs.trust.administration import revoke_user

    user = revoke_user(open_repository(context), credentials(admin), name, reason)
    click.echo(f"revoked {user.name} at {user.revoked_text}")


@click.group()
def keys() -> None:
    """Signing keys.

    Examples:

    \b
      qdocs keys create zhang.san --as li.admin
      qdocs keys company-cert
    """


@keys.command("create")
@click.argument("name")
@click.option("--replace", is_flag=True, help="Replace the user's current key.")
@click.option("--as", "admin", metavar="ADMIN", help="An administrator registers the key (a user's first key, "
              "or a lost one); without it the user rotates their own key, signing with the current one.")
@click.option("--reason", help="Why an administrator replaces a key (e.g. 'lost laptop').")
@click.pass_context
def keys_create(context: click.Context, name: str, replace: bool, admin: str | None, reason: str | None) -> None:
    """Make an Ed25519 key pair for NAME: the private key encrypted with a new passphrase
    (prompt or QDOCS_NEW_PASSPHRASE) in QDOCS_HOME, the public key registered in the repository.

    Examples:

    \b
      qdocs keys create zhang.san --as li.admin
      qdocs keys create zhang.san --replace
      qdocs keys create zhang.san --replace --as li.admin --reason "lost laptop"
    """
    from qdocs.trust.administration import register_key, rotate_key, trust_state

    repository = open_repository(context)
    user = trust_state(repository).user(name)
    has_key = bool(user and user.current_key())
    if has_key and not replace:
        raise UsageError(f"user {name} already has key {user.current_key().fingerprint}; give --replace to replace it")
    if admin and admin != name:
        entry = register_key(repository, credentials(admin), name, lambda: new_passphrase(name), reason)
    elif has_key:
        entry = rotate_key(repository, credentials(name), lambda: new_passphrase(name))
    else:
        raise UsageError(f"{name} has no key yet: an administrator registers a user's first key "
                         f"(qdocs keys create {name} --as ADMIN)")
    click.echo(f"{entry['fingerprint']}  (private key: {entry['private_key_file']})")


@keys.command("company-cert")
@click.option("--import", "import_file", type=click.Path(path_type=Path), metavar="FILE.p12",
              help="Use the company's own certificate and key (PKCS#12, opened with the company passphrase).")
@click.option("--name", metavar="TEXT", help="Name in a new self-signed certificate (default: the company name).")
@click.option("--days", default=3650, show_default=True, metavar="N", help="Validity of a new certificate.")
@click.option("--replace", is_flag=True, help="Replace the current certificate (PDFs it signed stay valid).")
@json_option()
@click.pass_context
def keys_company_cert(context: click.Context, import_file: Path | None, name: str | None, days: int, replace: bool,
                      as_json: bool) -> None:
    """Create (or import) the company certificate that signs PDF copies; its key stays in QDOCS_HOME.

    Examples:

    \b
      qdocs keys company-cert
      qdocs keys company-cert --import company.p12
      qdocs keys company-cert --replace --days 1825
    """
    from qdocs.pdf.company import install_certificate

    repository = open_repository(context)
    result = install_certificate(repository, context.obj["actor"], company_passphrase(confirm=import_file is None),
                                 import_file, name, days, replace)
    if as_json:
        echo_json(result)
    else:
        click.echo(f"company certificate {result['fingerprint'][:16]}  {result['subject']}  valid until "
                   f"{result['not_after'][:10]}\n  certificate: {result['certificate']} (committed)\n"
                   f"  private key: {result['key_file']} (encrypted; keep a backup)")
