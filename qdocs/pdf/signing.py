"""PAdES signatures with pyHanko, made with the company certificate.

Signing is the last step: the signature covers every byte before it, so stamping,
merging or any rewrite afterwards breaks it.  pyHanko appends the signature as an
incremental update; the signature certifies the document (DocMDP, no changes
allowed), so a reader flags any later change, even an otherwise harmless one.
"""

from __future__ import annotations

import io
from typing import Any

from .. import clock

FIELD_NAME = "QdocsCompanySignature"


def sign_pdf(content: bytes, signer: Any, reason: str, location: str) -> bytes:
    """``content`` with an invisible PAdES B-B certification signature appended."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import MDPPerm

    writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, reason=_one_line(reason)[:2000], location=_one_line(location)[:200] or None,
        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256", certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
    )
    output = io.BytesIO()
    _clocked_signer_class()(metadata, signer=signer).sign_pdf(writer, output=output)
    return output.getvalue()


def _clocked_signer_class() -> Any:
    """pyHanko's ``PdfSigner`` with the signing time from qdocs' clock: pyHanko reads the
    machine's clock in its signing session and offers no argument for it."""
    from pyhanko.sign import signers

    class ClockedPdfSigner(signers.PdfSigner):
        def init_signing_session(self, *arguments: Any, **options: Any) -> Any:
            session = super().init_signing_session(*arguments, **options)
            session.system_time = clock.now()
            return session

    return ClockedPdfSigner


def company_signer(key: Any, certificate: Any, chain: list[Any]) -> Any:
    """A pyHanko signer for a key and certificate loaded with ``cryptography``.

    pyHanko's ``SimpleSigner`` re-parses its private key for every signature (twice:
    the size estimate and the signature), which for an RSA key costs about 0.2 s each;
    this one keeps the parsed key."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1, translate_pyca_cryptography_key_to_asn1
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    class CompanySigner(SimpleSigner):
        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15":
                return key.sign(data, padding.PKCS1v15(), hash_algorithm)
            if mechanism == "ecdsa":
                return key.sign(data, ec.ECDSA(hash_algorithm))
            return super().sign_raw(data, digest_algorithm)

    store = SimpleCertificateStore()
    store.register_multiple([translate_pyca_cryptography_cert_to_asn1(item) for item in chain])
    return CompanySigner(signing_cert=translate_pyca_cryptography_cert_to_asn1(certificate),
                         signing_key=translate_pyca_cryptography_key_to_asn1(key), cert_registry=store)


def _one_line(text: str) -> str:
    return " ".join((text or "").split())
