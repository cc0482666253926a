"""The web application's safety: sessions, CSRF, lockout, the auditor, escaping, paths, headers."""

from __future__ import annotations

import re
from pathlib import Path

from qdocs.actions import create_record
from qdocs.examples import example_values
from qdocs.queries import get_record
from qdocs.repository import Repository
from qdocs.web.app import PUBLIC
from tests.web_support import (demo_repo, demo_template, final_inspection, form_token, login, make_client,  # noqa: F401
                               post, revise_final_inspection)

SAMPLES = {"record_id": "FIR-S1-2026-0001", "product": "PUMP-X200", "lot": "L2026-031", "number": "1",
           "filename": "style.css", "name": "first-pass-yield", "type_id": "final-inspection"}


def test_every_route_but_the_log_in_page_and_static_files_is_refused_without_a_session(demo_repo: Path):
    app, client = make_client(demo_repo)
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: SAMPLES[match.group(1)], rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = client.open(url, method=method)
            if url.endswith(".json"):
                assert answer.status_code == 401, (method, url)
                assert answer.get_json() == {"error": "log in first 请先登录"}
            else:
                assert answer.status_code == 303, (method, url)
                assert answer.headers["Location"].startswith("/login?next="), (method, url)
            checked += 1
    assert checked >= 28  # every page, its JSON twin and every form
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/login").status_code == 200
    assert client.get("/records.json", headers={"Cookie": "qdocs_session=made-up"}).status_code == 401
    assert client.get("/no-such-page").status_code == 303  # no route is told apart before logging in


def test_a_form_post_without_the_csrf_token_is_refused(demo_repo: Path):
    record_id = final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    for data in ({"reason": "no token"}, {"reason": "wrong token", "csrf_token": "x" * 43}):
        answer = client.post(f"/records/{record_id}/void", data=data)
        assert answer.status_code == 400 and "security token" in answer.text
    assert get_record(Repository.open(demo_repo), record_id).status == "approved"
    # the log-in form too
    _, other = make_client(demo_repo)
    refused = other.post("/login", data={"user": "demo.inspector", "passphrase": "demo-passphrase"})
    assert refused.status_code == 400 and "qdocs_session" not in refused.headers.get("Set-Cookie", "")


def test_the_sixth_log_in_after_five_failures_is_refused_even_with_the_right_passphrase(demo_repo: Path):
    app, client = make_client(demo_repo)
    for _ in range(5):
        assert login(client, "demo.inspector", "wrong passphrase").status_code == 401
    locked = login(client, "demo.inspector")
    assert locked.status_code == 429 and "Too many failed log-ins" in locked.text
    assert client.get("/inbox.json").status_code == 401
    # the address is locked out too: another user from the same address
    assert login(client, "demo.qc-manager").status_code == 429
    # a while later the lock is over
    lockout = app.extensions["qdocs"].lockout
    clock = lockout.clock
    lockout.clock = lambda: clock() + 16 * 60
    assert login(client, "demo.inspector").status_code == 303
    assert client.get("/inbox.json").status_code == 200


def test_wrong_passphrases_when_signing_lock_out_too(demo_repo: Path):
    record_id = revise_final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    for _ in range(5):
        post(client, f"/records/{record_id}/sign", {"meaning": "inspected", "passphrase": "guess", "revision": "B"})
    locked = post(client, f"/records/{record_id}/sign", {"meaning": "inspected", "passphrase": "demo-passphrase",
                                                         "revision": "B"})
    assert locked.status_code == 429
    assert get_record(Repository.open(demo_repo), record_id).signatures == []


def test_the_auditor_reads_everything_and_changes_nothing(demo_repo: Path):
    record_id = revise_final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    assert login(client, "demo.auditor").status_code == 303
    me = client.get("/inbox.json").get_json()
    assert me["user"]["read_only"] is True and me["waiting"]["total"] == 0
    assert client.get(f"/records/{record_id}.json").get_json()["may"] == {
        "sign": [], "revise": False, "void": False, "attach": False}
    assert client.get("/board.json").status_code == 200 and client.get("/records.json").status_code == 200
    before = get_record(Repository.open(demo_repo), record_id)
    for action, data in (("sign", {"meaning": "inspected", "passphrase": "demo-passphrase", "revision": "B"}),
                         ("revise", {"specification": "changed", "reason": "an auditor tries"}),
                         ("void", {"reason": "an auditor tries"}),
                         ("attach", {"title": "an auditor tries"})):
        answer = post(client, f"/records/{record_id}/{action}", data)
        assert answer.status_code == 403, action
        assert "changes nothing" in answer.text
    assert client.get(f"/records/{record_id}/revise").status_code == 403
    after = get_record(Repository.open(demo_repo), record_id)
    assert after.to_dict() == before.to_dict()


