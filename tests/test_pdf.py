"""PDF copies made by the real LibreOffice: every record type rendered and read back with
pypdf (Chinese included), the stamps, a signed copy validated by qdocs (pyHanko) and by
poppler's ``pdfsig`` as an independent client, and the audit pack.

LibreOffice runs are few and shared: one session-scoped repository with one record of
every type, exported in one call, one signed export, one pack, and one concurrency test.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import cli
from qdocs.founding import init_repository
from qdocs.queries import get_record, iter_records
from qdocs.repository import Repository
from tests.conftest import PROJECT, qdocs_process, repository_state
from tests.test_pdf_attachments import text_pdf

COMPANY_PASSPHRASE = "company secret 1"
IN_REVIEW, DRAFT, VOID = "nonconformance", "production-plan", "customer-inquiry"


def pages_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """The demo's records (one of every type, each approved) in a company in Shanghai, then
    one revised back to draft, one revised and signed once (in review) and one void; a
    company certificate; an attachment on the final inspection report; every record exported
    in one call, the final inspection report signed, and the lot's pack."""
    from qdocs.demo import DEMO_ADMIN, DEMO_PASSPHRASE, run_demo
    from qdocs.trust.genesis import Enrollment

    base = tmp_path_factory.mktemp("pdf")
    repo = base / "records"
    administrator = Enrollment(DEMO_ADMIN, "系统管理员（演示）", DEMO_PASSPHRASE, repo / ".git" / "qdocs" / "demo-keys")
    init_repository(repo, None, "tester", time_zone="Asia/Shanghai", administrator=administrator)
    run_demo(repo, "tester")
    runner = CliRunner()
    environment = {"QDOCS_HOME": str(repo / ".git" / "qdocs" / "demo-keys"), "QDOCS_PASSPHRASE": DEMO_PASSPHRASE,
                   "QDOCS_COMPANY_PASSPHRASE": COMPANY_PASSPHRASE}

    def run(*arguments: str):
        result = runner.invoke(cli.cli, ["--repo", str(repo), "--actor", "tester", *arguments], env=environment)
        assert result.exit_code == 0, result.output
        return result.output.strip()

    repository = Repository.open(repo)
    ids = {}
    for record in iter_records(repository):
        if record.subject.as_dict().get("lot") in (None, "L2026-031"):
            ids.setdefault(record.type, record.id)
    for type_id in (DRAFT, IN_REVIEW):
        run("revise", ids[type_id], "--set", f"{_text_field(repository, type_id)}=修订 revised", "--reason", "re-test")
    requirement = repository.catalog.get(IN_REVIEW).signatures[0]
    run("sign", ids[IN_REVIEW], "--as", f"demo.{requirement.roles[0]}", "--meaning", requirement.meaning)
    run("void", ids[VOID], "--reason", "entered twice")
    run("keys", "company-cert")
    (base / "lab.pdf").write_bytes(text_pdf("Hydrostatic test report HT-2026-031"))
    run("attach", ids["final-inspection"], str(base / "lab.pdf"), "--title", "第三方检测报告 Lab test report")
    out = base / "out"
    run("export", *ids.values(), "--pdf", "-o", str(out))
    run("export", ids["final-inspection"], "--sign", "-o", str(base / "signed.pdf"))
    run("pack", "PUMP-X200", "--lot", "L2026-031", "-o", str(base / "pack.pdf"), "--sign")
    return SimpleNamespace(repo=repo, ids=ids, out=out, signed=base / "signed.pdf", pack=base / "pack.pdf",
                           base=base, environment=environment, run=run)


def _text_field(repository: Repository, type_id: str) -> str:
    """A plain text field of the type (revised to make a new revision)."""
    return next(item.key for item in repository.catalog.get(type_id).fields if item.type in ("text", "long-text"))


