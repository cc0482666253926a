"""Several sites, one record set: ``qdocs sync`` through a real git server (``git daemon`` on
loopback), the check of what comes in, the server's pre-receive hook, ``qdocs status``."""

from __future__ import annotations

import json
import shutil
import socket
import time
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from qdocs.queries import iter_records
from qdocs.repository import Repository
from tests.conftest import docx_text, git, write_example
from tests.sites import bare_repository, free_port, git_daemon

#: a standing-still day is not wanted: records and signatures must keep their order
CLOCK = "2026-03-10"


@pytest.fixture
def server(tmp_path: Path, monkeypatch):
    """A shared bare repository, served by git daemon (started after the clock is set, which the
    server's hook inherits); yields (url, bare path)."""
    monkeypatch.setenv("QDOCS_CLOCK", CLOCK)
    base = tmp_path / "server"
    base.mkdir()
    bare = bare_repository(base / "records.git")
    with git_daemon(base) as address:
        yield f"{address}/records.git", bare


def qdocs(repo: Path, *args: str, actor: str = "tester"):
    result = CliRunner().invoke(cli.cli, ["--repo", str(repo), "--actor", actor, *args], catch_exceptions=False)
    return result


def clone_site(url: str, path: Path, site: str) -> Path:
    subprocess.run(["git", "clone", "--quiet", url, str(path)], check=True, capture_output=True)
    result = qdocs(path, "init", "--site", site)
    assert result.exit_code == 0, result.output
    return path


def new_signed_record(repo: Path, catalog, folder: Path, signer_meanings=(("inspector", "inspected"),)) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    result = qdocs(repo, "new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", folder)))
    assert result.exit_code == 0, result.output
    record_id = result.output.strip().splitlines()[-1]
    for signer, meaning in signer_meanings:
        signed = qdocs(repo, "sign", record_id, "--as", signer, "--meaning", meaning)
        assert signed.exit_code == 0, signed.output
    return record_id


@pytest.fixture
def sites(signing, repo_path: Path, server, tmp_path: Path):
    """Three sites: S1 (the signing repository, pushed first), S2 and S3 cloned from the server."""
    url, _ = server
    assert qdocs(repo_path, "remote", "add", "origin", url).exit_code == 0
    first = qdocs(repo_path, "sync")
    assert first.exit_code == 0, first.output
    s2 = clone_site(url, tmp_path / "s2", "S2")
    s3 = clone_site(url, tmp_path / "s3", "S3")
    return {"S1": repo_path, "S2": s2, "S3": s3}


def record_ids(repo: Path) -> list[str]:
    repository = Repository.open(repo)
    try:
        return sorted(record.id for record in iter_records(repository))
    finally:
        repository.close()


def test_three_sites_exchange_signed_records_through_the_server(sites, catalog, tmp_path: Path):
    made: list[str] = []
    assert qdocs(sites["S1"], "search", "*").exit_code in (0, 1)  # S1 keeps a search index current
    for round_number in range(2):
        for site, repo in sites.items():
            made.append(new_signed_record(repo, catalog, tmp_path / f"data-{site}-{round_number}"))
            result = qdocs(repo, "sync", "--json")
            assert result.exit_code == 0, result.output
            report = json.loads(result.output)
            assert report["in_sync"] and made[-1] in report["records_sent"]
    made.append(new_signed_record(sites["S2"], catalog, tmp_path / "data-last",
                                  (("inspector", "inspected"), ("qc-manager", "approved"))))
    for site in ("S2", "S1", "S3", "S2"):
        result = qdocs(sites[site], "sync")
        assert result.exit_code == 0, result.output
        assert "in sync with origin" in result.output
    assert len(set(made)) == len(made) == 7
    assert {made_id.split("-")[1] for made_id in made} == {"S1", "S2", "S3"}
    heads = {git(repo, "rev-parse", "HEAD").strip() for repo in sites.values()}
    assert len(heads) == 1, "every site ends on the same commit"
    for site, repo in sites.items():
        assert record_ids(repo) == sorted(made), site
        verified = qdocs(repo, "verify")
        assert verified.exit_code == 0, verified.output
        found = qdocs(repo, "search", "*", "--json", "--limit", "100")
        assert sorted(item["id"] for item in json.loads(found.stdout)["results"]) == sorted(made), site
        assert git(repo, "status", "--porcelain") == ""
    merges = git(sites["S1"], "log", "--merges", "--format=%an%x00%B").split("\0")
    assert any("Action: sync" in text for text in merges), "merges are commits with their trailers"
    assert git(sites["S1"], "rev-list", "--count", "--merges", "HEAD").strip() != "0"


