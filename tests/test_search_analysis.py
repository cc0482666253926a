"""The mixed Chinese/English analysis behind the search index, term by term."""

from __future__ import annotations

import collections
import subprocess
import sys

from qdocs.search.analysis import index_terms, single_cjk_character, terms
from qdocs.search.engine import stem as _stem


def texts(text: str, query: bool = False) -> list[str]:
    return [term.text for term in terms(text, _stem, query=query)]


def test_chinese_runs_become_bigrams_trigrams_and_a_last_unigram():
    assert texts("出厂检验报告") == ["出厂", "出厂检", "厂检", "厂检验", "检验", "检验报",
                                "验报", "验报告", "报告", "告"]
    positions = [term.position for term in terms("出厂检验报告", _stem)]
    assert positions == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_query_side_gives_one_term_for_up_to_three_characters_and_trigrams_beyond():
    assert texts("检验", query=True) == ["检验"]
    assert texts("出厂检", query=True) == ["出厂检"]
    assert texts("出厂检验", query=True) == ["出厂检", "厂检验"]
    # positions line up with the index side, so a quoted phrase across words matches
    index_side = {(term.text, term.position) for term in terms("出厂检验 report", _stem)}
    assert {(term.text, term.position) for term in terms("出厂检验 report", _stem, query=True)} <= index_side


def test_index_terms_counted_in_one_pass_equal_the_terms():
    text = "出厂检验报告 The Inspections of PUMP-X200 泵 a 阀门 ＰＵＭＰ１２０ テスト 검사 检验检验"
    counted, groups = index_terms(text, _stem)
    assert counted == collections.Counter(term.text for term in terms(text, _stem))
    assert groups == {"inspect pump": 1, "pump x200": 1, "inspect pump x200": 1}


def test_a_lone_character_is_one_term_and_flagged_for_prefix_search():
    assert texts("泵 pump") == ["泵", "pump"]
    assert single_cjk_character("泵") and not single_cjk_character("泵站") and not single_cjk_character("a")


def test_english_is_case_folded_stemmed_and_stop_words_dropped():
    assert texts("The Inspections of LEAKING seals") == ["inspect", "leak", "seal"]


def test_identifiers_and_numbers_keep_their_parts_unstemmed():
    assert texts("PUMP-X200 lot L2026-031 32.5 mm") == ["pump", "x200", "lot", "l2026", "031", "32.5", "mm"]


def test_full_width_letters_and_digits_are_ordinary_ones():
    assert texts("ＰＵＭＰ１２０") == ["pump120"]


def test_mixed_text_keeps_character_offsets_for_highlighting():
    text = "泵体泄漏 leakage at 2# 泵"
    for term in terms(text, _stem):
        original = text[term.start:term.end]
        assert term.text == original or term.text == _stem(original.lower()), (term, original)


def test_kana_and_hangul_are_bigrammed_too():
    assert texts("テスト") == ["テス", "テスト", "スト", "ト"]
    assert texts("검사") == ["검사", "사"]


def test_analysis_starts_fast_without_a_dictionary():
    """Cold start of the analyzer in a fresh process (jieba needs about 1.6 s)."""
    code = ("import time; t = time.perf_counter(); from qdocs.search.analysis import terms; "
            "list(terms('出厂检验报告 inspections', str.lower)); print(time.perf_counter() - t)")
    seconds = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert seconds < 0.2


def test_words_next_to_each_other_are_grouped_in_twos_and_threes():
    from qdocs.search.analysis import phrase_groups, word_groups

    groups = word_groups("The gland of the pump leaks; 检验 seal ring. Seal ring!", _stem)
    assert groups == {"gland pump": 1, "pump leak": 1, "gland pump leak": 1, "seal ring": 2, "ring seal": 1,
                      "seal ring seal": 1, "ring seal ring": 1}
    assert phrase_groups(["gland", "pump"]) == ["gland pump"]
    assert phrase_groups(["gland", "pump", "leak"]) == ["gland pump leak"]
    assert phrase_groups(["worn", "seal", "ring", "found"]) == ["worn seal ring", "seal ring found"]
    assert phrase_groups(["检验", "seal"]) is None and phrase_groups(["seal"]) is None
    # numbers are not grouped and part groups; a phrase with one is checked against the text
    assert word_groups("H 32.1 m at 2900 rpm, pump X200", _stem) == {"rpm pump": 1, "pump x200": 1, "rpm pump x200": 1}
    assert phrase_groups(["32.1", "m"]) is None and phrase_groups(["pump", "x200"]) == ["pump x200"]


def test_cjk_check_without_a_pattern_agrees_with_the_cjk_class():
    import re

    from qdocs.search.analysis import CJK_CLASS, cjk_text

    pattern = re.compile(rf"[{CJK_CLASS}]+")
    for point in range(0x2F00, 0xFFFF):
        character = chr(point)
        assert cjk_text(character) == bool(pattern.fullmatch(character)), hex(point)
    assert cjk_text("出厂检验") and not cjk_text("检验a") and not cjk_text("")