def test_every_record_type_renders_with_chinese_text(world, catalog):
    assert set(world.ids) == set(catalog.types)
    for type_id, record_id in world.ids.items():
        record_type = catalog.get(type_id)
        text = "\n".join(pages_text(world.out / f"{record_id}.pdf"))
        assert record_id in text
        assert record_type.name.zh.split(" / ")[0] in text, type_id
        assert "示例制造有限公司" in text
        data = get_record(Repository.open(world.repo), record_id).data
        chinese = [value for value in data.values()
                   if isinstance(value, str) and re.search(r"[\u4e00-\u9fff]", value) and "\n" not in value]
        assert chinese, type_id
        assert any(value.split()[0] in text for value in chinese), type_id
    fonts = subprocess.run(["pdffonts", str(world.out / f"{world.ids['final-inspection']}.pdf")],
                           capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert any("CJK" in line for line in fonts)
    assert all(line.split()[-5] == "yes" for line in fonts), fonts  # every font embedded


def test_stamps_on_every_page(world):
    approved = world.ids["final-inspection"]
    expectations = {
        approved: ("受控副本 CONTROLLED COPY", f"{approved} · 版本 Rev. A · 状态 已批准 approved"),
        world.ids[IN_REVIEW]: ("草稿 DRAFT — NOT VALID", "版本 Rev. B · 状态 审批中 in review"),
        world.ids[DRAFT]: ("草稿 DRAFT — NOT VALID", "版本 Rev. B · 状态 草稿 draft"),
        world.ids[VOID]: ("作废 VOID", "状态 作废 VOID"),
    }
    several = [record_id for record_id in world.ids.values() if len(pages_text(world.out / f"{record_id}.pdf")) > 1]
    assert several, "some record type takes more than one page"
    for record_id, (state, where) in {**expectations, several[0]: ("printed", "版本 Rev. ")}.items():
        for number, text in enumerate(pages_text(world.out / f"{record_id}.pdf"), start=1):
            assert text.count(state) >= 2, (record_id, number)  # top and bottom strips
            assert where in text and "by tester" in text, (record_id, number)
    assert all(re.search(r"受控副本 CONTROLLED COPY — printed 20\d\d-\d\d-\d\d \d\d:\d\d \+08:00", text)
               for text in pages_text(world.out / f"{approved}.pdf"))  # in the company's time zone
    for record_id in (world.ids[DRAFT], world.ids[VOID]):
        assert "CONTROLLED COPY" not in "".join(pages_text(world.out / f"{record_id}.pdf"))


def test_chinese_text_is_drawn_with_the_simplified_chinese_faces(world):
    """Chinese forms need the simplified-Chinese glyphs (门, 骨, 直 differ from the Japanese,
    Korean and traditional ones).  A font's name could say SC and its glyphs be another
    region's (see :mod:`tests.fontfaces`), so the glyphs themselves are compared with each
    regional face."""
    from tests.fontfaces import REGIONS, faces_per_font

    files = [world.out / f"{record_id}.pdf" for record_id in world.ids.values()] + [world.pack]
    ruled_out: set[str] = set()
    for path in files:
        listed = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        names = [line.split()[0].split("+")[-1] for line in listed.splitlines()[2:]]
        other_faces = [name for name in names if ("CJK" in name and not name.startswith(("NotoSansCJK", "NotoSerifCJK")))
                       or any(part in name for part in ("Fallback", "Mincho", "Gothic", "Batang", "Ming", "WenQuanYi"))]
        assert not other_faces, (path.name, other_faces)
        faces = faces_per_font(path)
        assert faces, path
        for font, regions in faces.items():
            assert "SC" in regions, (path.name, font, regions)
            ruled_out |= set(REGIONS) - regions
    assert ruled_out == {"TC", "HK", "JP", "KR"}


def test_pdfs_name_only_the_simplified_chinese_faces(world):
    """The faces of a Noto CJK collection share one font program named after the Japanese face;
    qdocs gives LibreOffice SC fonts of their own, so ``pdffonts`` (what an auditor sees) lists
    SC faces only: the records', with bold headings, and qdocs' own pages in the pack."""
    files = [world.out / f"{record_id}.pdf" for record_id in world.ids.values()] + [world.signed, world.pack]
    seen: set[str] = set()
    for path in files:
        listed = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        names = [line.split()[0].split("+")[-1] for line in listed.splitlines()[2:]]
        chinese = [name for name in names if "cjk" in name.lower()]
        assert chinese, path.name
        assert not [name for name in chinese if re.search(r"cjk(jp|kr|tc|hk)", name, re.IGNORECASE)], (path.name, names)
        assert all("CJKsc" in name for name in chinese), (path.name, chinese)
        seen.update("-".join(name.split("-")[:2]) for name in chinese)  # NotoSerifCJKsc-Bold-VKana: a sub-font
    assert seen == {"NotoSerifCJKsc-Regular", "NotoSerifCJKsc-Bold", "NotoSansCJKsc-Regular", "NotoSansCJKsc-Bold"}, seen


def test_signature_block_stays_with_the_table_before_it(world, catalog):
    """Every type: the page with the signature block also holds the last field of the form
    (a block alone on a page of its own is not evidence of what was signed), and the block
    is not split: each signature's manifestation is on that page, in the company's zone."""
    repository = Repository.open(world.repo)
    alone, unsigned = [], []
    for type_id, record_id in world.ids.items():
        record = get_record(repository, record_id)
        last = catalog.get(type_id).fields[-1]
        pages = subprocess.run(["pdftotext", "-layout", str(world.out / f"{record_id}.pdf"), "-"],
                               capture_output=True, text=True, check=True).stdout.split("\f")
        (page,) = [page for page in pages if "签字 Signatures" in page]
        before, block = page.split("签字 Signatures")
        if last.label.zh not in before:
            alone.append(f"{type_id}: page {pages.index(page) + 1} of {len(pages) - 1}")
        if not (block.count("电子签名 Signed electronically") == len(record.signatures)
                and block.count("+08:00") >= 2 * len(record.signatures)):
            unsigned.append(type_id)
    assert alone == [] and unsigned == []


def test_superseded_revision_is_stamped_not_valid(world):
    from qdocs.pdf.stamps import stamp_for

    record = get_record(Repository.open(world.repo), world.ids["final-inspection"])
    stamp = stamp_for(record, "B", "2026-03-25 10:00 +08:00", "tester")
    assert not stamp.valid and stamp.watermark == "旧版本 SUPERSEDED"
    assert stamp.top.startswith("旧版本 SUPERSEDED — NOT VALID (current: Rev. B)")


def test_rendered_pages_are_readable_images(world, tmp_path):
    target = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1",
                    str(world.out / f"{world.ids['final-inspection']}.pdf"), str(target)], check=True)
    (image,) = tmp_path.glob("page*.png")
    assert image.read_bytes().startswith(b"\x89PNG") and image.stat().st_size > 5000