def test_three_sites_create_sign_revise_and_void_in_interleaved_rounds(sites, catalog, tmp_path: Path):
    """Each round, at each site in turn: a new record, a revision of its record of the round
    before (signed again), a void of its record of two rounds before, a sync, an approval of
    the newest record of the site before it, a sync.  A revision meets the other site's
    approval of the old revision (the revision stands); at the end every site holds the same
    records, verifies clean, numbers uniquely, and search and audit agree everywhere."""
    order = ["S1", "S2", "S3"]
    own: dict[str, list[str]] = {site: [] for site in order}
    for round_number in range(3):
        for position, site in enumerate(order):
            repo = sites[site]
            own[site].append(new_signed_record(repo, catalog, tmp_path / f"data-{site}-{round_number}"))
            if round_number >= 1:
                earlier = own[site][round_number - 1]
                revised = qdocs(repo, "revise", earlier, "--set", f"model=R{round_number}-{site}", "--reason",
                                f"round {round_number}")
                assert revised.exit_code == 0, revised.output
                assert qdocs(repo, "sign", earlier, "--as", "inspector", "--meaning", "inspected").exit_code == 0
            if round_number >= 2:
                voided = qdocs(repo, "void", own[site][round_number - 2], "--reason", "superseded by a new lot")
                assert voided.exit_code == 0, voided.output
            synced = qdocs(repo, "sync")  # takes in what the others did meanwhile, e.g. an approval
            assert synced.exit_code == 0, (site, round_number, synced.output)
            previous = order[position - 1]
            if own[previous] and own[previous][-1] in record_ids(repo):
                target = own[previous][-1]
                if _show(repo, target)["status"] == "in-review":
                    approved = qdocs(repo, "sign", target, "--as", "qc-manager", "--meaning", "approved")
                    assert approved.exit_code == 0, approved.output
                    assert qdocs(repo, "sync").exit_code == 0
    for site in ["S1", "S2", "S3", "S1", "S2"]:
        assert qdocs(sites[site], "sync").exit_code == 0
    made = sorted(record_id for records in own.values() for record_id in records)
    assert len(made) == 9 and len(set(made)) == 9
    assert len({git(repo, "rev-parse", "HEAD").strip() for repo in sites.values()}) == 1
    views = {}
    for site, repo in sites.items():
        assert record_ids(repo) == made, site
        verified = qdocs(repo, "verify", "--json")
        assert verified.exit_code == 0 and json.loads(verified.output)["clean"], (site, verified.output)
        notes = [note["message"] for note in json.loads(verified.output)["notes"]]
        assert any("does not count" in note for note in notes), "an approval of a revised record was set aside"
        found = json.loads(qdocs(repo, "search", "*", "--json", "--limit", "100").stdout)
        audit = qdocs(repo, "audit", "--json")
        assert audit.exit_code in (0, 1), audit.output
        views[site] = (sorted(item["id"] for item in found["results"]), json.loads(audit.output),
                       [_show(repo, record_id)["status"] for record_id in made])
    assert views["S1"] == views["S2"] == views["S3"]
    statuses = dict(zip(made, views["S1"][2]))
    for site in order:
        assert statuses[own[site][0]] == "void", "voided two rounds later"
        assert _show(sites["S1"], own[site][1])["revision"] == "B"


def test_status_counts_what_waits_and_works_offline(sites, catalog, tmp_path: Path):
    record_id = new_signed_record(sites["S2"], catalog, tmp_path / "data")
    waiting = json.loads(qdocs(sites["S2"], "status", "--json").output)
    assert waiting["site"] == "S2" and waiting["unfinished_merge"] is None
    origin = waiting["remotes"][0]
    # S2's registration, the record's creation and its signature
    assert origin["name"] == "origin" and origin["records_to_send"] == 1 and origin["events_to_send"] == 3
    assert origin["records_to_receive"] == 0
    assert qdocs(sites["S2"], "sync").exit_code == 0
    before = json.loads(qdocs(sites["S1"], "status", "--json").output)["remotes"][0]
    assert before["records_to_receive"] == 0  # as of the last fetch
    after = json.loads(qdocs(sites["S1"], "status", "--fetch", "--json").output)["remotes"][0]
    assert after["records_to_receive"] == 1 and after["events_to_receive"] == 3
    assert record_id not in record_ids(sites["S1"])
    text = qdocs(sites["S1"], "status")
    assert text.exit_code == 0 and "to receive 1 record(s)" in text.output


def _tamper(repo: Path, record_id: str) -> None:
    """Change a record's record.yaml with plain git, as someone bypassing qdocs would."""
    path = next(repo.rglob(f"{record_id}/record.yaml"))
    path.write_text(path.read_text(encoding="utf-8").replace("draft", "approved").replace("in-review", "approved"),
                    encoding="utf-8")
    git(repo, "commit", "-qam", "fix status")


