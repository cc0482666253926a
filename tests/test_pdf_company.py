"""The company certificate (``qdocs keys company-cert``), PAdES signing and ``qdocs
verify-pdf`` on small hand-made PDFs (no LibreOffice), validated with pyHanko directly."""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
from pathlib import Path

import pytest

from qdocs import clock
from tests.conftest import git
from tests.test_pdf_attachments import text_pdf

COMPANY_PASSPHRASE = "company secret 1"


@pytest.fixture
def company(run, repo_path: Path, tmp_path: Path, monkeypatch) -> Path:
    """A repository with a company certificate; returns QDOCS_HOME."""
    home = tmp_path / "home"
    monkeypatch.setenv("QDOCS_HOME", str(home))
    monkeypatch.setenv("QDOCS_COMPANY_PASSPHRASE", COMPANY_PASSPHRASE)
    result = run("keys", "company-cert")
    assert result.exit_code == 0, result.output
    return home


def signed_pdf(repo_path: Path, home: Path, reason: str = "test") -> bytes:
    from qdocs.pdf.company import load_company_signer
    from qdocs.pdf.signing import sign_pdf
    from qdocs.repository import Repository

    signer = load_company_signer(Repository.open(repo_path), COMPANY_PASSPHRASE, home)
    return sign_pdf(text_pdf(), signer, reason, "Example")


def test_company_certificate_is_self_signed_for_document_signing(run, company, repo_path):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    pem = repo_path / ".qdocs" / "company-cert.pem"
    assert ".qdocs/company-cert.pem" in git(repo_path, "ls-files")
    certificate = x509.load_pem_x509_certificate(pem.read_bytes())
    assert certificate.issuer == certificate.subject
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    (key_file,) = (company / "company").glob("*.p12")
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(key_file.read_bytes(), b"wrong passphrase")
    assert pkcs12.load_key_and_certificates(key_file.read_bytes(), COMPANY_PASSPHRASE.encode())[0] is not None
    assert "Action: company-cert" in git(repo_path, "log", "-1", "--format=%B")
    assert run("verify").exit_code == 0
    again = run("keys", "company-cert")
    assert again.exit_code == 2 and "--replace" in again.output


def test_signed_pdf_is_valid_for_pyhanko_and_verify_pdf(run, company, repo_path, tmp_path):
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    target = tmp_path / "signed.pdf"
    target.write_bytes(signed_pdf(repo_path, company, "FIR-S1-2026-0001 rev A approved"))
    (signature,) = PdfFileReader(io.BytesIO(target.read_bytes())).embedded_signatures
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(repo_path / ".qdocs" / "company-cert.pem"))])
    status = validate_pdf_signature(signature, context)
    assert status.bottom_line and status.intact and status.valid and status.trusted
    result = run("verify-pdf", str(target))
    assert result.exit_code == 0, result.output
    assert "FIR-S1-2026-0001 rev A approved" in result.output


