"""The document inside the record's page, and the company-signed PDF, through Flask's test client."""

from __future__ import annotations

from pathlib import Path

from tests.web_support import demo_repo, demo_template, final_inspection, login, make_client  # noqa: F401
from tests.web_support import revise_final_inspection


def test_the_record_page_shows_the_document_in_a_frame_of_this_site_only(demo_repo: Path, monkeypatch):
    monkeypatch.setenv("QDOCS_SOFFICE", str(demo_repo / "no-such-office"))
    record_id = final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.auditor")
    page = client.get(f"/records/{record_id}")
    assert f'<iframe src="/records/{record_id}/view.pdf" loading="lazy"' in page.text
    assert "<details class=\"document\">" in page.text  # closed: the copy is made only when opened
    policy = page.headers["Content-Security-Policy"]
    assert "frame-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert client.get(f"/records/{record_id}.json").get_json()["downloads"]["view"] == f"/records/{record_id}/view.pdf"
    without_office = client.get(f"/records/{record_id}/view.pdf")
    assert without_office.status_code == 503 and "LibreOffice" in without_office.text


def test_the_view_is_inline_and_may_be_framed_by_this_site(demo_repo: Path, monkeypatch):
    import qdocs.web.pages.documents as documents

    record_id = final_inspection(demo_repo)
    monkeypatch.setattr(documents, "export_records", lambda repository, ids, actor, **options: [(f"{ids[0]}.pdf", b"%PDF-1.7 x")])
    _, client = make_client(demo_repo)
    login(client, "demo.auditor")
    view = client.get(f"/records/{record_id}/view.pdf")
    assert view.status_code == 200 and view.data == b"%PDF-1.7 x"
    assert view.headers["Content-Disposition"].startswith("inline;")
    assert view.headers["X-Frame-Options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in view.headers["Content-Security-Policy"]
    download = client.get(f"/records/{record_id}/document.pdf")
    assert download.headers["Content-Disposition"].startswith("attachment;") and download.headers["X-Frame-Options"] == "DENY"


def test_the_company_signed_pdf_is_for_approved_records_on_a_server_that_may_sign(demo_repo: Path, monkeypatch):
    monkeypatch.delenv("QDOCS_COMPANY_PASSPHRASE", raising=False)
    approved = final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.auditor")
    assert client.get(f"/records/{approved}.json").get_json()["downloads"]["signed_pdf"] == \
           f"/records/{approved}/document-signed.pdf"
    assert "公司签名 PDF Company-signed PDF" in client.get(f"/records/{approved}").text
    refused = client.get(f"/records/{approved}/document-signed.pdf")
    assert refused.status_code == 503 and "QDOCS_COMPANY_PASSPHRASE" in refused.text
    monkeypatch.setenv("QDOCS_COMPANY_PASSPHRASE", "company passphrase of the test")
    no_certificate = client.get(f"/records/{approved}/document-signed.pdf", headers={"Accept": "application/json"})
    assert no_certificate.status_code == 503 and "company certificate" in no_certificate.get_json()["error"]
    draft = revise_final_inspection(demo_repo)
    assert client.get(f"/records/{draft}.json").get_json()["downloads"]["signed_pdf"] is None
    assert client.get(f"/records/{draft}/document-signed.pdf").status_code == 409