def test_sync_refuses_a_tampered_incoming_history(sites, catalog, tmp_path: Path):
    record_id = new_signed_record(sites["S2"], catalog, tmp_path / "data")
    _tamper(sites["S2"], record_id)
    git(sites["S2"], "push", "-q", "origin", "main")  # no hook on this server: only the sync's check stands
    new_signed_record(sites["S1"], catalog, tmp_path / "data-s1")  # S1 has its own work: a merge is needed
    before = git(sites["S1"], "rev-parse", "HEAD")
    result = qdocs(sites["S1"], "sync")
    assert result.exit_code == 1, result.output
    assert "does not pass qdocs verify" in result.output and record_id in result.output
    assert git(sites["S1"], "rev-parse", "HEAD") == before, "nothing was merged"
    assert git(sites["S1"], "status", "--porcelain") == ""
    assert record_id not in record_ids(sites["S1"])
    assert qdocs(sites["S1"], "verify").exit_code == 0
    as_json = json.loads(qdocs(sites["S3"], "sync", "--json").output)  # S3 has nothing new: a fast-forward
    assert as_json["state"] == "incoming history refused" and as_json["findings"]


def test_the_server_hook_refuses_a_push_that_does_not_verify(sites, server, catalog, tmp_path: Path):
    url, bare = server
    installed = qdocs(sites["S1"], "server", "install-hook", str(bare))
    assert installed.exit_code == 0, installed.output
    assert "pre-receive" in installed.output
    record_id = new_signed_record(sites["S2"], catalog, tmp_path / "data")
    assert qdocs(sites["S2"], "sync").exit_code == 0, "a clean push passes the hook"
    _tamper(sites["S2"], record_id)
    server_head = git(bare, "rev-parse", "main")
    pushed = subprocess.run(["git", "push", "origin", "main"], cwd=sites["S2"], capture_output=True, text=True)
    assert pushed.returncode != 0
    assert "pre-receive hook declined" in pushed.stderr and record_id in pushed.stderr
    assert "record.yaml differs" in pushed.stderr
    result = qdocs(sites["S2"], "sync")
    assert result.exit_code == 1 and "refused the push" in result.output and record_id in result.output
    assert git(bare, "rev-parse", "main") == server_head, "nothing of the tampered history reached the server"
    older = git(bare, "rev-parse", "main~1").strip()
    forced = subprocess.run(["git", "push", "--force", "origin", f"{older}:main"], cwd=sites["S2"],
                            capture_output=True, text=True)
    assert forced.returncode != 0, "the shared history cannot be rewritten"
    assert qdocs(sites["S1"], "server", "install-hook", str(sites["S1"])).exit_code == 2, "not a bare repository"


def test_an_unreachable_remote_is_an_environment_failure(repo_path: Path, tmp_path: Path):
    assert qdocs(repo_path, "remote", "add", "origin", f"git://127.0.0.1:{free_port()}/records.git").exit_code == 0
    result = qdocs(repo_path, "sync")
    assert result.exit_code == 3
    assert len(result.output.strip().splitlines()) == 1 and "cannot fetch from remote origin" in result.output
    assert qdocs(repo_path, "status").exit_code == 0, "status works offline"
    assert qdocs(repo_path, "status", "--fetch").exit_code == 3
    unknown = qdocs(repo_path, "sync", "elsewhere")
    assert unknown.exit_code == 2 and "no remote named elsewhere" in unknown.output
    assert qdocs(repo_path, "remote", "add", "origin", "x").exit_code == 2
    assert qdocs(repo_path, "remote", "add", "bad name", "x").exit_code == 2
    assert qdocs(repo_path, "remote", "add", "gone", str(tmp_path / "nowhere.git")).exit_code == 0
    missing = qdocs(repo_path, "sync", "gone")
    assert missing.exit_code == 3 and "does not appear to be a git repository" in missing.output
    assert "and the repository exists" not in missing.output, "git's reason, not its closing advice"


def test_a_server_that_never_answers_is_given_up_after_the_timeout(repo_path: Path, monkeypatch):
    """A server that takes the connection and then says nothing must not hang a scheduled sync."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        assert qdocs(repo_path, "remote", "add", "origin", f"git://127.0.0.1:{port}/records.git").exit_code == 0
        before = git(repo_path, "rev-parse", "HEAD")
        monkeypatch.setenv("QDOCS_NETWORK_TIMEOUT", "1.5")
        started = time.monotonic()
        result = qdocs(repo_path, "sync")
        assert time.monotonic() - started < 20
    assert result.exit_code == 3, result.output
    assert "no answer within 1.5 s" in result.output and len(result.output.strip().splitlines()) == 1
    assert git(repo_path, "rev-parse", "HEAD") == before
    monkeypatch.setenv("QDOCS_NETWORK_TIMEOUT", "soon")
    bad = qdocs(repo_path, "sync")
    assert bad.exit_code == 2 and "QDOCS_NETWORK_TIMEOUT" in bad.output


def _diverge(repo_path: Path, record_id: str, conflicted: bool) -> None:
    """A branch ``side`` and ``main`` changed with plain git since they parted: both in the
    record's record.yaml (``conflicted``: a merge stops on it), or main elsewhere."""
    record_yaml = next(repo_path.rglob(f"{record_id}/record.yaml"))
    git(repo_path, "checkout", "-q", "-b", "side")
    record_yaml.write_text(record_yaml.read_text(encoding="utf-8") + "side: 1\n", encoding="utf-8")
    git(repo_path, "commit", "-qam", "side")
    git(repo_path, "checkout", "-q", "main")
    if conflicted:
        record_yaml.write_text(record_yaml.read_text(encoding="utf-8") + "main: 2\n", encoding="utf-8")
    else:
        (repo_path / "notes.txt").write_text("x\n", encoding="utf-8")
        git(repo_path, "add", "notes.txt")
    git(repo_path, "commit", "-qam", "main")


