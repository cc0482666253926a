"""Benchmark: PDF export of many records in one call, and the audit pack of a full lot.

0. baseline: ``soffice --convert-to pdf`` of the same ``.docx`` files in one run, nothing
   else (the least any export must do; the machine is shared, so compare against it);
1. ``export``: 100 approved records of four lot record types (final inspection,
   finished-product inspection, in-process inspection, nonconformance; one to two
   pages each) rendered by one LibreOffice run, stamped, seconds per record
   (target: at most 0.3 s), then the same records signed with the company
   certificate (PAdES, pyHanko) for the extra cost of signing.
2. ``pack``: the demo lot (PUMP-X200 / L2026-031: 9 records, one attachment) packed
   and signed: cover, audit result, contents, records, manifest, embedded .docx.

    python bench/bench_pdf.py                  # 100 records
    python bench/bench_pdf.py --records 20     # quick
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qdocs.actions import create_records  # noqa: E402
from qdocs.demo import run_demo  # noqa: E402
from qdocs.examples import example_values  # noqa: E402
from qdocs.founding import init_repository  # noqa: E402
from qdocs.pdf.company import install_certificate  # noqa: E402
from qdocs.pdf.export import export_records  # noqa: E402
from qdocs.pdf.pack import build_pack  # noqa: E402
from qdocs.queries import iter_records, record_at_revision  # noqa: E402
from qdocs.repository import Repository  # noqa: E402
from qdocs.signing import sign_records  # noqa: E402
from qdocs.trust.administration import Credentials, add_user, register_key  # noqa: E402
from qdocs.trust.genesis import Enrollment  # noqa: E402
from qdocs.trust.state import ADMIN_ROLE  # noqa: E402

PASSPHRASE = "benchmark passphrase"
TYPES = ("final-inspection", "finished-product-inspection", "in-process-inspection", "nonconformance")


def build(root: Path, count: int, home: Path) -> tuple[Repository, list[str]]:
    """``count`` approved records spread over :data:`TYPES`, and a company certificate."""
    repository, _ = init_repository(root, "S1", "bench",
                                    administrator=Enrollment("bench.admin", "Bench Admin", PASSPHRASE, home))
    admin = Credentials("bench.admin", PASSPHRASE, home)
    signers: dict[str, str] = {}
    for role in repository.catalog.roles:
        name = "bench.admin" if role == ADMIN_ROLE else f"bench.{role}"
        signers[role] = name
        if role == ADMIN_ROLE:
            continue  # the first administrator, made with the repository
        add_user(repository, admin, name, f"{role} 姓名", [role])
        register_key(repository, admin, name, PASSPHRASE)
    ids = []
    for index, type_id in enumerate(TYPES):
        record_type = repository.catalog.get(type_id)
        values = example_values(repository.catalog, record_type)
        size = count // len(TYPES) + (1 if index < count % len(TYPES) else 0)
        records = create_records(repository, type_id, [{**values, "lot": f"L{number:05d}"} for number in range(size)],
                                 "bench")
        batch = [record.id for record in records]
        for requirement in record_type.signatures:
            sign_records(repository, batch, signers[requirement.roles[0]], requirement.meaning, PASSPHRASE, home=home)
        ids.extend(batch)
    install_certificate(repository, "bench", PASSPHRASE, home=home)
    return repository, ids


def bare_conversion(repository: Repository, ids: list[str], folder: Path) -> None:
    """The least work the job needs: LibreOffice converting the .docx files, nothing else."""
    source = folder / "in"
    source.mkdir(parents=True)
    for record_id in ids:
        (source / f"{record_id}.docx").write_bytes(record_at_revision(repository, record_id)[1])
    subprocess.run(["soffice", f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder / "out"), *map(str, sorted(source.iterdir()))],
                   check=True, capture_output=True)


def timed(function, *arguments, **options):  # type: ignore[no-untyped-def]
    """Result, wall-clock seconds, and CPU seconds of this process and its children (LibreOffice).
    The CPU figure is the one to compare on a busy machine."""
    before = _cpu()
    started = time.perf_counter()
    result = function(*arguments, **options)
    return result, time.perf_counter() - started, _cpu() - before


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100)
    arguments = parser.parse_args()
    version = subprocess.run(["soffice", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{platform.node()}: {os.cpu_count()} CPU(s), Python {platform.python_version()}, {version}")
    with tempfile.TemporaryDirectory(prefix="qdocs-bench-pdf-") as folder:
        base = Path(folder)
        repository, ids = build(base / "records", arguments.records, base / "home")
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        _, seconds, cpu = timed(bare_conversion, repository, ids, base / "bare")
        print(f"baseline: soffice --convert-to pdf of the same {len(ids)} .docx in one run: {seconds:.1f} s, "
              f"{seconds / len(ids):.3f} s per record, CPU {cpu / len(ids):.3f} s per record")
        files, seconds, cpu = timed(export_records, repository, ids, "bench")
        print(f"export {len(ids)} records in one call: {seconds:.1f} s, {seconds / len(ids):.3f} s per record "
              f"(target 0.3 s), CPU {cpu / len(ids):.3f} s per record; "
              f"{sum(len(c) for _, c in files) / len(files) / 1024:.0f} kB per PDF")
        _, seconds, cpu = timed(export_records, repository, ids, "bench", sign=True, passphrase=PASSPHRASE,
                                home=base / "home")
        print(f"export --sign {len(ids)} records: {seconds:.1f} s, {seconds / len(ids):.3f} s per record, "
              f"CPU {cpu / len(ids):.3f} s per record")
        demo = base / "demo"
        run_demo(demo, "bench")
        lot = Repository.open(demo)
        install_certificate(lot, "bench", PASSPHRASE, home=base / "home")
        lab = base / "lab.pdf"
        lab.write_bytes(files[0][1])
        from qdocs.pdf.attachments import attach_file

        final = next(iter_records(lot, type_id="final-inspection", product="PUMP-X200", lot="L2026-031"))
        attach_file(lot, final.id, lab, "第三方检测报告 Lab test report", "bench")
        (content, summary), seconds, cpu = timed(build_pack, lot, "PUMP-X200", "L2026-031", "bench", sign=True,
                                                 passphrase=PASSPHRASE, home=base / "home")
        print(f"pack PUMP-X200 / L2026-031 ({summary['records']} records, {summary['attachments']} attachment, "
              f"{summary['pages']} pages, signed): {seconds:.1f} s, CPU {cpu:.1f} s, {len(content) / 1024:.0f} kB")
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
