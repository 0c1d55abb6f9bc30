"""History paging over 2,000 synthetic results: time per page, cold (no index file) and warm.

Writes 2,000 schema-1 sidecars (with a small main file each) across the five
output kinds into a temporary outputs dir, then measures, interleaved over
several rounds in one process:

- cold: HistoryStore() with no index file (scans every folder, reads every sidecar) + page 1
- restart: HistoryStore() with the index file present (no sidecar read) + page 1
- page: one page of 20 on a warm store (page 1, a middle page, the last page)
- filtered: a free-text + voice filter page on a warm store
- new result: one more sidecar written, then page 1 (incremental rescan of one folder)

    .venv/bin/python benchmarks/history_paging.py [--items 2000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demos.history.index import INDEX_NAME  # noqa: E402
from demos.history.store import HistoryStore  # noqa: E402
from shared.io.outputs import new_output_path, write_sidecar  # noqa: E402

KINDS = [("voice_voxtral", "voice_voxtral", "wav"), ("voice_clone", "voice_clone", "wav"), ("video", "video", "mp4"),
         ("agent", "agent_frame", "json"), ("agent", "agent_video", "mp4")]
VOICES = ["casual_male", "fr_female", "de_male", "neutral_female"]


def populate(root: Path, count: int) -> None:
    for i in range(count):
        folder, demo, ext = KINDS[i % len(KINDS)]
        main = new_output_path(root, folder, ext)
        main.write_bytes(b"\0" * 2048)
        inputs = {"text": f"synthetic result number {i} about a fox", "voice": VOICES[i % 4], "seed": i,
                  "variant": "distilled" if demo == "video" else ""}
        write_sidecar(main, {"model": demo, "seed": i, "timings": {"total_s": 1.0}}, inputs=inputs, demo=demo,
                      owner=None)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="history-bench-")) / "outputs"
    t0 = time.perf_counter()
    populate(root, args.items)
    print(f"wrote {args.items} results in {time.perf_counter() - t0:.1f} s; load average {os.getloadavg()}")
    results: dict[str, list[float]] = {k: [] for k in ("cold", "restart", "page 1", "middle page", "last page",
                                                        "filtered", "new result")}
    old = time.time() - 3600
    for _ in range(args.rounds):
        (root / INDEX_NAME).unlink(missing_ok=True)
        for folder in root.iterdir():  # as on a disk written a while ago (outside the rescan slack)
            os.utime(folder, (old, old))
        results["cold"].append(timed(lambda: HistoryStore(root, 10**12).query(None, page=1)))
        store = None

        def restart():
            nonlocal store
            store = HistoryStore(root, 10**12)
            store.query(None, page=1)

        results["restart"].append(timed(restart))
        pages = store.query(None).pages
        results["page 1"].append(timed(lambda: store.query(None, page=1)))
        results["middle page"].append(timed(lambda: store.query(None, page=pages // 2)))
        results["last page"].append(timed(lambda: store.query(None, page=pages)))
        results["filtered"].append(timed(lambda: store.query(None, text="NUMBER 19", voice="de_male", page=1)))

        def new_result():
            main = new_output_path(root, "voice_voxtral", "wav")
            main.write_bytes(b"\0" * 2048)
            write_sidecar(main, {"model": "voice_voxtral"}, inputs={"text": "one more"}, demo="voice_voxtral")
            assert store.query(None, page=1).items[0]["text"] == "one more"

        results["new result"].append(timed(new_result))
    print(f"{'operation':<14} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for name, values in results.items():
        print(f"{name:<14} {statistics.median(values):>10.1f} {min(values):>8.1f} {max(values):>8.1f}")
    print(f"index file: {(root / INDEX_NAME).stat().st_size / 1024:.0f} kB; load average {os.getloadavg()}")
    shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