def test_signed_copy_validates_with_qdocs_and_pdfsig(world, tmp_path):
    result = world.run("verify-pdf", str(world.signed))
    assert f"{world.ids['final-inspection']} rev A approved" in result
    assert "(demo.qc-manager)" in result and "(demo.inspector)" in result
    independent = subprocess.run(["pdfsig", str(world.signed)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in independent and "Total document signed" in independent
    assert "Signer Certificate Common Name: 示例制造有限公司" in independent
    assert "受控副本 CONTROLLED COPY" in "".join(pages_text(world.signed))


def test_signed_copy_changed_after_signing_is_rejected(world, tmp_path):
    from pyhanko.pdf_utils.generic import NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    content = world.signed.read_bytes()
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(content.replace(b"/Creator", b"/Creatos", 1))
    appended = tmp_path / "appended.pdf"
    writer = IncrementalPdfFileWriter(io.BytesIO(content))
    writer.root[NameObject("/Lang")] = TextStringObject("en")
    writer.update_root()
    with open(appended, "wb") as handle:
        writer.write(handle)
    for path, independent in ((changed, "Digest Mismatch"), (appended, "Not total document signed")):
        process = qdocs_process("--repo", str(world.repo), "verify-pdf", str(path), env=world.environment)
        assert process.returncode == 1, process.stdout + process.stderr
        assert "NOT valid" in process.stderr
        assert independent in subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


def test_only_approved_current_records_are_signed(world, tmp_path):
    runner = CliRunner()
    before = repository_state(world.repo)
    result = runner.invoke(cli.cli, ["--repo", str(world.repo), "export", world.ids[DRAFT], "--sign", "-o",
                                     str(tmp_path / "x.pdf")], env=world.environment)
    assert result.exit_code == 2 and "only an approved, current record gets a signed PDF" in result.output
    several = runner.invoke(cli.cli, ["--repo", str(world.repo), "export", *list(world.ids.values())[:2], "-o",
                                      str(tmp_path / "x.pdf")], env=world.environment)
    assert several.exit_code == 2 and "give a folder" in several.output
    unknown = runner.invoke(cli.cli, ["--repo", str(world.repo), "export", "FIR-S1-2026-0999"], env=world.environment)
    assert unknown.exit_code == 2 and unknown.output.startswith("qdocs: error: no record FIR-S1-2026-0999")
    assert not list(tmp_path.iterdir())
    assert repository_state(world.repo) == before


def test_pack_has_bookmarks_contents_manifest_and_embedded_documents(world, catalog):
    from pypdf import PdfReader

    reader = PdfReader(world.pack)
    repository = Repository.open(world.repo)
    records = [record for record in iter_records(repository, product="PUMP-X200")
               if record.subject.scope == "product" or record.subject.as_dict().get("lot") == "L2026-031"]
    outline = reader.outline
    titles = [item.title for item in outline if not isinstance(item, list)]
    assert titles[:3] == ["封面 Cover", "审核结果 Audit result", "目录 Contents"] and titles[-1] == "清单 Manifest"
    bookmarked = {title.split()[0]: item for title, item in zip(titles, [i for i in outline if not isinstance(i, list)])}
    assert set(bookmarked) - {"封面", "审核结果", "目录", "清单"} == {record.id for record in records}
    final = world.ids["final-inspection"]
    children = outline[outline.index(bookmarked[final]) + 1]
    assert [child.title for child in children] == ["附件 Attachment 1: 第三方检测报告 Lab test report"]
    texts = pages_text(world.pack)
    contents_page = reader.get_destination_page_number(bookmarked["目录"])
    contents = "".join(texts[contents_page:reader.get_destination_page_number(bookmarked[records[0].id])])
    for record in records:
        page = reader.get_destination_page_number(bookmarked[record.id]) + 1
        assert re.search(rf"{record.id} .*? {page}\b", contents, re.S), record.id
        first_page = texts[page - 1]
        assert record.id in first_page and "CONTROLLED COPY" in first_page or "NOT VALID" in first_page
    attachment_page = reader.get_destination_page_number(children[0])
    assert "Hydrostatic test report HT-2026-031" in texts[attachment_page]
    manifest = "".join(texts[reader.get_destination_page_number(bookmarked["清单"]):])
    compact = re.sub(r"\s+", "", manifest)
    for record in records:
        assert record.id in manifest and record.docx_sha256 in compact
    assert "(demo.qc-manager)" in compact
    embedded = reader.attachments
    for record in records:
        document = (world.repo / record.path / "record.docx").read_bytes()
        assert embedded[f"{record.id}-rev{record.revision}.docx"] == [document]
    assert "manifest.json" in embedded
    cover = "".join(texts[:contents_page])
    assert "审核资料包" in cover and "Audit pack" in cover and "PUMP-X200 / L2026-031" in cover
    assert world.ids[DRAFT] in cover and world.ids[IN_REVIEW] in cover  # not approved: audit findings
    assert "PUMP-X200 / L2026-031 blocked by R5," in cover  # the draft plan blocks the lot
    for number, text in enumerate(texts, start=1):  # the attachment (US letter, from outside) included
        assert f"第 {number} 页 共 {len(texts)} 页 page {number} of {len(texts)}" in text, number
    assert "Signature is Valid." in subprocess.run(["pdfsig", str(world.pack)], capture_output=True, text=True).stdout
    assert "Audit pack PUMP-X200 / L2026-031" in world.run("verify-pdf", str(world.pack))


def test_concurrent_exports_do_not_collide(world, tmp_path):
    """Two processes, each its own LibreOffice profile, at the same time."""
    ids = [world.ids["final-inspection"], world.ids["sample-test"]]
    processes = [subprocess.Popen([sys.executable, str(PROJECT / "cli.py"), "--repo", str(world.repo), "export", record_id,
                                   "-o", str(tmp_path / f"{record_id}.pdf")], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for record_id in ids]
    for process in processes:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors
        assert errors == ""  # no progress where stderr is not a terminal
    for record_id in ids:
        assert record_id in "".join(pages_text(tmp_path / f"{record_id}.pdf"))


def _with_terminal_stderr(arguments: list[str], environment: dict[str, str]) -> tuple[int, str, str]:
    """Run qdocs with stderr on a pseudo-terminal (as a person at a terminal sees it) and stdout
    on a pipe (as a script reads it); returns the exit status, stdout and what the terminal got."""
    import os
    import pty
    import threading

    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, str(PROJECT / "cli.py"), *arguments], stdout=subprocess.PIPE,
                               stderr=follower, stdin=subprocess.DEVNULL, env={**os.environ, **environment})
    os.close(follower)
    received = bytearray()

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                return
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    output, _ = process.communicate(timeout=600)
    reader.join(timeout=10)
    os.close(leader)
    return process.returncode, output.decode("utf-8"), received.decode("utf-8", "replace")


def test_pack_tells_its_steps_on_a_terminal_even_when_libreoffice_reports_nothing(world, tmp_path):
    """The pack took 12 s for the demo lot behind a bar that moved only when LibreOffice reported a
    converted document. Here the real LibreOffice runs behind a wrapper that passes on its output only
    when it exits (as a build that does not flush per document would): every step is still told on
    the terminal, stderr, while stdout carries the JSON alone."""
    wrapper = tmp_path / "soffice-quiet"
    wrapper.write_text('#!/bin/sh\noutput=$(soffice "$@" 2>&1)\nstatus=$?\nprintf "%s\\n" "$output"\nexit $status\n',
                       encoding="utf-8")
    wrapper.chmod(0o755)
    target = tmp_path / "pack.pdf"
    status, output, terminal = _with_terminal_stderr(
        ["--repo", str(world.repo), "pack", "PUMP-X200", "--lot", "L2026-031", "-o", str(target), "--sign", "--json"],
        {**world.environment, "QDOCS_SOFFICE": str(wrapper)})
    assert status == 0, terminal
    summary = json.loads(output)
    count = summary["records"] + summary["evidence_outside_lot"]
    assert summary["records"] == 11 and target.is_file()
    steps = ["auditing PUMP-X200 / L2026-031…", f"preparing {count} record(s)",
             f"converting {count} record(s) with LibreOffice…", f"stamping {count} record(s)",
             "numbering the contents and pages with LibreOffice…", f"assembling {count} record(s)",
             f"writing the pack ({summary['pages']} pages)…", "signing the pack…"]
    positions = [terminal.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), terminal
    assert f"\rconverting {count} record(s) with LibreOffice… 1 done" not in terminal  # it reported nothing
    assert "100%" in terminal


def test_export_reports_its_steps_to_the_progress_hook(world):
    from qdocs.pdf.export import export_records

    repository = Repository.open(world.repo)
    ids = [world.ids["final-inspection"], world.ids["sample-test"]]
    seen = []
    files = export_records(repository, ids, "tester", sign=True, passphrase=COMPANY_PASSPHRASE, progress=seen.append,
                           home=Path(world.environment["QDOCS_HOME"]))
    assert [name for name, _ in files] == [f"{record_id}.pdf" for record_id in ids]
    labels = list(dict.fromkeys(step.label for step in seen))
    assert labels == ["preparing 2 record(s)", "converting 2 record(s) with LibreOffice…", "stamping 2 record(s)",
                      "signing 2 record(s)"]
    for label in labels:
        reported = [step for step in seen if step.label == label]
        assert reported[0].done == 0
        if label.startswith("converting"):
            assert reported[0].total is None  # one LibreOffice run of unknown length
            done = [step.done for step in reported]  # the records it reported converted, if it did
            assert done == sorted(done) and done[-1] <= 2
        else:
            assert [step.done for step in reported] == [0, 1, 2] and {step.total for step in reported} == {2}
