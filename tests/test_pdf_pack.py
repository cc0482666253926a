"""The audit pack states the audit's verdict and carries the evidence behind it.

One complete lot (the demo's records, every one signed), built through the command line,
packed three times by the real LibreOffice: as it is (it may ship); after its final
inspection is revised to ``fail`` and signed again (blocked by R11, what ``release-check``
says); and the whole product once a second lot has only its plan (each lot's verdict).
Each pack is read back with pypdf and compared with the JSON of the real ``release-check``
and ``audit`` commands, rule by rule.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from qdocs.pdf.auditsection import STATUS_WORDS
from tests.test_audit_helpers import LOT, PRODUCT, complete, complete_copy, example, ids_of  # noqa: F401
from tests.test_pdf_attachments import text_pdf

SECOND_LOT = "L2026-032"
OUTSIDE = "本批之外的证据 Evidence outside the lot"
OUTSIDE_TYPES = ("supplier-evaluation", "purchase-contract-review", "incoming-inspection", "equipment-maintenance")
MILLIMETRE = 72 / 25.4


@pytest.fixture(scope="module")
def packs(tmp_path_factory, signing_template):
    work = tmp_path_factory.mktemp("pack")
    qdocs = complete_copy(tmp_path_factory, signing_template, work)

    def ok(*arguments: str, codes: tuple[int, ...] = (0,)):
        result = qdocs(*arguments)
        assert result.exit_code in codes, result.output
        return result

    incoming = ids_of(qdocs, "incoming-inspection")[0]
    (work / "mill.pdf").write_bytes(_two_page_pdf("Mill certificate MC-2026-77"))
    ok("attach", incoming, str(work / "mill.pdf"), "--title", "材质证明 Mill certificate")
    may_ship = json.loads(ok("release-check", PRODUCT, "--lot", LOT, "--json").stdout)
    complete = json.loads(ok("pack", PRODUCT, "--lot", LOT, "-o", str(work / "complete.pdf"), "--json").stdout)
    audit = json.loads(ok("audit", "--product", PRODUCT, "--lot", LOT, "--json", codes=(0, 1)).stdout)

    (final,) = ids_of(qdocs, "final-inspection")
    ok("revise", final, "--set", "conclusion=fail", "--reason", "复检渗漏 leak found on re-test")
    qdocs.sign([final])
    blocked = json.loads(ok("release-check", PRODUCT, "--lot", LOT, "--json", codes=(1,)).stdout)
    stderr = ok("pack", PRODUCT, "--lot", LOT, "-o", str(work / "blocked.pdf")).stderr

    plan = qdocs.new("production-plan", example(qdocs.catalog, "production-plan", lot=SECOND_LOT))
    qdocs.sign([plan])
    product_audit = json.loads(ok("audit", "--product", PRODUCT, "--json", codes=(1,)).stdout)
    ok("pack", PRODUCT, "-o", str(work / "product.pdf"))
    return SimpleNamespace(qdocs=qdocs, work=work, incoming=incoming, final=final, may_ship=may_ship,
                           complete_summary=complete, audit=audit, blocked=blocked, blocked_stderr=stderr,
                           product_audit=product_audit, complete=work / "complete.pdf", blocked_pack=work / "blocked.pdf",
                           product=work / "product.pdf")


def test_pack_of_the_complete_lot_says_it_may_ship(packs):
    assert packs.may_ship["may_ship"] is True
    summary = packs.complete_summary
    assert summary["audit"]["verdict"] == "may ship" and summary["audit"]["may_ship"] is True
    assert summary["audit"]["blocked"] == [] and summary["audit"]["line"] == f"{PRODUCT} / {LOT} may ship"
    assert summary["audit"]["lots"][0]["results"] == packs.may_ship["results"]
    assert summary["audit"]["commit"] == summary["commit"] == packs.may_ship["commit"]
    pack = Pack(packs.complete)
    assert f"可以放行 {PRODUCT} / {LOT} may ship" in pack.cover
    assert "no findings" not in pack.cover
    assert f"{PRODUCT} / {LOT}: may ship: every blocking release rule holds" in pack.audit
    assert_rules_stated(pack.lot_section(f"{PRODUCT} / {LOT}"), packs.may_ship["results"])
    assert_after_sales_stated(pack.audit, packs.audit["after_sales"])


def test_pack_after_the_final_inspection_failed_says_blocked_like_release_check(packs):
    """What was seen: the final inspection revised to fail and signed again; release-check blocks
    the lot (R11 failed); the pack must say so too, rule by rule, in the same words."""
    assert packs.blocked["may_ship"] is False
    failing = [result["rule"] for result in packs.blocked["results"] if result["status"] != "ok"]
    assert failing == ["R11"]
    pack = Pack(packs.blocked_pack)
    assert f"不得放行 {PRODUCT} / {LOT} blocked by R11" in pack.cover
    assert "no findings" not in pack.cover and "may ship" not in pack.cover
    assert f"{PRODUCT} / {LOT}: BLOCKED by 1 release rule(s)" in pack.audit
    rows = assert_rules_stated(pack.lot_section(f"{PRODUCT} / {LOT}"), packs.blocked["results"])
    assert compact(f"failed: {packs.final}: conclusion is fail (needs pass)") in rows["R11"]
    summary = pack.manifest_json()
    assert summary["audit"]["verdict"] == "blocked" and summary["audit"]["may_ship"] is False
    assert summary["audit"]["blocked"] == [{"product": PRODUCT, "lot": LOT, "failing": ["R11"]}]
    assert summary["audit"]["lots"][0]["results"] == packs.blocked["results"]
    assert packs.blocked_stderr.strip().endswith(f"audit: {PRODUCT} / {LOT} blocked by R11")


def test_pack_of_a_product_states_the_verdict_of_each_lot(packs):
    lots = {entry["lot"]: entry for entry in packs.product_audit["lots"]}
    assert set(lots) == {LOT, SECOND_LOT}
    pack = Pack(packs.product)
    summary = pack.manifest_json()
    assert [entry["lot"] for entry in summary["audit"]["lots"]] == [LOT, SECOND_LOT]
    for lot, entry in lots.items():
        failing = [result["rule"] for result in entry["results"] if result["status"] != "ok"]
        assert failing and not entry["may_ship"]
        assert f"不得放行 {PRODUCT} / {lot} blocked by {', '.join(failing)}" in pack.cover
        assert f"{PRODUCT} / {lot}: BLOCKED by {len(failing)} release rule(s)" in pack.audit
        assert_rules_stated(pack.lot_section(f"{PRODUCT} / {lot}"), entry["results"])
        assert {"product": PRODUCT, "lot": lot, "failing": failing} in summary["audit"]["blocked"]
        assert next(item for item in summary["audit"]["lots"] if item["lot"] == lot)["results"] == entry["results"]
    assert "2 lot(s): 0 may ship, 2 blocked" in pack.cover
    assert summary["audit"]["line"].startswith("2 lot(s): 0 may ship, 2 blocked")


def test_pack_holds_the_evidence_outside_the_lot(packs):
    """The records R6 and R9 used, kept under material lots, suppliers, contracts and machines:
    stamped pages, their attachments, listed in the contents and the manifest."""
    expected = {record_id for type_id in OUTSIDE_TYPES for record_id in ids_of(packs.qdocs, type_id)}
    used = {record_id for result in packs.may_ship["results"] if result["rule"] in ("R6", "R9")
            for record_id in result["evidence"]}
    assert used == expected and len(expected) == 6
    pack = Pack(packs.complete)
    summary = packs.complete_summary
    outside = {entry["id"]: entry for entry in summary["manifest"] if entry["evidence_outside_lot"]}
    assert set(outside) == expected and summary["evidence_outside_lot"] == len(expected)
    for record_id, entry in outside.items():
        rule = "R9" if record_id.startswith("EMR-") else "R6"
        assert entry["used_by"] == [rule]
    unrelated = ids_of(packs.qdocs, "customer-inquiry") + ids_of(packs.qdocs, "staff-training")
    assert unrelated and not set(unrelated) & {entry["id"] for entry in summary["manifest"]}

    contents = "".join(pack.texts[pack.page_of("目录"):pack.first_record_page])
    outside_contents = contents[contents.index(OUTSIDE):]
    manifest = pack.compact_text(pack.page_of("清单"), len(pack.texts))
    outside_manifest = manifest[manifest.index(compact(OUTSIDE)):]
    bookmarks = pack.children_of(OUTSIDE)
    for record_id, entry in outside.items():
        assert re.search(rf"{record_id}\s.*?approved\s+{entry['page']}\s", outside_contents, re.S), record_id
        assert record_id in outside_manifest and entry["docx_sha256"] in outside_manifest
        page = pack.texts[entry["page"] - 1]
        assert record_id in page and "CONTROLLED COPY" in page
        assert any(title.startswith(record_id) for title in bookmarks)
        assert f"{record_id}-rev{entry['revision']}.docx" in pack.reader.attachments
    (attachment,) = outside[packs.incoming]["attachments"]
    assert attachment["title"] == "材质证明 Mill certificate" and attachment["sha256"] in outside_manifest
    shown = [number for number, text in enumerate(pack.texts, start=1) if "Mill certificate MC-2026-77" in text]
    assert len(shown) == 2 and shown[0] > outside[packs.incoming]["page"]  # both pages, after the inspection
    assert re.search(rf"{packs.incoming}\s.*?approved\s+\d+\s+附件 1\s+附件 Attachment: 材质证明 Mill certificate\s+"
                     rf"{shown[0]}\s", outside_contents, re.S)


@pytest.mark.parametrize("name", ["complete", "blocked_pack", "product"])
def test_every_page_shows_the_page_number_of_the_pack(packs, name):
    pack = Pack(getattr(packs, name))
    total = len(pack.texts)
    for number, text in enumerate(pack.texts, start=1):
        assert f"第 {number} 页 共 {total} 页 page {number} of {total}" in text, number
        assert len(re.findall(r"page \d+ of \d+", text)) == 1, number


def test_page_numbers_sit_in_the_right_margin_covering_nothing(packs):
    """Read by poppler (an independent reader) as a reader sees the page, turned pages included:
    the number stands in the right margin (within 12 mm of the right edge, in the lower part
    of the page) and overlaps no other word: not the record's header, footer or stamps."""
    pack = Pack(packs.complete)
    pages = _words(packs.complete)
    assert len(pages) == len(pack.texts)
    turned = [index for index, page in enumerate(pack.reader.pages) if page.rotation % 360]
    assert len(turned) == 1  # the attachment's second page
    for number, (width, height, words) in enumerate(pages, start=1):
        if number - 1 in turned:  # poppler gives the page's own size, the words as shown
            width, height = height, width
        label = ["第", str(number), "页", "共", str(len(pages)), "页", "page", str(number), "of", str(len(pages))]
        texts = [word[4] for word in words]
        start = next(index for index in range(len(texts)) if texts[index:index + len(label)] == label)
        mine, others = words[start:start + len(label)], words[:start] + words[start + len(label):]
        box = (min(w[0] for w in mine), min(w[1] for w in mine), max(w[2] for w in mine), max(w[3] for w in mine))
        assert box[0] > width - 12 * MILLIMETRE and box[2] < width - 3 * MILLIMETRE, (number, box, width)
        assert box[1] > height / 2 and box[3] < height - 10 * MILLIMETRE, (number, box, height)
        assert box[3] - box[1] > box[2] - box[0]  # reads upwards
        for other in others:
            apart = other[2] <= box[0] or other[0] >= box[2] or other[3] <= box[1] or other[1] >= box[3]
            assert apart, (number, other)


