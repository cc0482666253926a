"""The company certificate that signs PDF copies (``qdocs keys company-cert``).

A self-signed X.509 certificate to start with (RSA 3072, key usage
digitalSignature + nonRepudiation, which PDF validators expect of a signer), or
the PKCS#12 file a company already has.  The private key stays out of the
repository: a PKCS#12 file encrypted with the company passphrase in ``QDOCS_HOME``
(``company/<fingerprint>.p12``).  The certificate is committed as
``.qdocs/company-cert.pem`` so anyone with the repository can check a PDF; a
replaced one moves to ``.qdocs/company-certs/`` and still validates older copies.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import PdfSignatureError
from ..errors import UsageError
from ..keys import MIN_PASSPHRASE, PassphraseError, qdocs_home, write_private_file
from ..records import now_text
from .certificates import certificate_fingerprint, create_certificate, read_pkcs12
from .signing import company_signer

if TYPE_CHECKING:
    from ..repository import Repository

CERTIFICATE_PATH = ".qdocs/company-cert.pem"
RETIRED_FOLDER = ".qdocs/company-certs"


def key_file(fingerprint: str, home: Path | None = None) -> Path:
    return (home or qdocs_home()) / "company" / f"{fingerprint[:32]}.p12"


def install_certificate(repository: "Repository", actor: str, passphrase: str | None, import_file: Path | None = None,
                        name: str | None = None, days: int = 3650, replace: bool = False,
                        home: Path | None = None) -> dict[str, Any]:
    """Create (or import) the company certificate: key at home, certificate committed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    if not passphrase or len(passphrase) < MIN_PASSPHRASE:
        raise UsageError(f"the company passphrase must have at least {MIN_PASSPHRASE} characters "
                         "(prompt, or QDOCS_COMPANY_PASSPHRASE)")
    current = repository.root / CERTIFICATE_PATH
    if current.is_file() and not replace:
        raise UsageError(f"the repository already has a company certificate ({CERTIFICATE_PATH}); "
                         "give --replace to replace it")
    if not 1 <= days <= 36500:
        raise UsageError(f"--days {days}: give 1 to 36500 days")
    if import_file is not None:
        try:
            content = Path(import_file).read_bytes()
        except OSError as error:
            raise UsageError(f"--import {import_file}: cannot read: {error.strerror}") from None
        key, certificate, chain = read_pkcs12(content, passphrase, str(import_file))
    else:
        key, certificate = create_certificate(name or repository.company or "qdocs", days)
        chain = []
    der = certificate.public_bytes(serialization.Encoding.DER)
    fingerprint = certificate_fingerprint(der)
    pem = b"".join(item.public_bytes(serialization.Encoding.PEM) for item in [certificate, *chain])
    bundle = pkcs12.serialize_key_and_certificates(b"qdocs company", key, certificate, chain or None,
                                                   serialization.BestAvailableEncryption(passphrase.encode("utf-8")))
    target = key_file(fingerprint, home)
    write_private_file(target, bundle, "company key")
    try:
        with repository.transaction("company certificate", [], []) as change:
            stamp = now_text(repository.time_zone)
            if current.is_file():
                old = current.read_bytes()
                old_fingerprint = _fingerprint_of_pem(old)
                change.write(f"{RETIRED_FOLDER}/{old_fingerprint[:32]}.pem", old)
            change.write(CERTIFICATE_PATH, pem.decode("ascii"))
            subject = certificate.subject.rfc4514_string()
            change.events.append("company-cert", actor, stamp, fingerprint=fingerprint, subject=subject,
                                 not_after=certificate.not_valid_after_utc.isoformat(),
                                 imported=import_file is not None)
            change.commit(f"{'import' if import_file else 'create'} company certificate {fingerprint[:16]} ({subject})",
                          actor, {"Action": "company-cert", "Certificate": fingerprint})
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return {"fingerprint": fingerprint, "subject": subject, "not_after": certificate.not_valid_after_utc.isoformat(),
            "key_file": str(target), "certificate": CERTIFICATE_PATH}


def company_certificates(repository: "Repository") -> list[bytes]:
    """PEM text of the current and every replaced company certificate (trusted by verify-pdf)."""
    found = []
    current = repository.root / CERTIFICATE_PATH
    if current.is_file():
        found.append(current.read_bytes())
    retired = repository.root / RETIRED_FOLDER
    if retired.is_dir():
        found.extend(path.read_bytes() for path in sorted(retired.glob("*.pem")))
    return found


def load_company_signer(repository: "Repository", passphrase: Any, home: Path | None = None) -> Any:
    """A pyHanko signer with the company key; ``passphrase`` may be a function (asked only now)."""
    current = repository.root / CERTIFICATE_PATH
    if not current.is_file():
        raise PdfSignatureError("the repository has no company certificate to sign PDFs with; create one with: "
                                "qdocs keys company-cert")
    fingerprint = _fingerprint_of_pem(current.read_bytes())
    path = key_file(fingerprint, home)
    if not path.is_file():
        raise PdfSignatureError(f"the company key {fingerprint[:16]} is not on this machine ({path}); sign where it is, "
                                "or import the company's PKCS#12 file: qdocs keys company-cert --import FILE.p12 --replace")
    secret = passphrase() if callable(passphrase) else passphrase
    if not secret:
        raise PassphraseError("the company passphrase is needed (prompt, or QDOCS_COMPANY_PASSPHRASE)")
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(path.read_bytes(), secret.encode("utf-8"))
    except ValueError:
        raise PassphraseError("wrong company passphrase") from None
    return company_signer(key, certificate, chain)


def _fingerprint_of_pem(pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificate = x509.load_pem_x509_certificates(pem)[0]
    return certificate_fingerprint(certificate.public_bytes(serialization.Encoding.DER))