@pytest.mark.parametrize("conflicted", [True, False])
def test_during_an_unfinished_merge_writers_refuse_and_readers_do_not_crash(signing, repo_path: Path, catalog,
                                                                            tmp_path: Path, conflicted: bool):
    run = signing
    record_id = new_signed_record(repo_path, catalog, tmp_path / "data")
    _diverge(repo_path, record_id, conflicted)
    merged = subprocess.run(["git", "merge", "--no-commit", "--no-ff", "side"], cwd=repo_path, capture_output=True)
    assert (repo_path / ".git" / "MERGE_HEAD").exists() and (merged.returncode != 0) == conflicted
    head = git(repo_path, "rev-parse", "HEAD")
    data = write_example(catalog, "final-inspection", tmp_path)
    for arguments in (["new", "final-inspection", "--data", str(data)],
                      ["sign", record_id, "--as", "qc-manager", "--meaning", "approved"],
                      ["void", record_id, "--reason", "wrong"],
                      ["users", "add", "zhao", "--full-name", "赵", "--role", "inspector", "--as", "admin"]):
        result = run(*arguments)
        assert result.exit_code == 2, (arguments, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "git merge is unfinished" in lines[0] and "git merge --abort" in lines[0], lines
    assert git(repo_path, "rev-parse", "HEAD") == head, "nothing was committed in the middle of the merge"
    for arguments in (["list"], ["show", record_id], ["verify"], ["history", record_id], ["search", "*"],
                      ["audit", "--lot", "L2026-031"], ["export", record_id], ["sync"]):
        result = run(*arguments)
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and "git merge is unfinished" in lines[0], (arguments, lines)
    assert run("status").exit_code == 0
    status = json.loads(run("status", "--json").output)
    assert "git merge is unfinished" in status["unfinished_merge"]
    assert git(repo_path, "rev-parse", "HEAD") == head
    git(repo_path, "merge", "--abort")
    assert run("sign", record_id, "--as", "qc-manager", "--meaning", "approved").exit_code == 0


def test_during_an_unfinished_merge_a_real_process_prints_no_traceback(signing, repo_path: Path, catalog,
                                                                        tmp_path: Path):
    from tests.conftest import qdocs_process

    record_id = new_signed_record(repo_path, catalog, tmp_path / "data")
    _diverge(repo_path, record_id, conflicted=True)
    subprocess.run(["git", "merge", "side"], cwd=repo_path, capture_output=True)
    for arguments in (["list"], ["show", record_id], ["verify"]):
        result = qdocs_process("--repo", str(repo_path), *arguments)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "git merge is unfinished" in result.stderr and result.stdout == ""


def _revised_at_both(sites, catalog, tmp_path: Path) -> str:
    """A record known at S1 and S2, revised at S1 (model XB-1, sent) and at S2 (XB-2, not sent)."""
    record_id = new_signed_record(sites["S1"], catalog, tmp_path / "data")
    assert qdocs(sites["S1"], "sync").exit_code == 0
    assert qdocs(sites["S2"], "sync").exit_code == 0
    assert qdocs(sites["S1"], "revise", record_id, "--set", "model=XB-1", "--reason", "one").exit_code == 0
    assert qdocs(sites["S1"], "sync").exit_code == 0
    assert qdocs(sites["S2"], "revise", record_id, "--set", "model=XB-2", "--reason", "two").exit_code == 0
    return record_id


def test_the_same_revision_revised_at_two_sites_stops_the_sync_with_both_actions_named(sites, catalog,
                                                                                       tmp_path: Path):
    record_id = _revised_at_both(sites, catalog, tmp_path)
    before = git(sites["S2"], "rev-parse", "HEAD")
    result = qdocs(sites["S2"], "sync")
    assert result.exit_code == 1 and "conflict" in result.output and f"{record_id}: " in result.output
    assert "here: revise to revision B by tester at S2" in result.output
    assert "origin: revise to revision B by tester at S1" in result.output
    assert git(sites["S2"], "rev-parse", "HEAD") == before and git(sites["S2"], "status", "--porcelain") == ""
    assert not (sites["S2"] / ".git" / "MERGE_HEAD").exists()
    report = json.loads(qdocs(sites["S2"], "sync", "--json").output)
    assert report["state"] == "conflict" and {item["record"] for item in report["conflicts"]} == {record_id}


@pytest.mark.parametrize("kept", ["S1", "S2"])
def test_a_person_resolves_a_record_revised_at_two_sites_and_the_other_revision_does_not_count(
        sites, catalog, tmp_path: Path, kept):
    record_id = _revised_at_both(sites, catalog, tmp_path)
    assert qdocs(sites["S2"], "sign", record_id, "--as", "inspector", "--meaning", "inspected").exit_code == 0
    stopped = qdocs(sites["S2"], "sync")
    assert stopped.exit_code == 1 and f"--resolve {record_id} --keep SITE --reason" in stopped.output
    before = git(sites["S2"], "rev-parse", "HEAD")
    refused = {
        "a site that revised nothing": ["--resolve", record_id, "--keep", "S3", "--reason", "r"],
        "no reason": ["--resolve", record_id, "--keep", kept],
        "a record not in conflict": ["--resolve", record_id, "--resolve", "FI-S1-2026-9999", "--keep", kept,
                                     "--reason", "r"],
        "--keep alone": ["--keep", kept],
    }
    for why, arguments in refused.items():
        result = qdocs(sites["S2"], "sync", *arguments)
        assert result.exit_code == 2, (why, result.output)
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output, why
        assert git(sites["S2"], "rev-parse", "HEAD") == before and git(sites["S2"], "status", "--porcelain") == "", why
    resolved = qdocs(sites["S2"], "--actor", "li.qa", "sync", "--resolve", record_id, "--keep", kept,
                     "--reason", "the measurement of the kept site was repeated after calibration")
    assert resolved.exit_code == 0, resolved.output
    assert f"resolved {record_id}: the revision made at {kept} stands" in resolved.output
    merge = git(sites["S2"], "log", "-1", "--format=%an%n%B")
    assert merge.startswith("li.qa") and f"Resolved: {record_id} kept {kept}" in merge
    assert "Reason: the measurement of the kept site was repeated after calibration" in merge
    notes = _all_agree_and_verify(sites, record_id)
    merged = _show(sites["S1"], record_id)
    assert merged["revision"] == "B"
    assert merged["data"]["model"] == ("XB-1" if kept == "S1" else "XB-2")
    assert merged["status"] == ("draft" if kept == "S1" else "in-review")
    other = "S2" if kept == "S1" else "S1"
    assert notes and all(f"li.qa kept the revision made at {kept}" in note for note in notes)
    assert any(f"revision B by tester was made at {other}" in note for note in notes)
    document = next(sites["S3"].rglob(f"{record_id}/record.docx")).read_bytes()
    assert merged["data"]["model"] in docx_text(document)


def test_the_hook_names_the_records_branch_of_a_new_shared_repository(repo_path: Path, tmp_path: Path):
    """`git init --bare` may name another default branch: after install-hook a plain clone of
    the shared repository checks out the records all the same."""
    bare = tmp_path / "shared.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=trunk", str(bare)], check=True)
    assert qdocs(repo_path, "server", "install-hook", str(bare)).exit_code == 0
    assert git(bare, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert qdocs(repo_path, "remote", "add", "origin", str(bare)).exit_code == 0
    assert qdocs(repo_path, "sync").exit_code == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(bare), str(clone)], check=True, capture_output=True)
    assert (clone / ".qdocs" / "config.yaml").is_file()


