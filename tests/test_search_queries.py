"""``qdocs search``: Chinese and English words, fields, boolean logic, dates, counts and exit codes.

One small repository serves every test here (searching changes no record):
three final inspections (two lots of PUMP-X200 in March and April, one valve),
a complaint about leaking seals, a supplier evaluation of 华泰 and a
nonconformance.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from qdocs.actions import create_record
from qdocs.queries import get_record, iter_records
from tests.conftest import example_values, git, new_repository


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, catalog) -> dict:
    path = tmp_path_factory.mktemp("search") / "records"
    repository = new_repository(path, "S1", actor="tester")

    def make(type_id: str, **changes) -> str:
        return create_record(repository, type_id, {**example_values(catalog, type_id), **changes}, "tester").id

    ids = {
        "march": make("final-inspection", lot="L2026-031", inspection_date="2026-03-21", conclusion="pass"),
        "april": make("final-inspection", lot="L2026-032", inspection_date="2026-04-02", conclusion="fail",
                      standard="Q/EX 001 密封泄漏试验 leakage test"),
        "valve": make("final-inspection", product="VALVE-DN50", lot="V2026-001", model="VALVE-DN50",
                      product_name="闸阀 Gate valve", inspection_date="2026-03-05"),
        "complaint": make("customer-inquiry", details="机械密封泄漏，客户投诉。The customer complains of leaking seals."),
        "reports": make("customer-inquiry", case="C-2026-002",
                        details="附试验报告和检验报表。The gland of the pump leaks slowly."),
        "supplier": make("supplier-evaluation"),
        "nonconformance": make("nonconformance"),
    }
    return {"path": path, "ids": ids, "repository": repository}


@pytest.fixture
def search(corpus):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli.cli, ["--repo", str(corpus["path"]), "search", *args], catch_exceptions=False)

    return invoke


def found_ids(result) -> list[str]:
    assert result.exit_code in (0, 1), result.output
    return [hit["id"] for hit in json.loads(result.stdout)["results"]] if result.exit_code == 0 else []


def test_chinese_word_found_inside_longer_words(search, corpus):
    ids = corpus["ids"]
    # 检验 only ever occurs inside longer words here (出厂检验报告, 检验日期, 检验结论 ...)
    assert {ids["march"], ids["april"], ids["valve"]} <= set(found_ids(search("检验", "--json")))
    assert set(found_ids(search("泄漏", "--json"))) == {ids["april"], ids["complaint"]}
    assert found_ids(search("华泰", "--json")) == [ids["supplier"]]
    assert set(found_ids(search("密封泄漏试验", "--json"))) == {ids["april"]}


def test_chinese_word_absent_finds_nothing(search):
    for absent in ("泄露", "检测报告", "漏泄", "密封试验泄漏"):
        result = search(absent)
        assert result.exit_code == 1, (absent, result.output)
        assert "no records match" in result.stderr


def test_single_chinese_character_found_anywhere_in_a_word(search, corpus):
    assert found_ids(search("阀", "--json")) == [corpus["ids"]["valve"]]  # last character of 闸阀
    assert found_ids(search("闸", "--json")) == [corpus["ids"]["valve"]]  # first character
    snippet = json.loads(search("阀", "--json").stdout)["results"][0]["snippet"]
    assert "闸«阀»" in snippet


def test_english_words_are_stemmed_and_case_insensitive(search, corpus):
    complaint = corpus["ids"]["complaint"]
    for word in ("leak", "leaks", "LEAKING", "leaked", "complaint", "complained"):
        assert complaint in found_ids(search(word, "--json")), word
    assert corpus["ids"]["april"] in found_ids(search("leakage", "--json"))


def test_fielded_queries(search, corpus):
    ids = corpus["ids"]
    assert found_ids(search("product:VALVE-DN50", "--json")) == [ids["valve"]]
    assert found_ids(search("lot:L2026-032", "--json")) == [ids["april"]]
    assert found_ids(search("conclusion:fail", "--json")) == [ids["april"]]
    assert sorted(found_ids(search("type:customer-inquiry", "--json"))) == [ids["complaint"], ids["reports"]]
    assert found_ids(search(f"id:{ids['supplier']}", "--json")) == [ids["supplier"]]
    assert set(found_ids(search("status:draft", "--json"))) == set(ids.values())


def test_quoted_phrases_are_exact(search, corpus):
    reports = corpus["ids"]["reports"]
    # every three-character piece of 检验报告 is in the record (检验报表, 试验报告), never the word
    assert reports in found_ids(search("检验报告", "--json"))
    assert reports not in found_ids(search('"检验报告"', "--json"))
    assert found_ids(search('"试验报告"', "--json")) == [reports]
    assert found_ids(search('"gland of the pump"', "--json")) == [reports]
    assert found_ids(search('"glands of pumps"', "--json")) == [reports]
    assert search('"pump gland"').exit_code == 1


def test_boolean_phrase_and_wildcard_queries(search, corpus):
    ids = corpus["ids"]
    assert found_ids(search("泄漏 AND type:final-inspection", "--json")) == [ids["april"]]
    assert found_ids(search("泄漏 NOT type:final-inspection", "--json")) == [ids["complaint"]]
    assert set(found_ids(search("华泰 OR 闸阀", "--json"))) == {ids["supplier"], ids["valve"]}
    assert found_ids(search('"leakage test"', "--json")) == [ids["april"]]
    assert search('"test leakage"').exit_code == 1
    assert found_ids(search("(闸阀 OR 华泰) AND type:final-inspection", "--json")) == [ids["valve"]]
    assert ids["valve"] in found_ids(search("valv*", "--json"))
    assert found_ids(search("product:VALVE-DN?0", "--json")) == [ids["valve"]]
    assert ids["valve"] in found_ids(search("dn?0", "--json"))


def test_date_range_queries_and_options(search, corpus):
    ids = corpus["ids"]
    march = set(found_ids(search("date:[2026-03-01 TO 2026-03-31]", "--type", "final-inspection", "--json")))
    assert march == {ids["march"], ids["valve"]}
    assert found_ids(search("date:2026-04", "--type", "final-inspection", "--json")) == [ids["april"]]
    assert set(found_ids(search("type:final-inspection", "--from", "2026-03-06", "--to", "2026-03-31", "--json"))) \
        == {ids["march"]}
    assert set(found_ids(search("type:final-inspection", "--from", "2026-03-21", "--json"))) \
        == {ids["march"], ids["april"]}
    assert found_ids(search("type:final-inspection AND date:<2026-03-21", "--json")) == [ids["valve"]]
    today = get_record(corpus["repository"], ids["march"]).created.time[:10]
    assert len(found_ids(search(f"created:{today}", "--json", "--limit", "50"))) == len(ids)


def test_filter_options(search, corpus):
    ids = corpus["ids"]
    assert set(found_ids(search("检验", "--product", "PUMP-X200", "--type", "final-inspection", "--json"))) \
        == {ids["march"], ids["april"]}
    assert found_ids(search("检验", "--lot", "L2026-032", "--json")) == [ids["april"]]
    assert search("检验", "--status", "void").exit_code == 1


def test_results_are_ranked_counted_per_type_and_limited(search, corpus):
    everything = json.loads(search("*", "--json", "--limit", "2").stdout)
    expected = Counter(record.type for record in iter_records(corpus["repository"]))
    assert everything["per_type"] == dict(expected)
    assert everything["total"] == sum(expected.values()) and len(everything["results"]) == 2
    result = search("泄漏 OR leakage", "--json")
    answer = json.loads(result.stdout)
    assert answer["per_type"] == {"final-inspection": 1, "customer-inquiry": 1}
    scores = [hit["score"] for hit in answer["results"]]
    assert scores == sorted(scores, reverse=True)
    for hit in answer["results"]:
        assert set(hit) >= {"id", "type", "subject", "status", "revision", "date", "snippet"}
        assert len(hit["date"]) == 10 and hit["date"][4] == "-"
        assert "«泄漏»" in hit["snippet"] or "«leakage»" in hit["snippet"].lower()
    text = search("泄漏")
    assert text.exit_code == 0
    assert "2 record(s): customer-inquiry 1, final-inspection 1" in text.stdout
    assert "PUMP-X200 / L2026-032" in text.stdout


@pytest.mark.parametrize("arguments, message", [
    (['"unclosed phrase'], 'a phrase opened with " is not closed'),
    (["(检验 OR 泄漏"], "'(' is not closed"),
    (["检验 AND"], "'AND' at the end needs a word after it"),
    (["OR 检验"], "'OR' needs a word before it"),
    (["colour:red"], "unknown field 'colour'"),
    (["type:"], "'type:' has no value"),
    (["检验 AND type:"], "'type:' has no value"),
    (["type: final-inspection"], "'type:' has no value"),
    (["(泄漏 OR lot:)"], "'lot:' has no value"),
    (['lot:""'], "'lot:' has no value"),
    (["type:()"], "'()' holds nothing"),
    (['"" 检验'], 'the phrase "" is empty'),
    ([":检验"], "':检验' has no field name before the ':'"),
    (["检验)"], "')' has no matching '('"),
    (["date:[2026-13-01 TO 2026-12-31]"], "'2026-13-01' is not a date"),
    (["created:yesterday"], "'yesterday' is not a date"),
    ([""], "the query is empty"),
    (["检验", "--from", "21.03.2026"], "--from '21.03.2026': write a date as YYYY-MM-DD"),
    (["检验", "--status", "closed"], "--status 'closed': choose one of draft, in-review, approved, void"),
    (["检验", "--limit", "ten"], "--limit 'ten'"),
    (["检验", "--type", "no-such-type"], "no-such-type"),
])
def test_bad_queries_exit_2_with_one_line(search, corpus, arguments, message):
    before = git(corpus["path"], "status", "--porcelain"), git(corpus["path"], "rev-parse", "HEAD")
    result = search(*arguments)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qdocs: error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert (git(corpus["path"], "status", "--porcelain"), git(corpus["path"], "rev-parse", "HEAD")) == before


def test_search_writes_nothing_git_sees(corpus):
    assert git(corpus["path"], "status", "--porcelain") == ""
    assert "!! .qdocs/index/" in git(corpus["path"], "status", "--porcelain", "--ignored").splitlines()
    assert (Path(corpus["path"]) / ".qdocs" / "index" / "CURRENT").is_file()


def test_ranking_counts_how_often_and_how_rare(tmp_path: Path, catalog):
    """BM25: a word said more often ranks higher, a rarer word weighs more; ``ANDMAYBE``
    ranks without excluding, ``ANDNOT`` excludes, ``AND`` binds tighter than ``OR``."""
    path = tmp_path / "records"
    repository = new_repository(path, "S1", actor="tester")

    def inquiry(details: str) -> str:
        return create_record(repository, "customer-inquiry",
                             {**example_values(catalog, "customer-inquiry"), "details": details}, "tester").id

    often = inquiry("Leak at the gland. The leak grew; a second leak was found at the seal.")
    once = inquiry("Leak at the gland; the seal was replaced.")
    rare = inquiry("The seal was replaced; a grommet was added.")
    runner = CliRunner()

    def answer(text: str) -> list[str]:
        return found_ids(runner.invoke(cli.cli, ["--repo", str(path), "search", text, "--json"],
                                       catch_exceptions=False))

    assert answer("leak") == [often, once]
    assert answer("grommet OR leak")[0] == rare  # in one record of three: worth more than a word in two
    assert answer("seal ANDMAYBE grommet")[0] == rare and set(answer("seal ANDMAYBE grommet")) == {often, once, rare}
    assert answer("seal ANDNOT grommet") == answer("seal AND NOT grommet") and rare not in answer("seal ANDNOT grommet")
    assert set(answer("grommet OR leak gland")) == {often, once, rare}
    assert answer("grommet OR leak grew") in ([often, rare], [rare, often])


@pytest.mark.parametrize("text, message", [
    ("revision:[A TO C]", "a range needs a date field"),
    ("date:[2026-03-01 2026-03-31]", "a range is written [FROM TO UNTIL]"),
    ("signed:>=soon", "'soon' is not a date"),
])
def test_ranges_are_for_dates(search, text, message):
    result = search(text)
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_a_phrase_needs_its_words_together_not_only_pairwise(tmp_path: Path, catalog):
    """Phrases of words are found through groups of two and three words the index keeps:
    "seal ring seal" must not match a record that has "seal ring" and "ring seal" apart."""
    path = tmp_path / "records"
    repository = new_repository(path, "S1", actor="tester")
    worn = create_record(repository, "customer-inquiry", {**example_values(catalog, "customer-inquiry"),
                                                  "details": "Worn seal ring found; the ring seal was replaced."},
                             "tester").id
    runner = CliRunner()

    def ids(text: str) -> list[str]:
        return found_ids(runner.invoke(cli.cli, ["--repo", str(path), "search", text, "--json"],
                                       catch_exceptions=False))

    assert ids('"seal ring"') == [worn] and ids('"ring seal"') == [worn]
    assert ids('"worn seal ring"') == [worn]
    assert ids('"worn seal ring found"') == [worn]
    assert ids('"seal ring seal"') == []
    assert ids('"worn seal ring seal"') == []
    assert ids('"found the ring"') == [worn]  # a stop word between words does not part them
    assert ids("seal*") == [worn]