class Pack:
    """A pack read back with pypdf: page texts, bookmarks, the embedded manifest.json."""

    def __init__(self, path: Path) -> None:
        from pypdf import PdfReader

        self.reader = PdfReader(path)
        self.texts = [page.extract_text() or "" for page in self.reader.pages]
        self.outline = self.reader.outline
        self.top = {item.title: item for item in self.outline if not isinstance(item, list)}
        self.first_record_page = min(self.reader.get_destination_page_number(item) for title, item in self.top.items()
                                     if re.match(r"[A-Z]+-S1-", title))
        self.cover = "".join(self.texts[:self.page_of("审核结果")])
        self.audit = "".join(self.texts[self.page_of("审核结果"):self.page_of("目录")])

    def page_of(self, word: str) -> int:
        return next(self.reader.get_destination_page_number(item) for title, item in self.top.items()
                    if title.startswith(word))

    def compact_text(self, start: int, end: int) -> str:
        return compact("".join(self.texts[start:end]))

    def children_of(self, title: str) -> list[str]:
        index = self.outline.index(self.top[title])
        return [item.title for item in self.outline[index + 1] if not isinstance(item, list)]

    def lot_section(self, label: str) -> str:
        """The audit section of one lot: from its verdict to the next lot's or the after-sales rules."""
        audit = self.audit
        start = audit.index(f"{label}: ")
        ends = [audit.find(marker, start + 1) for marker in (f"放行 {PRODUCT}", "售后规则")]
        return audit[start:min([end for end in ends if end > 0] or [len(audit)])]

    def manifest_json(self) -> dict:
        return json.loads(self.reader.attachments["manifest.json"][0])


