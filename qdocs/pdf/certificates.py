"""Company certificates built or read with ``cryptography``: a new self-signed one for
document signing, or the key and certificate of a PKCS#12 file, checked for what PDF
validators expect (RSA or ECDSA key, nonRepudiation key usage, not expired)."""

from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Any

from .. import clock
from ..errors import UsageError
from ..keys import PassphraseError


def certificate_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def create_certificate(name: str, days: int) -> tuple[Any, Any]:
    """A new RSA key and a self-signed certificate for ``name``, valid ``days`` days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name[:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name[:64])])
    start = clock.utc_now() - _dt.timedelta(minutes=5)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + _dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    return key, builder.sign(key, hashes.SHA256())


def read_pkcs12(content: bytes, passphrase: str, source: str) -> tuple[Any, Any, list[Any]]:
    """Key, certificate and chain of a PKCS#12 file; refuses what validators would reject."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(content, passphrase.encode("utf-8"))
    except ValueError:
        raise PassphraseError(f"{source}: not a PKCS#12 file, or the passphrase does not open it") from None
    if key is None or certificate is None:
        raise UsageError(f"{source}: holds no private key with its certificate")
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise UsageError(f"{source}: the key is neither RSA nor ECDSA, which PDF readers expect")
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.content_commitment:
            raise UsageError(f"{source}: the certificate's key usage lacks nonRepudiation, so PDF validators "
                             "would reject its signatures; ask for a document-signing certificate")
    except x509.ExtensionNotFound:
        pass
    if certificate.not_valid_after_utc <= clock.utc_now():
        raise UsageError(f"{source}: the certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d}")
    return key, certificate, list(chain)