def _shared_record(sites, catalog, tmp_path: Path) -> str:
    """A record made and signed (inspected) at S1, known at S1 and S2."""
    record_id = new_signed_record(sites["S1"], catalog, tmp_path / "data")
    assert qdocs(sites["S1"], "sync").exit_code == 0
    assert qdocs(sites["S2"], "sync").exit_code == 0
    for repo in sites.values():  # what verify --since starts from in _all_agree_and_verify
        assert qdocs(repo, "checkpoint", "-o", str(_shared_checkpoint(repo))).exit_code == 0
    return record_id


def _shared_checkpoint(repo: Path) -> Path:
    return repo.parent / f"{repo.name}-shared.checkpoint"


def _show(repo: Path, record_id: str) -> dict:
    return json.loads(qdocs(repo, "show", record_id, "--json").output)


def _all_agree_and_verify(sites, record_id: str) -> list[str]:
    """Every site syncs, ends on one commit and verifies clean; the notes of verify at S1."""
    for site in ("S3", "S1", "S2"):
        result = qdocs(sites[site], "sync")
        assert result.exit_code == 0, (site, result.output)
    assert len({git(repo, "rev-parse", "HEAD").strip() for repo in sites.values()}) == 1
    notes = []
    for site, repo in sites.items():
        verified = qdocs(repo, "verify", "--json")
        report = json.loads(verified.output)
        assert verified.exit_code == 0 and report["clean"], (site, verified.output)
        assert git(repo, "status", "--porcelain") == ""
        notes = [note["message"] for note in report["notes"] if note["record"] == record_id]
        if _shared_checkpoint(repo).exists():  # what changed since the record was shared: the same answer
            since = qdocs(repo, "verify", "--json", "--since", str(_shared_checkpoint(repo)))
            changed = json.loads(since.output)
            assert since.exit_code == 0 and changed["clean"], (site, since.output)
            assert [note["message"] for note in changed["notes"] if note["record"] == record_id] == notes
            assert changed["records_checked"] == 1
    return notes


