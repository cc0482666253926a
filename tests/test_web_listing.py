"""What the web application keeps of a whole commit: the listing brought up to date commit by
commit is the listing a full read gives; the audit of a large repository is made in the
background while the pages say of which commit they speak; the board comes a page at a time."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from qdocs.actions import create_record, void_record
from qdocs.demo import DEMO_PASSPHRASE, demo_keys
from qdocs.examples import example_values
from qdocs.repository import Repository
from qdocs.signing import sign_records
from qdocs.web.listing import current_listing
from tests.web_support import (demo_repo, demo_template, login, make_client, post,  # noqa: F401
                               revise_final_inspection)


def _same(updated, full) -> None:
    assert updated.commit == full.commit
    assert updated.ids == full.ids and updated.facts == full.facts and updated.by_id == full.by_id
    assert [fact.id for fact in updated.drafts] == [fact.id for fact in full.drafts]
    assert {key: [fact.id for fact in facts] for key, facts in updated.waiting.items() if facts} == \
           {key: [fact.id for fact in facts] for key, facts in full.waiting.items() if facts}
    assert {name: [fact.id for fact in facts] for name, facts in updated.authors_of_drafts().items() if facts} == \
           {name: [fact.id for fact in facts] for name, facts in full.authors_of_drafts().items() if facts}


def test_the_listing_brought_up_to_date_is_the_listing_of_the_new_commit(demo_repo: Path):
    repository = Repository.open(demo_repo)
    first = current_listing(repository, None)
    drafts_by_user = first.authors_of_drafts()
    assert current_listing(repository, first) is first  # the same commit: nothing to do
    values = example_values(repository.catalog, repository.catalog.get("final-inspection"))
    made = create_record(repository, "final-inspection", {**values, "lot": "L2026-077"}, "demo.inspector")
    revised = revise_final_inspection(demo_repo, actor="demo.inspector")
    repository = Repository.open(demo_repo)
    sign_records(repository, [made.id], "demo.inspector", "inspected", DEMO_PASSPHRASE, home=demo_keys(repository))
    void_record(repository, next(fact.id for fact in first.facts if fact.type == "nonconformance"), "wrong lot",
                "demo.qc-manager")
    repository = Repository.open(demo_repo)
    updated = current_listing(repository, first)
    full = current_listing(repository, None)
    _same(updated, full)
    assert updated.by_id[made.id].status == "in-review" and updated.by_id[revised].status == "draft"
    assert first.by_id.get(made.id) is None and first.by_id[revised].status == "approved"  # the old one unchanged
    assert [fact.id for fact in updated.authors_of_drafts()["demo.inspector"]] == [revised]
    assert drafts_by_user.get("demo.inspector") is None
    # backwards too (a reset): diff-tree works between any two commits
    subprocess.run(["git", "reset", "-q", "--hard", first.commit], cwd=demo_repo, check=True)
    repository = Repository.open(demo_repo)
    _same(current_listing(repository, updated), current_listing(repository, None))


def test_a_record_page_finds_a_new_record_through_the_listing(demo_repo: Path):
    _, client = make_client(demo_repo)
    login(client, "demo.auditor")
    assert client.get("/records/FIR-S1-2026-0999.json").status_code == 404
    repository = Repository.open(demo_repo)
    values = example_values(repository.catalog, repository.catalog.get("final-inspection"))
    made = create_record(repository, "final-inspection", {**values, "lot": "L2026-078"}, "demo.inspector")
    page = client.get(f"/records/{made.id}.json").get_json()
    assert page["record"]["id"] == made.id and page["record"]["path"].endswith(f"L2026-078/{made.id}")


def test_a_slow_audit_is_made_in_the_background_and_the_board_says_of_which_commit(demo_repo: Path):
    app, client = make_client(demo_repo, audit_wait=-1)  # every audit counts as slow
    login(client, "demo.qc-manager")
    before = client.get("/board.json").get_json()
    assert before["current"] is True and before["commit"] == before["head"]
    record_id = revise_final_inspection(demo_repo)
    stale = client.get("/board.json").get_json()
    if not stale["current"]:  # the background audit may already have finished on a fast machine
        assert stale["commit"] == before["commit"] and stale["head"] != before["commit"]
        assert "being audited" in client.get("/board").text
        assert client.get("/inbox.json").get_json()["audit"]["current"] in (False, True)
    deadline = time.monotonic() + 60
    while not (board := client.get("/board.json").get_json())["current"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert board["commit"] == board["head"] != before["commit"]
    assert board["lots"][0]["may_ship"] is False  # the revised final inspection is not signed yet
    assert "being audited" not in client.get("/board").text
    # a lot's page is the release gate of the request's commit, whatever the board shows
    assert client.get("/board/PUMP-X200/L2026-031.json").get_json()["may_ship"] is False
    assert record_id


def test_the_board_comes_a_page_at_a_time_with_filters(demo_repo: Path):
    repository = Repository.open(demo_repo)
    values = example_values(repository.catalog, repository.catalog.get("final-inspection"))
    for number in range(3):
        create_record(repository, "final-inspection", {**values, "lot": f"L2026-{80 + number:03d}"}, "demo.inspector")
    _, client = make_client(demo_repo, page_size=2)
    login(client, "demo.auditor")
    first = client.get("/board.json").get_json()
    assert (first["total"], first["pages"], len(first["lots"])) == (4, 2, 2)
    second = client.get("/board.json?page=2").get_json()
    names = [lot["lot"] for lot in first["lots"] + second["lots"]]
    assert sorted(names) == ["L2026-031", "L2026-080", "L2026-081", "L2026-082"]
    blocked = client.get("/board.json?shipping=blocked").get_json()
    assert blocked["total"] == 3 and all(not lot["may_ship"] for lot in blocked["lots"])
    assert client.get("/board.json?shipping=may-ship").get_json()["lots"][0]["lot"] == "L2026-031"
    assert client.get("/board.json?product=PUMP-X200").get_json()["total"] == 4
    assert client.get("/board.json?product=NO-SUCH").get_json()["total"] == 0
    assert client.get("/board.json?shipping=maybe").status_code == 400
    assert client.get("/board.json?product=..%2Fx").status_code == 400
    page = client.get("/board?page=2")
    assert page.status_code == 200 and "Page 2 of 2" in page.text
    assert post(client, "/logout").status_code == 303


def test_a_search_does_not_wait_for_another_process_indexing_and_says_so(demo_repo: Path):
    from qdocs.search.index import SearchIndex

    _, client = make_client(demo_repo)
    login(client, "demo.auditor")
    assert client.get("/search.json?q=检验").get_json()["index"]["current"] is True
    repository = Repository.open(demo_repo)  # no hook: the index is left behind this commit
    values = example_values(repository.catalog, repository.catalog.get("final-inspection"))
    made = create_record(repository, "final-inspection", {**values, "lot": "L2026-079"}, "demo.inspector")
    with SearchIndex(repository).generations.locked():  # another process indexing meanwhile
        started = time.monotonic()
        behind = client.get("/search.json?q=L2026-079").get_json()
        assert time.monotonic() - started < 5
        assert behind["index"]["current"] is False and behind["total"] == 0
        assert "being brought up to date" in client.get("/search?q=L2026-079").text
    caught_up = client.get("/search.json?q=L2026-079").get_json()
    assert caught_up["index"]["current"] is True and [hit["id"] for hit in caught_up["results"]] == [made.id]


def test_a_slow_index_is_kept_current_by_a_worker_process(demo_repo: Path):
    app, client = make_client(demo_repo)
    workspace = app.extensions["qdocs"].workspace
    workspace.index_here = False  # as after an index update was seen to take long
    login(client, "demo.inspector")
    record_id = revise_final_inspection(demo_repo)  # no hook: the index is behind
    signed = post(client, f"/records/{record_id}/sign", {"meaning": "inspected", "passphrase": "demo-passphrase",
                                                          "revision": "B"})
    assert signed.status_code == 303
    deadline = time.monotonic() + 90
    while not (found := client.get(f"/search.json?q=id:{record_id}").get_json())["index"]["current"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert [(hit["id"], hit["status"], hit["revision"]) for hit in found["results"]] == [(record_id, "in-review", "B")]
    workspace.index_worker.close()
    workspace.audit_worker.close()


def test_a_large_repository_is_searched_by_worker_processes_with_the_same_answers(demo_repo: Path):
    _, here = make_client(demo_repo, search_page_size=3)
    app, there = make_client(demo_repo, search_page_size=3, search_processes=2, search_processes_from=0)
    searcher = app.extensions["qdocs"].workspace.searcher
    for client in (here, there):
        login(client, "demo.auditor")
    try:
        for query in ("检验", "pump", "type:final-inspection", "检验&page=2", "检验&type=final-inspection"):
            expected, got = here.get(f"/search.json?q={query}").get_json(), there.get(f"/search.json?q={query}").get_json()
            assert got == expected and got["total"] > 0
        assert searcher.workers._executor is not None  # the worker processes answered
        bad = there.get("/search.json?q=%22unclosed")  # the library's refusal crosses the process boundary
        assert bad.status_code == 400 and "malformed query" in bad.get_json()["error"]
        # a commit made by another process: the worker catches the index up, as the thread would
        repository = Repository.open(demo_repo)
        values = example_values(repository.catalog, repository.catalog.get("final-inspection"))
        made = create_record(repository, "final-inspection", {**values, "lot": "L2026-081"}, "demo.inspector")
        repository.close()
        found = there.get("/search.json?q=L2026-081").get_json()
        assert found["index"]["current"] is True and [hit["id"] for hit in found["results"]] == [made.id]
    finally:
        searcher.close()