def test_values_from_records_are_shown_as_text(demo_repo: Path):
    repository = Repository.open(demo_repo)
    record_type = repository.catalog.get("customer-inquiry")
    values = example_values(repository.catalog, record_type)
    hostile = "<script>alert(1)</script> A&B <泵>"
    text_fields = [item.key for item in record_type.fields if item.type in ("text", "long-text")]
    values.update({key: hostile for key in text_fields})
    values["case"] = "CASE-XSS"
    record = create_record(repository, "customer-inquiry", values, "demo.service-staff")
    repository.close()
    _, client = make_client(demo_repo)
    login(client, "demo.auditor")
    for url in (f"/records/{record.id}", f"/records/{record.id}/revise", "/search?q=alert",
                f"/records?type=customer-inquiry"):
        page = client.get(url)
        assert "<script>alert(1)" not in page.text, url
        assert "<泵>" not in page.text, url
    shown = client.get(f"/records/{record.id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; A&amp;B &lt;泵&gt;" in shown
    found = client.get("/search?q=alert").text
    assert "&lt;script&gt;<mark>alert</mark>(1)" in found
    data = client.get(f"/records/{record.id}.json").get_json()
    assert data["record"]["data"][text_fields[0]] == hostile  # JSON carries the value itself


def test_templates_never_mark_values_safe_and_hold_no_inline_script():
    folder = Path(__file__).resolve().parent.parent / "qdocs" / "web" / "templates"
    for template in folder.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        # the one script is the package's static file keeping form drafts, loaded from 'self'
        text = text.replace("""<script src="{{ url_for('static', filename='drafts.js') }}"></script>""", "")
        assert "|safe" not in text.replace(" ", "") and "<script" not in text and "style=" not in text, template.name
        assert " on" not in re.sub(r"[^<]*", "", text) or not re.search(r"<[^>]+\son\w+=", text), template.name


def test_path_traversal_on_downloads_is_refused(demo_repo: Path):
    record_id = final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.auditor")
    for url in ("/records/..%2F..%2F.git%2Fconfig/document.docx", "/records/..%2Frecord.yaml/document.docx",
                f"/records/{record_id}%2F..%2F..%2F..%2Fetc%2Fpasswd/document.docx",
                f"/records/{record_id}/attachments/..%2Frecord.yaml", f"/records/{record_id}/attachments/1",
                f"/records/{record_id}/attachments/-1", "/records/.qdocs/document.docx",
                "/board/..%2F..%2Fetc/passwd/pack.pdf", "/board/PUMP-X200/..%2F..%2F.git/pack.pdf"):
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert b"[core]" not in answer.data and b"root:" not in answer.data


def test_security_headers_and_cookie_flags(demo_repo: Path):
    app, client = make_client(demo_repo)
    page = client.get("/login")
    headers = page.headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    before = re.search(r"qdocs_session=([^;]+)", cookie).group(1)
    logged_in = login(client, "demo.inspector")
    after = re.search(r"qdocs_session=([^;]+)", logged_in.headers["Set-Cookie"]).group(1)
    assert after != before  # a new session id at log-in
    bare = app.test_client(use_cookies=False)
    assert bare.get("/inbox.json", headers={"Cookie": f"qdocs_session={before}"}).status_code == 401
    assert bare.get("/inbox.json", headers={"Cookie": f"qdocs_session={after}"}).status_code == 200
    _, secure = make_client(demo_repo, secure_cookies=True)
    assert "Secure" in secure.get("/login").headers["Set-Cookie"]
    assert client.get("/records.json").headers["X-Frame-Options"] == "DENY"


def test_an_idle_session_ends_and_logging_out_ends_it(demo_repo: Path):
    app, client = make_client(demo_repo, idle_minutes=15)
    login(client, "demo.inspector")
    sessions = app.extensions["qdocs"].sessions
    clock = sessions.clock
    sessions.clock = lambda: clock() + 14 * 60
    assert client.get("/inbox.json").status_code == 200  # used within 15 minutes: still on, and restarted
    sessions.clock = lambda: clock() + 30 * 60
    assert client.get("/inbox.json").status_code == 401
    sessions.clock = clock
    login(client, "demo.inspector")
    assert post(client, "/logout").status_code == 303
    assert client.get("/inbox.json").status_code == 401


def test_the_next_address_after_log_in_stays_on_this_site(demo_repo: Path):
    _, client = make_client(demo_repo)
    token = form_token(client)
    answer = client.post("/login", data={"user": "demo.inspector", "passphrase": "demo-passphrase",
                                         "csrf_token": token, "next": "//evil.example/x"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
