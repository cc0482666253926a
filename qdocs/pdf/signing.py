"""PAdES signatures with pyHanko, made with the company certificate.

Signing is the last step: the signature covers every byte before it, so stamping,
merging or any rewrite afterwards breaks it.  pyHanko appends the signature as an
incremental update; the signature certifies the document (DocMDP, no changes
allowed), so a reader flags any later change, even an otherwise harmless one.
"""

from __future__ import annotations

import io
from typing import Any

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
    signers.PdfSigner(metadata, signer=signer).sign_pdf(writer, output=output)
    return output.getvalue()


def _one_line(text: str) -> str:
    return " ".join((text or "").split())