def test_changed_untrusted_and_unsigned_pdfs_are_invalid(run, company, repo_path, tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.generic import NameObject, TextStringObject

    from qdocs.pdf.certificates import create_certificate
    from qdocs.pdf.signing import company_signer, sign_pdf

    content = signed_pdf(repo_path, company)
    certificate = x509.load_pem_x509_certificate((repo_path / ".qdocs" / "company-cert.pem").read_bytes())
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    name = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(content.replace(b"CAL-2026-118", b"CAL-2026-119"))
    result = run("verify-pdf", str(changed))
    assert result.exit_code == 1
    (problem,) = [line for line in result.output.splitlines() if line.startswith(f"{changed}: signature")]
    assert problem == (f"{changed}: signature QdocsCompanySignature by {name} (certificate sha256 {fingerprint[:16]}): "
                       "the file was changed after it was signed (the signed content does not match the signature)")
    assert "company certificate" not in result.output  # it was made with one; the content changed
    assert json.loads(run("verify-pdf", str(changed), "--json").output)["signatures"][0]["certificate_sha256"] == (
        fingerprint)

    writer = IncrementalPdfFileWriter(io.BytesIO(content))
    writer.root[NameObject("/Lang")] = TextStringObject("zh-CN")
    writer.update_root()
    appended = io.BytesIO()
    writer.write(appended)
    (tmp_path / "appended.pdf").write_bytes(appended.getvalue())
    result = run("verify-pdf", str(tmp_path / "appended.pdf"))
    assert result.exit_code == 1 and "changed after it was signed" in result.output
    assert "company certificate" not in result.output

    other_key, other = create_certificate("Somebody Else Ltd", 30)
    (tmp_path / "other.pem").write_bytes(other.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "good.pdf").write_bytes(content)
    result = run("verify-pdf", str(tmp_path / "good.pdf"), "--cert", str(tmp_path / "other.pem"))
    assert result.exit_code == 1 and f"by {name} (certificate sha256 {fingerprint[:16]}) was not made with the " \
        "certificate given" in result.output
    assert "was changed after" not in result.output
    foreign = sign_pdf(text_pdf(), company_signer(other_key, other, []), "test", "Elsewhere")
    (tmp_path / "foreign.pdf").write_bytes(foreign)
    result = run("verify-pdf", str(tmp_path / "foreign.pdf"))
    other_fingerprint = other.fingerprint(hashes.SHA256()).hex()
    assert result.exit_code == 1 and (f"by Somebody Else Ltd (certificate sha256 {other_fingerprint[:16]}) was not "
                                      "made with a company certificate of this repository") in result.output
    assert "was changed after" not in result.output

    (tmp_path / "plain.pdf").write_bytes(text_pdf())
    result = run("verify-pdf", str(tmp_path / "plain.pdf"))
    assert result.exit_code == 1 and "no digital signature" in result.output
    (tmp_path / "notes.txt").write_text("hello")
    result = run("verify-pdf", str(tmp_path / "notes.txt"))
    assert result.exit_code == 2 and "not a PDF" in result.output


def test_replaced_certificate_still_validates_what_it_signed(run, company, repo_path, tmp_path):
    old = tmp_path / "old.pdf"
    old.write_bytes(signed_pdf(repo_path, company))
    first = (repo_path / ".qdocs" / "company-cert.pem").read_bytes()
    result = run("keys", "company-cert", "--replace", "--days", "365")
    assert result.exit_code == 0, result.output
    assert (repo_path / ".qdocs" / "company-cert.pem").read_bytes() != first
    assert [path.read_bytes() for path in (repo_path / ".qdocs" / "company-certs").glob("*.pem")] == [first]
    assert run("verify-pdf", str(old)).exit_code == 0
    new = tmp_path / "new.pdf"
    new.write_bytes(signed_pdf(repo_path, company))
    assert run("verify-pdf", str(new)).exit_code == 0


def make_pkcs12(tmp_path: Path, passphrase: str, non_repudiation: bool = True) -> Path:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example Manufacturing Signing")])
    now = clock.utc_now()
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(7).not_valid_before(now - _dt.timedelta(days=1))
                   .not_valid_after(now + _dt.timedelta(days=30))
                   .add_extension(x509.KeyUsage(True, non_repudiation, False, False, False, False, False, False, False),
                                  critical=True)
                   .sign(key, hashes.SHA256()))
    path = tmp_path / f"company-{non_repudiation}.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"company", key, certificate, None,
                                                           serialization.BestAvailableEncryption(passphrase.encode())))
    return path


def test_import_of_an_existing_pkcs12(run, repo_path, tmp_path, monkeypatch):
    monkeypatch.setenv("QDOCS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("QDOCS_COMPANY_PASSPHRASE", COMPANY_PASSPHRASE)
    lacking = run("keys", "company-cert", "--import", str(make_pkcs12(tmp_path, COMPANY_PASSPHRASE, False)))
    assert lacking.exit_code == 2 and "nonRepudiation" in lacking.output
    monkeypatch.setenv("QDOCS_COMPANY_PASSPHRASE", "not the passphrase")
    wrong = run("keys", "company-cert", "--import", str(make_pkcs12(tmp_path, COMPANY_PASSPHRASE)))
    assert wrong.exit_code == 2 and "passphrase" in wrong.output
    assert not (repo_path / ".qdocs" / "company-cert.pem").exists()
    monkeypatch.setenv("QDOCS_COMPANY_PASSPHRASE", COMPANY_PASSPHRASE)
    result = run("keys", "company-cert", "--import", str(make_pkcs12(tmp_path, COMPANY_PASSPHRASE)))
    assert result.exit_code == 0, result.output
    assert "Example Manufacturing Signing" in result.output
    target = tmp_path / "signed.pdf"
    target.write_bytes(signed_pdf(repo_path, tmp_path / "home"))
    assert run("verify-pdf", str(target)).exit_code == 0


def test_signing_needs_the_certificate_and_its_passphrase(run, repo_path, company, monkeypatch):
    from qdocs.errors import QdocsError
    from qdocs.pdf.company import load_company_signer
    from qdocs.repository import Repository

    repository = Repository.open(repo_path)
    with pytest.raises(QdocsError, match="wrong company passphrase"):
        load_company_signer(repository, "not it at all", company)
    with pytest.raises(QdocsError, match="not on this machine"):
        load_company_signer(repository, COMPANY_PASSPHRASE, company.parent / "elsewhere")
    os.remove(repo_path / ".qdocs" / "company-cert.pem")
    with pytest.raises(QdocsError, match="qdocs keys company-cert"):
        load_company_signer(repository, COMPANY_PASSPHRASE, company)
