"""The web application's pages and their JSON twins, through Flask's test client, on a
copy of the demo repository."""

from __future__ import annotations

import io
from pathlib import Path

from qdocs.queries import get_record
from qdocs.repository import Repository
from tests.web_support import (demo_repo, demo_template, final_inspection, login, make_client, post,  # noqa: F401
                               revise_final_inspection)


def test_the_inbox_lists_what_waits_for_my_signature_my_drafts_and_what_is_due(demo_repo: Path):
    record_id = revise_final_inspection(demo_repo, actor="demo.inspector")
    _, client = make_client(demo_repo)
    assert login(client, "demo.inspector").status_code == 303
    inbox = client.get("/inbox.json").get_json()
    assert [entry["id"] for entry in inbox["waiting"]["records"]] == [record_id]
    assert inbox["waiting"]["records"][0]["meanings"] == ["inspected"]
    assert [entry["id"] for entry in inbox["drafts"]["records"]] == [record_id]
    assert {item["rule"] for item in inbox["due"]} >= {"A3", "A4"}  # supplier re-evaluation, next maintenance
    assert all(item["days_left"] > 0 for item in inbox["due"] if item["rule"] in ("A3", "A4"))
    assert [rule["rule"] for rule in inbox["after_sales"]] == ["A1", "A2", "A3", "A4"]
    page = client.get("/inbox")
    assert page.status_code == 200 and record_id in page.text and "待我签署 Waiting for my signature" in page.text
    assert client.get("/", follow_redirects=False).headers["Location"] == "/inbox"
    # the QC manager approves only after the inspection is signed: nothing waits for them yet
    _, manager = make_client(demo_repo)
    login(manager, "demo.qc-manager")
    assert manager.get("/inbox.json").get_json()["waiting"]["total"] == 0
    assert manager.get("/inbox", headers={"Accept": "application/json"}).get_json()["drafts"]["total"] == 0


def test_the_record_list_filters_and_pages(demo_repo: Path):
    _, client = make_client(demo_repo, page_size=5)
    login(client, "demo.auditor")
    everything = client.get("/records.json").get_json()
    assert everything["total"] == 22 and everything["pages"] == 5 and len(everything["records"]) == 5
    last = client.get("/records.json?page=5").get_json()
    assert len(last["records"]) == 2
    assert {entry["id"] for entry in everything["records"]}.isdisjoint(entry["id"] for entry in last["records"])
    inspections = client.get("/records.json?type=in-process-inspection&lot=L2026-031&status=approved").get_json()
    assert inspections["total"] == 3
    assert client.get("/records.json?from=2026-03-26").get_json()["total"] == 0
    assert client.get("/records.json?from=2026-03-25&to=2026-03-25&product=PUMP-X200").get_json()["total"] >= 11
    assert client.get("/records.json?status=finished").status_code == 400
    assert "unknown record type" in client.get("/records.json?type=final-inspecton").get_json()["error"]
    page = client.get("/records?type=final-inspection")
    assert page.status_code == 200 and final_inspection(demo_repo) in page.text


