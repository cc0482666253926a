"""The child process that reads untrusted PDFs (see :mod:`.sandbox`).

Reads one JSON request on stdin, sets its resource limits, does one task and prints
one line of JSON: ``{"refused": "why"}`` or the task's answer.

- ``inspect``: may this PDF be stored?  It must be a complete file (ends with
  ``%%EOF``), not encrypted, without JavaScript or launch actions, with pages whose
  text can be read;
- ``validate``: the PDF signatures in the file, each validated with pyHanko against
  the given trusted certificates, with the signer's certificate (subject, sha256) and
  whether it is one of them: pyHanko's trust result fails with the content, this does not.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import resource
import sys
from typing import Any

from .. import clock
from .hostile import LOOP, Refused, refuse_active_content, refuse_loops

MAX_PAGES = 5000


def set_limits(seconds: float, megabytes: int) -> None:
    memory = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def inspect(data: bytes) -> dict[str, Any]:
    from pypdf import PdfReader

    if b"%PDF-" not in data[:1024]:
        raise Refused("not a PDF file (no %PDF- header)")
    if b"%%EOF" not in data[-2048:]:
        raise Refused("the file is truncated (it does not end with %%EOF); ask for the complete file")
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise Refused("the PDF is encrypted (password-protected); ask the sender for an unprotected copy")
    count = len(reader.pages)
    if not 1 <= count <= MAX_PAGES:
        raise Refused(f"the PDF has {count} pages; 1 to {MAX_PAGES} are accepted")
    refuse_loops(reader)
    refuse_active_content(reader)
    characters = sum(len(page.extract_text() or "") for page in reader.pages)
    title = (reader.metadata or {}).get("/Title") if reader.metadata is not None else None
    return {"pages": count, "characters": characters, "title": str(title) if title else None}


def validate(data: bytes, trusted: list[str]) -> dict[str, Any]:
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    if b"%PDF-" not in data[:1024]:
        raise Refused("not a PDF file (no %PDF- header)")
    roots = [certificate for pem in trusted for certificate in load_certs_from_pemder_data(pem.encode("ascii"))]
    known = {hashlib.sha256(certificate.dump()).hexdigest() for certificate in roots}
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    results = []
    for signature in reader.embedded_signatures:
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail",
                                    moment=clock.utc_now())
        status = validate_pdf_signature(signature, context)
        reason = signature.sig_object.get("/Reason")
        fingerprint = hashlib.sha256(signature.signer_cert.dump()).hexdigest()
        results.append({
            "field": signature.field_name, "signer": _common_name(status.signing_cert),
            "certificate_sha256": fingerprint, "known_certificate": fingerprint in known,
            "reason": str(reason) if reason is not None else "", "time": str(status.signer_reported_dt or ""),
            "intact": bool(status.intact), "valid": bool(status.valid), "trusted": bool(status.trusted),
            "whole_file": status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
            "docmdp_ok": status.docmdp_ok is not False, "bottom_line": bool(status.bottom_line),
            "summary": status.summary(),
        })
    return {"signatures": results}


def _common_name(certificate: Any) -> str:
    subject = certificate.subject.native
    return str(subject.get("common_name") or certificate.subject.human_friendly)


def main() -> None:
    request = json.loads(sys.stdin.read())
    set_limits(request["seconds"], request["megabytes"])
    logging.disable(logging.WARNING)
    sys.setrecursionlimit(5000)
    try:
        with open(request["path"], "rb") as handle:
            data = handle.read()
        if request["task"] == "inspect":
            answer = inspect(data)
        else:
            answer = validate(data, request.get("trusted") or [])
    except Refused as refusal:
        answer = {"refused": str(refusal)}
    except RecursionError:
        answer = {"refused": "the PDF refers to itself in a loop (a damaged or hostile file)"}
    except MemoryError:
        raise
    except Exception as error:  # any failure of the parser means the file cannot be trusted
        if "cyclic" in str(error).lower():
            print(json.dumps({"refused": LOOP}))
            return
        if type(error).__name__ == "LimitReachedError":
            print(json.dumps({"refused": "a stream in the PDF unpacks to more data than accepted (a decompression bomb)"}))
            return
        message = " ".join(str(error).split())[:200]
        answer = {"refused": f"the PDF is damaged and cannot be read ({type(error).__name__}: {message})"}
    print(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    main()