def compact(text: str) -> str:
    """Text without white space, the pack's page numbers or repeated table heads: words as read."""
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"第\d+页共\d+页page\d+of\d+", "", text)
    return text.replace("规则Rule条款Clause要求Requirement状态Status证据Evidence/问题Findings", "")


def assert_rules_stated(section: str, results: list[dict]) -> dict[str, str]:
    """Every rule of ``release-check --json`` has its row in ``section`` in its order, with its
    status and every finding and evidence id in the words of the JSON; returns the rows."""
    text = compact(section)
    starts, position = [], 0
    for result in results:
        position = text.index(compact(result["rule"] + result["clause"]), position)
        starts.append(position)
    rows = {result["rule"]: text[start:end] for result, start, end in zip(results, starts, starts[1:] + [len(text)])}
    for result in results:
        row = rows[result["rule"]]
        assert compact(f"{result['status']}\n{STATUS_WORDS[result['status']]}") in row, result
        for finding in result["findings"]:
            assert compact(f"{finding['status']}: {finding['text']}") in row, (result["rule"], finding)
        evidence = ", ".join(result["evidence"])
        if result["findings"] and evidence:
            assert compact(f"on file: {evidence}") in row, result
        elif evidence:
            assert compact(evidence) in row, result
    return rows


def assert_after_sales_stated(audit_text: str, results: list[dict]) -> None:
    text = compact(audit_text[audit_text.index("售后规则"):])
    for result, following in zip(results, [*results[1:], None]):
        start = text.index(compact(result["rule"] + result["clause"]))
        row = text[start:text.index(compact(following["rule"] + following["clause"])) if following else None]
        assert compact(f"{result['status']}\n{STATUS_WORDS[result['status']]}") in row, result
        assert compact(f"{len(result['evidence'])} record(s) in order") in row, result
        for finding in result["findings"][:20]:
            assert compact(f"{finding['status']}: {finding['text']}") in row, (result["rule"], finding)