def test_the_record_page_shows_data_signatures_timeline_and_verify_status(demo_repo: Path):
    record_id = final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.auditor")
    data = client.get(f"/records/{record_id}.json").get_json()
    assert data["record"]["id"] == record_id and data["record"]["status"] == "approved"
    assert data["verify"]["clean"] is True
    assert [signature["meaning"] for signature in data["record"]["signatures"]] == ["inspected", "approved"]
    assert [event["what"] for event in data["timeline"]] == ["revision", "signature", "signature"]
    assert any(row["key"] == "conclusion" for row in data["fields"])
    assert data["may"] == {"sign": [], "revise": False, "void": False, "attach": False}  # an auditor
    same = client.get(f"/records/{record_id}", headers={"Accept": "application/json"}).get_json()
    assert same["record"]["id"] == record_id
    page = client.get(f"/records/{record_id}")
    assert page.status_code == 200
    assert "检验员（演示）" in page.text and "检验 Inspected by" in page.text and "通过 Clean" in page.text
    history = client.get(f"/records/{record_id}/history.json").get_json()["history"]
    assert [entry["action"] for entry in history][-1] == "create"
    assert client.get("/records/FIR-S1-2026-9999").status_code == 404
    docx = client.get(f"/records/{record_id}/document.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    assert f'filename="{record_id}.docx"' in docx.headers["Content-Disposition"]


def test_signing_in_the_browser_uses_the_library_and_shows_its_refusals(demo_repo: Path):
    record_id = revise_final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    form = client.get(f"/records/{record_id}/sign.json").get_json()
    assert form["meanings"] == ["inspected"] and form["record"]["revision"] == "B"
    wrong = post(client, f"/records/{record_id}/sign", {"meaning": "inspected", "passphrase": "not it at all",
                                                        "revision": "B"})
    assert wrong.status_code == 400 and "wrong passphrase" in wrong.text
    refused = post(client, f"/records/{record_id}/sign", {"meaning": "approved", "passphrase": "demo-passphrase",
                                                          "revision": "B"})
    assert refused.status_code == 400  # the library's own words: the stage order, or the role
    assert "must first be signed as inspected" in refused.text or "may not sign" in refused.text
    superseded = post(client, f"/records/{record_id}/sign", {"meaning": "inspected", "passphrase": "demo-passphrase",
                                                             "revision": "A"})
    assert superseded.status_code == 400 and "superseded" in superseded.text
    assert get_record(Repository.open(demo_repo), record_id).signatures == []
    done = post(client, f"/records/{record_id}/sign", {"meaning": "inspected", "passphrase": "demo-passphrase",
                                                       "comment": "复检合格 <ok>", "revision": "B"})
    assert done.status_code == 303 and done.headers["Location"] == f"/records/{record_id}"
    record = get_record(Repository.open(demo_repo), record_id)
    assert record.status == "in-review" and record.signatures[0]["signer"] == "demo.inspector"
    assert record.signatures[0]["comment"] == "复检合格 <ok>"
    page = client.get(f"/records/{record_id}")
    assert "已签署 Signed" in page.text and "复检合格 &lt;ok&gt;" in page.text
    again = post(client, f"/records/{record_id}/sign", {"meaning": "inspected", "passphrase": "demo-passphrase",
                                                        "revision": "B"})
    assert again.status_code == 400 and "already signed" in again.text


def test_revise_void_and_attach_where_the_user_may(demo_repo: Path):
    from pypdf import PdfWriter

    record_id = final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    form = client.get(f"/records/{record_id}/revise.json").get_json()
    specification = next(row for row in form["fields"] if row["key"] == "specification")
    assert specification["form_text"]
    nothing = post(client, f"/records/{record_id}/revise", {"reason": "no change"})
    assert nothing.status_code == 400 and "nothing to revise" in nothing.text
    revised = post(client, f"/records/{record_id}/revise", {"specification": "Q = 50 m³/h 复检 re-checked", "reason": "complaint C-1"})
    assert revised.status_code == 303
    record = get_record(Repository.open(demo_repo), record_id)
    assert record.revision == "B" and record.data["specification"] == "Q = 50 m³/h 复检 re-checked"
    assert record.revisions[-1]["actor"] == "demo.inspector" and record.revisions[-1]["reason"] == "complaint C-1"
    pdf = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.write(pdf)
    attached = post(client, f"/records/{record_id}/attach", {"title": "第三方报告 Lab report",
                                                             "file": (io.BytesIO(pdf.getvalue()), "../../lab report.pdf")},
                    content_type="multipart/form-data")
    assert attached.status_code == 303, attached.text
    listed = client.get(f"/records/{record_id}.json").get_json()["attachments"]
    assert [item["title"] for item in listed] == ["第三方报告 Lab report"]
    download = client.get(f"/records/{record_id}/attachments/1")
    assert download.status_code == 200 and download.data == pdf.getvalue()
    assert post(client, f"/records/{record_id}/void", {"reason": ""}).status_code == 400
    voided = post(client, f"/records/{record_id}/void", {"reason": "entered against the wrong lot"})
    assert voided.status_code == 303
    assert get_record(Repository.open(demo_repo), record_id).status == "void"
    # the market survey is the R&D department's: the inspector may not change it
    survey = client.get("/records.json?type=market-survey").get_json()["records"][0]["id"]
    assert post(client, f"/records/{survey}/void", {"reason": "not mine"}).status_code == 403


def test_search_with_facets_highlights_and_paging(demo_repo: Path):
    _, client = make_client(demo_repo, search_page_size=3)
    login(client, "demo.auditor")
    found = client.get("/search.json?q=检验").get_json()
    assert found["total"] >= 4 and len(found["results"]) == 3 and found["pages"] >= 2
    assert found["index"]["current"] is True and found["index"]["commit"] == found["index"]["head"]
    assert sum(found["per_type"].values()) == found["total"]
    assert any("«检验»" in result["snippet"] for result in found["results"])
    second = client.get("/search.json?q=检验&page=2").get_json()
    assert {hit["id"] for hit in second["results"]}.isdisjoint(hit["id"] for hit in found["results"])
    only = client.get("/search.json?q=检验&type=final-inspection").get_json()
    assert only["total"] == 1 and only["results"][0]["type"] == "final-inspection"
    page = client.get("/search?q=检验")
    assert page.status_code == 200 and "<mark>检验</mark>" in page.text
    bad = client.get("/search.json?q=%22unclosed")
    assert bad.status_code == 400 and "malformed query" in bad.get_json()["error"]
    assert client.get("/search").status_code == 200


def test_the_release_board_turns_green_when_the_lot_is_signed(demo_repo: Path):
    record_id = revise_final_inspection(demo_repo)
    _, inspector = make_client(demo_repo)
    login(inspector, "demo.inspector")
    board = inspector.get("/board.json").get_json()
    [lot] = board["lots"]
    assert (lot["product"], lot["lot"], lot["may_ship"]) == ("PUMP-X200", "L2026-031", False)
    assert [rule["id"] for rule in board["rules"]] == [f"R{number}" for number in range(1, 12)]
    detail = inspector.get("/board/PUMP-X200/L2026-031.json").get_json()
    failing = [result for result in detail["results"] if result["status"] != "ok"]
    assert failing and any(record_id in finding["text"] for result in failing for finding in result["findings"])
    assert "不可放行 Blocked" in inspector.get("/board").text
    post(inspector, f"/records/{record_id}/sign", {"meaning": "inspected", "passphrase": "demo-passphrase",
                                                   "revision": "B"})
    _, manager = make_client(demo_repo)
    login(manager, "demo.qc-manager")
    assert [entry["id"] for entry in manager.get("/inbox.json").get_json()["waiting"]["records"]] == [record_id]
    approved = post(manager, f"/records/{record_id}/sign", {"meaning": "approved", "passphrase": "demo-passphrase",
                                                           "revision": "B"})
    assert approved.status_code == 303
    assert manager.get("/board.json").get_json()["lots"][0]["may_ship"] is True
    assert manager.get("/board/PUMP-X200/L2026-031.json").get_json()["may_ship"] is True
    assert manager.get("/board/PUMP-X200/L2026-999").status_code == 404


def test_pdfs_without_libreoffice_say_so(demo_repo: Path, monkeypatch):
    monkeypatch.setenv("QDOCS_SOFFICE", str(demo_repo / "no-such-office"))
    record_id = final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.auditor")
    answer = client.get(f"/records/{record_id}/document.pdf")
    assert answer.status_code == 503 and "LibreOffice" in answer.text and ".docx" in answer.text
    pack = client.get("/board/PUMP-X200/L2026-031/pack.pdf", headers={"Accept": "application/json"})
    assert pack.status_code == 503 and "LibreOffice" in pack.get_json()["error"]
