"""Machine instructions per record of a sink worker, counted by valgrind (cachegrind): a figure that does not move
with the machine's speed, for judging a change on a shared or virtual machine whose timings swing.

Run: python bench/bench_sink_instructions.py [--small 20000] [--large 100000] [--mode insert|upsert]
     [--only kafka|embedded] [--db postgresql|mariadb] [--cache-sim] [--tree DIR]
With --cache-sim cachegrind also simulates the caches (several times slower) and the data cache misses per record
are printed too, first level and last level: the memory traffic that instruction counts do not show.
Needs valgrind (apt-get install valgrind). bench_jdbc_sink_kafka.py runs twice, with --small and --large records,
its worker re-executed under cachegrind (a sitecustomize on PYTHONPATH does it); the difference of the two counts
over the difference of the record counts is the worker's cost per record, start-up excluded. The runs start from a
scratch directory: `python -m` puts the working directory first on sys.path, so a worker started from the
repository would import the repository's package whatever PYTHONPATH says. To measure another checkout, give
--tree DIR: its `miniconnect/` and its `plugins/` (imported as `miniconnect_plugins`, which an editable install
otherwise maps to the installed checkout whatever PYTHONPATH says) go first on the worker's path.
Servers as for bench_jdbc_sink_kafka.py (MINICONNECT_TEST_* or throwaway ones).
"""

from __future__ import annotations

import argparse
import os
import shutil
import site as pysite
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITECUSTOMIZE = """
import os, site, sys
if os.environ.get("MINICONNECT_UNDER_VALGRIND"):
    # The virtual environment's packages (valgrind runs its base interpreter), ahead of the system's own ones
    # (an older orjson there lacks what the converters use), right after this directory (--tree's checkout).
    before = list(sys.path)
    for d in {site_dirs!r}:
        site.addsitedir(d)
    added = [p for p in sys.path if p not in before]
    at = before.index(os.path.dirname(os.path.abspath(__file__))) + 1
    sys.path[:] = before[:at] + added + before[at:]
elif "standalone" in sys.argv:
    os.environ["MINICONNECT_UNDER_VALGRIND"] = "1"
    os.execv({valgrind!r}, ["valgrind", "--tool=cachegrind", "--cache-sim=" + os.environ["MINICONNECT_CACHE_SIM"],
                            "--cachegrind-out-file=" + os.environ["MINICONNECT_CACHEGRIND_OUT"],
                            {python!r}, "-m", "miniconnect.cli", *sys.argv[1:]])
"""


def totals(out: Path) -> dict[str, int]:
    """cachegrind's summary: event name (Ir, D1mr, DLmw, ...) -> count."""
    lines = out.read_text().splitlines()
    events = next((ln.split()[1:] for ln in lines if ln.startswith("events:")), None)
    summary = next((ln.split()[1:] for ln in lines if ln.startswith("summary:")), None)
    if events is None or summary is None:
        raise SystemExit(f"no summary in {out}")
    return dict(zip(events, map(int, summary)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=20_000)
    ap.add_argument("--large", type=int, default=100_000)
    ap.add_argument("--mode", choices=["insert", "upsert"], default="insert")
    ap.add_argument("--only", choices=["kafka", "embedded"], default="kafka")
    ap.add_argument("--db", choices=["postgresql", "mariadb"], default="postgresql")
    ap.add_argument("--cache-sim", action="store_true", help="also count data cache misses (slower)")
    ap.add_argument("--tree", type=Path, help="a checkout whose runtime and plugins the worker runs")
    args = ap.parse_args()
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind not found: apt-get install valgrind")
    python = os.path.realpath(sys.executable)  # not a shim script: valgrind follows no interpreter line
    with tempfile.TemporaryDirectory(prefix="bench-instr-") as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(
            SITECUSTOMIZE.format(valgrind=valgrind, python=python, site_dirs=pysite.getsitepackages())
        )
        if args.tree is not None:
            tree = args.tree.resolve()
            for name, target in (("miniconnect", tree / "miniconnect"), ("miniconnect_plugins", tree / "plugins")):
                if not target.is_dir():
                    raise SystemExit(f"--tree {tree}: no {target.name}/ there")
                (site / name).symlink_to(target)
        counts = []
        for n in (args.small, args.large):
            out = Path(tmp) / f"cachegrind.{n}"
            env = {
                **os.environ,
                "MINICONNECT_CACHEGRIND_OUT": str(out),
                "MINICONNECT_CACHE_SIM": "yes" if args.cache_sim else "no",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
            }
            cmd = [
                sys.executable,
                str(ROOT / "bench" / "bench_jdbc_sink_kafka.py"),
                str(n),
                "--only",
                args.only,
                "--db",
                args.db,
                "--mode",
                args.mode,
                "--skip-raw",
                "--start-timeout",
                "600",
            ]
            run = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
            if run.returncode != 0 or not out.exists():
                raise SystemExit(f"{' '.join(cmd)} failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
            counts.append(totals(out))

        def per(*events: str) -> float:
            return sum(counts[1][e] - counts[0][e] for e in events) / (args.large - args.small)

        print(
            f"{args.only} -> {args.db} {args.mode}: {per('Ir'):,.0f} instructions per record "
            f"(worker under cachegrind, {args.small:,} and {args.large:,} records)",
            flush=True,
        )
        if args.cache_sim:
            print(
                f"  data cache misses per record: first level {per('D1mr', 'D1mw'):,.1f} "
                f"(reads {per('D1mr'):,.1f}), last level {per('DLmr', 'DLmw'):,.1f} (reads {per('DLmr'):,.1f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