def _two_page_pdf(text: str) -> bytes:
    """A page as written, and the same page turned a quarter (``/Rotate 90``), as scans often are."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for turn in (0, 90):
        writer.add_page(PdfReader(io.BytesIO(text_pdf(text))).pages[0])
        if turn:
            writer.pages[-1].rotate(turn)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _words(path: Path) -> list[tuple[float, float, list[tuple[float, float, float, float, str]]]]:
    """(width, height, words with their boxes) of every page, as poppler's pdftotext lays them out."""
    import html

    output = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', output, re.S):
        words = [(float(x0), float(y0), float(x1), float(y1), html.unescape(word)) for x0, y0, x1, y1, word in
                 re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                            page.group(3))]
        pages.append((float(page.group(1)), float(page.group(2)), words))
    return pages


def test_pack_of_an_unknown_lot_is_refused_with_one_line_and_nothing_written(complete, tmp_path):
    """Before, a lot with no records packed the product's records alone; now the audit refuses it."""
    target = tmp_path / "pack.pdf"
    result = complete("pack", PRODUCT, "--lot", "L2099-001", "-o", str(target))
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"qdocs: error: unknown lot L2099-001 of {PRODUCT}: no record of it "
                                     f"(lots: {LOT})")
    assert not target.exists() and not list(tmp_path.glob(".pack.pdf*"))
