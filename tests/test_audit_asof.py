"""``--as-of DATE``: the repository as it stood at the end of a day, read from git history."""

from __future__ import annotations

import datetime

from qdocs.audit.dates import commit_as_of
from qdocs.audit.evaluation import release_check
from qdocs.queries import get_record
from qdocs.repository import Repository
from tests.conftest import git
from tests.test_audit_helpers import BUILT, LOT, PRODUCT, RELEASED, after_sales_of, complete, ids_of, results_of, state  # noqa: F401


#: the day between the set's making (BUILT) and the final inspection's approval (RELEASED), and
#: the release day: days of the fixture's clock, not of the real date
BETWEEN = (datetime.date.fromisoformat(BUILT[:10]) + datetime.timedelta(days=1)).isoformat()
RELEASE_DAY = RELEASED[:10]


def test_lot_incomplete_before_final_inspection_was_signed_and_complete_after(complete):
    (final,) = ids_of(complete, "final-inspection")
    before = complete("release-check", PRODUCT, "--lot", LOT, "--as-of", BETWEEN)
    assert before.exit_code == 1
    assert f"R11 §2.4.2 unsigned: final inspection report / inspection certificate {final} (in-review)" in before.stdout
    assert f"as of {BETWEEN}" in before.stdout
    after = complete("release-check", PRODUCT, "--lot", LOT, "--as-of", RELEASE_DAY)
    assert after.exit_code == 0 and f"may ship as of {RELEASE_DAY}" in after.stdout

    code, report = complete.audit_json("--lot", LOT, "--as-of", BETWEEN)
    assert code == 1 and report["as_of"] == BETWEEN
    assert results_of(report)["R11"]["status"] == "unsigned"
    # the commit used is the last one on or before the end of that day in the company's zone, not HEAD
    end = datetime.datetime(2026, 3, 21, 23, 59, 59, tzinfo=Repository.open(complete.repo).time_zone)
    history = git(complete.repo, "log", "--format=%H %ct").splitlines()
    expected = next(line.split()[0] for line in history if int(line.split()[1]) <= end.timestamp())
    assert report["commit"] == expected != git(complete.repo, "rev-parse", "HEAD").strip()
    repository = Repository.open(complete.repo)
    assert release_check(repository, PRODUCT, LOT, datetime.date.fromisoformat(RELEASE_DAY))[0].blocked is False


def test_later_changes_do_not_alter_an_earlier_day(complete):
    (final,) = ids_of(complete, "final-inspection")
    assert complete("void", final, "--reason", "certificate withdrawn").exit_code == 0
    assert complete("release-check", PRODUCT, "--lot", LOT).exit_code == 1
    code, report = complete.audit_json("--lot", LOT, "--as-of", RELEASE_DAY)
    assert code == 0 and results_of(report)["R11"]["evidence"] == [final]
    # nothing is checked out: the work tree still has the void record
    assert "void" in (complete.repo / get_record(Repository.open(complete.repo), final).path / "record.yaml").read_text()


def test_after_sales_rules_are_evaluated_as_of_the_day(complete):
    code, report = complete.audit_json("--as-of", RELEASE_DAY)
    assert after_sales_of(report)["A4"]["status"] == "ok"  # maintenance next due 2026-05-20
    code, report = complete.audit_json("--as-of", "2099-01-01")
    a4 = after_sales_of(report)["A4"]
    assert a4["status"] == "overdue" and "day(s) overdue on 2099-01-01" in a4["findings"][0]["text"]


def test_as_of_before_the_repository_existed_is_refused(complete):
    before = state(complete.repo)
    result = complete("audit", "--as-of", "2001-01-01")
    assert result.exit_code == 2
    assert result.stderr.startswith("qdocs: error: --as-of 2001-01-01: the repository has no commit on or before")
    assert state(complete.repo) == before
    zone = Repository.open(complete.repo).time_zone
    assert commit_as_of(complete.repo, datetime.date.fromisoformat("2099-12-31"), zone) == git(
        complete.repo, "rev-parse", "HEAD").strip()