def test_sign_and_revise_at_two_sites_merge_to_the_revision(sites, catalog, tmp_path: Path):
    record_id = _shared_record(sites, catalog, tmp_path)
    revised = qdocs(sites["S1"], "revise", record_id, "--set", "model=XB-2", "--reason", "model corrected")
    assert revised.exit_code == 0, revised.output
    assert qdocs(sites["S1"], "sync").exit_code == 0
    signed = qdocs(sites["S2"], "sign", record_id, "--as", "qc-manager", "--meaning", "approved")
    assert signed.exit_code == 0, signed.output
    assert _show(sites["S2"], record_id)["status"] == "approved"
    result = qdocs(sites["S2"], "sync")
    assert result.exit_code == 0, result.output
    assert f"merged {record_id}" in result.output and "revise wins" in result.output
    merged = _show(sites["S2"], record_id)
    assert merged["revision"] == "B" and merged["status"] == "draft" and merged["signatures"] == []
    assert merged["data"]["model"] == "XB-2"
    expected = ("signature of qc-manager (approved) on revision A was given at S2 while S1 revised the record "
                "to revision B; kept in history, it does not count")
    assert [item["note"] for item in merged["superseded"]] == [expected]
    shown = qdocs(sites["S2"], "show", record_id)
    assert expected in shown.output
    merge = git(sites["S2"], "log", "-1", "--format=%P%n%B")
    assert len(merge.splitlines()[0].split()) == 2 and "Action: sync" in merge and record_id in merge
    # the signature stays in history: its commit and its event
    assert "sign " + record_id in git(sites["S2"], "log", "--format=%s", "--all")
    notes = _all_agree_and_verify(sites, record_id)
    assert notes == [expected]
    assert _show(sites["S1"], record_id)["revision"] == "B"
    document = next(sites["S1"].rglob(f"{record_id}/record.docx")).read_bytes()
    assert "XB-2" in docx_text(document), "the document is rendered for the merged state"
    # the merged revision is signed as usual afterwards
    again = qdocs(sites["S1"], "sign", record_id, "--as", "inspector", "--meaning", "inspected")
    assert again.exit_code == 0, again.output
    assert qdocs(sites["S1"], "verify").exit_code == 0


@pytest.mark.parametrize("other", ["sign", "revise"])
def test_void_at_one_site_wins_over_a_signature_or_revision_at_the_other(sites, catalog, tmp_path: Path, other):
    record_id = _shared_record(sites, catalog, tmp_path)
    assert qdocs(sites["S1"], "void", record_id, "--reason", "wrong lot").exit_code == 0
    assert qdocs(sites["S1"], "sync").exit_code == 0
    if other == "sign":
        done = qdocs(sites["S2"], "sign", record_id, "--as", "qc-manager", "--meaning", "approved")
        expected = "signature of qc-manager (approved) on revision A was given at S2"
    else:
        done = qdocs(sites["S2"], "revise", record_id, "--set", "model=XB-2", "--reason", "model corrected")
        expected = "revision B by tester was made at S2"
    assert done.exit_code == 0, done.output
    result = qdocs(sites["S2"], "sync")
    assert result.exit_code == 0, result.output
    assert "void wins" in result.output
    merged = _show(sites["S2"], record_id)
    assert merged["status"] == "void" and merged["revision"] == "A" and merged["void"]["reason"] == "wrong lot"
    assert [signature["meaning"] for signature in merged["signatures"]] == ["inspected"]
    note = f"{expected} while S1 voided the record; kept in history, it does not count"
    assert [item["note"] for item in merged["superseded"]] == [note]
    assert note in qdocs(sites["S2"], "show", record_id).output
    assert _all_agree_and_verify(sites, record_id) == [note]
    assert _show(sites["S3"], record_id)["status"] == "void"


def test_the_same_revision_signed_at_two_sites_keeps_the_earlier_of_two_like_signatures(sites, catalog,
                                                                                         tmp_path: Path):
    record_id = _shared_record(sites, catalog, tmp_path)
    assert qdocs(sites["S1"], "sign", record_id, "--as", "qc-manager", "--meaning", "approved").exit_code == 0
    assert qdocs(sites["S1"], "sync").exit_code == 0
    assert qdocs(sites["S2"], "sign", record_id, "--as", "qc-manager", "--meaning", "approved",
                 "--comment", "second").exit_code == 0
    point = tmp_path / "s2-before-merge.checkpoint"  # S2's signature is before it, the merge after it
    assert qdocs(sites["S2"], "checkpoint", "-o", str(point)).exit_code == 0
    result = qdocs(sites["S2"], "sync")
    assert result.exit_code == 0, result.output
    full = json.loads(qdocs(sites["S2"], "verify", "--json").output)
    since = qdocs(sites["S2"], "verify", "--json", "--since", str(point))
    changed = json.loads(since.output)
    assert since.exit_code == 0 and changed["clean"] and full["clean"], since.output
    assert [note["message"] for note in changed["notes"]] == [note["message"] for note in full["notes"]] != []
    merged = _show(sites["S2"], record_id)
    assert merged["status"] == "approved"
    assert [(item["meaning"], item.get("comment", "")) for item in merged["signatures"]] == [
        ("inspected", ""), ("approved", "")], "the earlier approval (S1's) counts"
    [item] = merged["superseded"]
    assert item["note"].startswith("signature of qc-manager (approved) on revision A was given at S2 while "
                                   "the revision was already signed as approved by qc-manager")
    assert _all_agree_and_verify(sites, record_id) == [item["note"]]


