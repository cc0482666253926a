"""PDF copies of records: export, controlled-copy stamps, PAdES signatures with the
company certificate, attachments from outside, and the audit pack.

Modules (each imports its heavy libraries only when used):

- :mod:`.office`: runs LibreOffice headless, one profile and one time limit per call;
- :mod:`.chinesefonts`: simplified-Chinese fonts for LibreOffice, so PDFs name SC faces only;
- :mod:`.sheets`: small OpenDocument pages (stamps, cover, contents, manifest) that
  LibreOffice renders in the same run as the records, so Chinese text gets the same fonts;
- :mod:`.stamps`: controlled-copy / draft / void stamps merged onto every page with pypdf;
- :mod:`.export`: ``qdocs export``;
- :mod:`.company`, :mod:`.certificates`: the company certificate (``qdocs keys company-cert``);
- :mod:`.signing`, :mod:`.validation`: PAdES signing and ``qdocs verify-pdf`` with pyHanko;
- :mod:`.sandbox`, :mod:`.inspection`, :mod:`.hostile`: untrusted PDFs parsed in a child process
  with limits;
- :mod:`.attachments`: ``qdocs attach`` and the check ``qdocs verify`` runs;
- :mod:`.pack`, :mod:`.packpages`, :mod:`.auditsection` (the audit's verdict), :mod:`.evidence`
  (records outside the lot that the rules used), :mod:`.pagenumbers`: ``qdocs pack``.
"""

from __future__ import annotations

from ..errors import EnvironmentFailure, QdocsError, ToolMissingError, UsageError

__all__ = ["ConversionError", "PdfSignatureError", "ToolMissingError", "UnsafePdfError"]


class ConversionError(EnvironmentFailure):
    """LibreOffice did not produce a PDF, or took too long.

    An environment failure (exit 3), not an input error: what LibreOffice converts
    is qdocs' own rendering of stored records, not what the user typed, so when it
    fails or hangs the converter is at fault (a broken installation, a dialog
    nobody sees, an overloaded machine), and the same command may succeed later."""


class UnsafePdfError(UsageError):
    """A PDF from outside is corrupt, encrypted or hostile; it was not stored."""


class PdfSignatureError(QdocsError):
    """A PDF cannot be signed (no company certificate, wrong passphrase, record not approved)."""
