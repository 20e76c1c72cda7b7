"""What keeping IRIs costs a build: lod.make.permanence.check (read the ledger, compare it
with the records, read data/gone.yaml) and remember (write the ledger), for a ledger and a
build of N records, against a baseline measured in the same run: reading the ledger's
bytes alone.

    python bench/permanence.py 10000 100000
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import header, loadavg, median  # noqa: E402

from lod.layout import Output  # noqa: E402
from lod.make import permanence  # noqa: E402

BASE = "https://lod.example.org/"


def conversion(n: int):
    records = {
        f"{BASE}id/article/article-{i}": SimpleNamespace(kind="article", values={})
        for i in range(n)
    }
    return SimpleNamespace(dataset=SimpleNamespace(base=BASE), records=records)


def main(sizes: list[int]) -> None:
    header("permanence: ledger check and write per build")
    for n in sizes:
        converted = conversion(n)
        with tempfile.TemporaryDirectory() as folder:
            out, data = Output(Path(folder) / "dist"), Path(folder) / "data"
            out.root.mkdir()
            data.mkdir()
            permanence.remember(out, permanence.check(out, data, converted))  # the ledger
            checks, writes, reads = [], [], []
            for _ in range(5):
                started = time.perf_counter()
                out.ledger.read_bytes()
                reads.append(time.perf_counter() - started)
                started = time.perf_counter()
                kept = permanence.check(out, data, converted)
                checks.append(time.perf_counter() - started)
                started = time.perf_counter()
                permanence.remember(out, kept)
                writes.append(time.perf_counter() - started)
        print(
            f"{n:>8} records: check {median(checks) * 1000:7.1f} ms, "
            f"write {median(writes) * 1000:6.1f} ms "
            f"(baseline: reading the ledger's bytes {median(reads) * 1000:5.1f} ms)"
        )
    loadavg("end")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