def test_signatures_of_one_revision_given_at_two_sites_are_both_kept_where_they_fit(sites, catalog,
                                                                                     tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    created = qdocs(sites["S1"], "new", "final-inspection", "--data",
                    str(write_example(catalog, "final-inspection", data)))
    record_id = created.output.strip().splitlines()[-1]
    assert qdocs(sites["S1"], "sync").exit_code == 0
    assert qdocs(sites["S2"], "sync").exit_code == 0
    # S1 inspects; S2, not knowing, inspects too (another inspector would be kept only once)
    assert qdocs(sites["S1"], "sign", record_id, "--as", "inspector", "--meaning", "inspected").exit_code == 0
    assert qdocs(sites["S1"], "sync").exit_code == 0
    assert qdocs(sites["S2"], "sign", record_id, "--as", "inspector", "--meaning", "inspected").exit_code == 0
    assert qdocs(sites["S2"], "sign", record_id, "--as", "qc-manager", "--meaning", "approved").exit_code == 0
    result = qdocs(sites["S2"], "sync")
    assert result.exit_code == 0, result.output
    merged = _show(sites["S2"], record_id)
    assert [item["meaning"] for item in merged["signatures"]] == ["inspected", "approved"]
    assert merged["status"] == "approved", "S1's inspection and S2's approval are both kept"
    [item] = merged["superseded"]
    assert "signature of inspector (inspected) on revision A was given at S2" in item["note"]
    assert _all_agree_and_verify(sites, record_id) == [item["note"]]


def test_a_record_voided_at_two_sites_keeps_the_earlier_void(sites, catalog, tmp_path: Path):
    record_id = _shared_record(sites, catalog, tmp_path)
    assert qdocs(sites["S1"], "void", record_id, "--reason", "wrong lot").exit_code == 0
    assert qdocs(sites["S1"], "sync").exit_code == 0
    assert qdocs(sites["S2"], "void", record_id, "--reason", "duplicate").exit_code == 0
    result = qdocs(sites["S2"], "sync")
    assert result.exit_code == 0, result.output
    merged = _show(sites["S2"], record_id)
    assert merged["status"] == "void" and merged["void"]["reason"] == "wrong lot", "the earlier void stands"
    notes = [item["note"] for item in merged.get("superseded", [])]
    assert notes == ["void by tester was made at S2 while S1 voided the record; kept in history, it does not count"]
    assert _all_agree_and_verify(sites, record_id) == notes


def _users(repo: Path) -> dict:
    listed = qdocs(repo, "users", "list", "--json")
    assert listed.exit_code == 0, listed.output
    return {user["name"]: user for user in json.loads(listed.output)}


@pytest.mark.parametrize("other", ["key", "role"])
def test_one_user_changed_at_two_sites_merges_to_the_trust_log_of_both(sites, catalog, tmp_path: Path, other):
    """S1 grants zhao a role while S2 registers zhao's key (or grants another role): both
    changes count everywhere, and zhao's file is what qdocs writes for the merged trust log."""
    added = qdocs(sites["S1"], "users", "add", "zhao", "--full-name", "赵六", "--role", "inspector", "--as", "admin")
    assert added.exit_code == 0, added.output
    assert qdocs(sites["S1"], "sync").exit_code == 0
    assert qdocs(sites["S2"], "sync").exit_code == 0
    granted = qdocs(sites["S1"], "users", "grant", "zhao", "--role", "qc-manager", "--as", "admin")
    assert granted.exit_code == 0, granted.output
    if other == "key":
        changed = qdocs(sites["S2"], "keys", "create", "zhao", "--as", "admin")
    else:
        changed = qdocs(sites["S2"], "users", "grant", "zhao", "--role", "qa-engineer", "--as", "admin")
    assert changed.exit_code == 0, changed.output
    assert qdocs(sites["S1"], "sync").exit_code == 0
    merged = qdocs(sites["S2"], "sync")
    assert merged.exit_code == 0, merged.output
    assert "Trust-views-merged: .qdocs/users/zhao.yaml" in git(sites["S2"], "log", "-1", "--format=%B")
    assert "merged .qdocs/users/zhao.yaml (changed here and at origin)" in merged.output
    _all_agree_and_verify(sites, "no record")
    roles = ["inspector", "qa-engineer", "qc-manager"] if other == "role" else ["inspector", "qc-manager"]
    views = set()
    for site, repo in sites.items():
        zhao = _users(repo)["zhao"]
        assert zhao["roles"] == roles, site
        assert len(zhao["keys"]) == (1 if other == "key" else 0), site
        views.add((repo / ".qdocs/users/zhao.yaml").read_text(encoding="utf-8"))
    assert len(views) == 1
    if other == "key":  # the key registered at S2 signs with the role granted at S1
        record_id = new_signed_record(sites["S1"], catalog, tmp_path / "data",
                                      (("inspector", "inspected"), ("zhao", "approved")))
        assert _show(sites["S1"], record_id)["status"] == "approved"
        assert qdocs(sites["S1"], "verify").exit_code == 0



@pytest.mark.parametrize("full_name", ["赵六", "赵七"])
def test_the_same_user_added_at_two_sites(sites, catalog, tmp_path: Path, full_name):
    """Both administrators add zhao before the sites sync: the same person (the same full name)
    is one user with the roles of both adds; two people under one user name stop the sync."""
    first = qdocs(sites["S1"], "users", "add", "zhao", "--full-name", "赵六", "--role", "inspector", "--as", "admin")
    assert first.exit_code == 0, first.output
    second = qdocs(sites["S2"], "users", "add", "zhao", "--full-name", full_name, "--role", "qc-manager",
                   "--as", "admin")
    assert second.exit_code == 0, second.output
    assert qdocs(sites["S1"], "sync").exit_code == 0
    before = git(sites["S2"], "rev-parse", "HEAD")
    joined = qdocs(sites["S2"], "sync")
    if full_name != "赵六":
        assert joined.exit_code == 1, joined.output
        assert "two people under one user name" in joined.output and "nothing was merged" in joined.output
        assert git(sites["S2"], "rev-parse", "HEAD") == before
        return
    assert joined.exit_code == 0, joined.output
    _all_agree_and_verify(sites, "no record")
    for repo in sites.values():
        assert _users(repo)["zhao"]["roles"] == ["inspector", "qc-manager"]
    assert len({(repo / ".qdocs/users/zhao.yaml").read_text(encoding="utf-8") for repo in sites.values()}) == 1


@pytest.mark.parametrize("order", ["sign-first", "revoke-first"])
def test_a_revocation_counts_from_its_time_at_every_site(sites, catalog, tmp_path: Path, order):
    """Trust entries and signatures of different sites are ordered by their times: a signature
    given at S2 before S1 revoked the signer counts after the sync; one given after the
    revocation (by the clocks), though before the two sites synced, does not verify, and the
    sync that would join them stops with nothing merged."""
    record_id = _shared_record(sites, catalog, tmp_path)
    actions = {"sign": ("S2", ["sign", record_id, "--as", "qc-manager", "--meaning", "approved"]),
               "revoke": ("S1", ["users", "revoke", "qc-manager", "--reason", "left the company", "--as", "admin"])}
    for step, name in enumerate(["sign", "revoke"] if order == "sign-first" else ["revoke", "sign"]):
        if step:
            time.sleep(1.1)  # the clock runs to the second
        site, arguments = actions[name]
        done = qdocs(sites[site], *arguments)
        assert done.exit_code == 0, done.output
    assert qdocs(sites["S1"], "sync").exit_code == 0
    joined = qdocs(sites["S2"], "sync")
    if order == "sign-first":
        assert joined.exit_code == 0, joined.output
        _all_agree_and_verify(sites, record_id)
        assert _show(sites["S1"], record_id)["status"] == "approved"
        assert _users(sites["S1"])["qc-manager"]["revoked"]
    else:
        assert joined.exit_code == 1
        assert "made after the signer was revoked" in joined.output and "nothing was merged" in joined.output
        assert qdocs(sites["S2"], "verify").exit_code == 0, "each copy stays as it was"


def test_forms_approved_at_two_sites_are_both_in_force_everywhere(sites):
    """S1 approves a change of the rules while S2 approves one of the catalog: both versions
    are in force at every site, and the approved-forms file is the same everywhere."""
    for site, form in (("S1", "forms/rules.yaml"), ("S2", "forms/catalog.yaml")):
        path = sites[site] / form
        path.write_text(path.read_text(encoding="utf-8") + f"# reviewed at {site}\n", encoding="utf-8")
        approved = qdocs(sites[site], "forms", "approve", form, "--as", "qc-manager", "--comment", f"review {site}")
        assert approved.exit_code == 0, approved.output
    assert qdocs(sites["S1"], "sync").exit_code == 0
    merged = qdocs(sites["S2"], "sync")
    assert merged.exit_code == 0, merged.output
    assert "merged .qdocs/forms.yaml" in merged.output
    _all_agree_and_verify(sites, "no record")
    views = {(repo / ".qdocs/forms.yaml").read_text(encoding="utf-8") for repo in sites.values()}
    assert len(views) == 1
    for site, repo in sites.items():
        states = {form["path"]: form for form in json.loads(qdocs(repo, "forms", "status", "--json").output)}
        for form in ("forms/rules.yaml", "forms/catalog.yaml"):
            assert states[form]["state"] == "approved" and states[form]["version"] == 2, (site, form, states[form])
