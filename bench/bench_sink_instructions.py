"""Machine instructions per record of a sink worker, counted by valgrind (cachegrind): a figure that does not move
with the machine's speed, for judging a change on a shared or virtual machine whose timings swing.

Run: python bench/bench_sink_instructions.py [--small 20000] [--large 100000] [--mode insert|upsert]
     [--only kafka|embedded] [--db postgresql|mariadb]
Needs valgrind (apt-get install valgrind). bench_jdbc_sink_kafka.py runs twice, with --small and --large records,
its worker re-executed under cachegrind (a sitecustomize on PYTHONPATH does it); the difference of the two counts
over the difference of the record counts is the worker's cost per record, start-up excluded. The runs start from a
scratch directory: `python -m` puts the working directory first on sys.path, so a worker started from the
repository would import the repository's package whatever PYTHONPATH says (compare trees with PYTHONPATH=tree).
Servers as for bench_jdbc_sink_kafka.py (MINICONNECT_TEST_* or throwaway ones).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITECUSTOMIZE = """
import os, sys
if "standalone" in sys.argv and not os.environ.get("MINICONNECT_UNDER_VALGRIND"):
    os.environ["MINICONNECT_UNDER_VALGRIND"] = "1"
    os.execv({valgrind!r}, ["valgrind", "--tool=cachegrind", "--cache-sim=no",
                            "--cachegrind-out-file=" + os.environ["MINICONNECT_CACHEGRIND_OUT"],
                            {python!r}, "-m", "miniconnect.cli", *sys.argv[1:]])
"""


def instructions(out: Path) -> int:
    for line in out.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise SystemExit(f"no summary in {out}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=20_000)
    ap.add_argument("--large", type=int, default=100_000)
    ap.add_argument("--mode", choices=["insert", "upsert"], default="insert")
    ap.add_argument("--only", choices=["kafka", "embedded"], default="kafka")
    ap.add_argument("--db", choices=["postgresql", "mariadb"], default="postgresql")
    args = ap.parse_args()
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind not found: apt-get install valgrind")
    python = os.path.realpath(sys.executable)  # not a shim script: valgrind follows no interpreter line
    with tempfile.TemporaryDirectory(prefix="bench-instr-") as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(valgrind=valgrind, python=python))
        counts = []
        for n in (args.small, args.large):
            out = Path(tmp) / f"cachegrind.{n}"
            env = {**os.environ, "MINICONNECT_CACHEGRIND_OUT": str(out),
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
            cmd = [sys.executable, str(ROOT / "bench" / "bench_jdbc_sink_kafka.py"), str(n), "--only", args.only,
                   "--db", args.db, "--mode", args.mode, "--skip-raw"]
            run = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
            if run.returncode != 0 or not out.exists():
                raise SystemExit(f"{' '.join(cmd)} failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
            counts.append(instructions(out))
        per = (counts[1] - counts[0]) / (args.large - args.small)
        print(f"{args.only} -> {args.db} {args.mode}: {per:,.0f} instructions per record "
              f"(worker under cachegrind, {args.small:,} and {args.large:,} records)", flush=True)


if __name__ == "__main__":
    main()
