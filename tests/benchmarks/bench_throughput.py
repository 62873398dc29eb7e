"""Throughput of many `orion hunt` processes on one experiment (issue: many workers).

N trials of a script that sleeps 0.2 s, run by 1, 2, 4 and 8 worker processes on the journal
storage and on PostgreSQL: wall time against the ideal (N x 0.2 s / workers), and the number of
duplicated and lost trials (both must be 0). Writes the "throughput" section of RESULTS.md.

    python tests/benchmarks/bench_throughput.py [--trials 1000] [--workers 1 2 4 8]
        [--backends journal postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from results import header, write_section

HERE = Path(__file__).parent
if str(HERE.parent.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent.parent))

from tests.pg import scratch_database  # noqa: E402

ORION = str(Path(sys.executable).parent / "orion")
SLEEP = 0.2
SCRIPT = """\
import json, os, sys, time
line = json.dumps({"trial": os.environ["ORION_TRIAL_ID"], "argv": sys.argv[1:]}) + "\\n"
fd = os.open(os.environ["RUN_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
os.write(fd, line.encode())
os.close(fd)
time.sleep(SLEEP_SECONDS)
with open(os.environ["ORION_RESULTS_PATH"], "w") as f:
    json.dump([{"name": "o", "type": "objective", "value": float(sys.argv[-1])}], f)
""".replace("SLEEP_SECONDS", str(SLEEP))


def run(backend: str, workers: int, trials: int, work: Path) -> dict:
    log = work / f"runs-{backend}-{workers}.log"
    log.unlink(missing_ok=True)
    database = None
    if backend == "journal":
        url = str(work / f"store-{workers}")
    else:
        database = scratch_database("orion_bench")
        url = database.__enter__()
    try:
        args = [
            ORION,
            "hunt",
            "-n",
            "through",
            "--storage",
            url,
            "--exp-max-trials",
            str(trials),
            "--idle-timeout",
            "120",
            "--heartbeat",
            "30",
            "--algorithm",
            "random",
            sys.executable,
            "sleeper.py",
            "-x~uniform(0, 1)",
        ]
        env = {**os.environ, "RUN_LOG": str(log)}
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                args,
                cwd=work,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(workers)
        ]
        codes = []
        for proc in procs:
            _, err = proc.communicate()
            codes.append(proc.returncode)
            if proc.returncode:
                print(err[-2000:], file=sys.stderr)
        wall = time.perf_counter() - start
        status = json.loads(
            subprocess.run(
                [ORION, "status", "--json", "--storage", url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )["data"]["experiments"][0]
    finally:
        if database is not None:
            database.__exit__(None, None, None)
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    by_trial = Counter(r["trial"] for r in runs)
    ideal = trials * SLEEP / workers
    return {
        "backend": backend,
        "workers": workers,
        "trials": trials,
        "wall_s": wall,
        "ideal_s": ideal,
        "efficiency": ideal / wall,
        "duplicates": sum(c - 1 for c in by_trial.values()),
        "lost": trials - status["counts"]["completed"],
        "exit_codes": codes,
    }


def write(rows: list[dict], elapsed: float) -> Path:
    lines = [
        *header(
            "Throughput of many workers",
            elapsed,
            (
                f"each trial: a Python script that sleeps {SLEEP} s; each worker is one "
                "`orion hunt` process; algorithm `random` (this measures the runner and the "
                "storage, not an algorithm's suggest time)",
            ),
        ),
        "| storage | workers | trials | wall (s) | ideal (s) | % of ideal | duplicates | lost |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['workers']} | {r['trials']} | {r['wall_s']:.1f} | "
            f"{r['ideal_s']:.1f} | {100 * r['efficiency']:.0f} % | {r['duplicates']} | "
            f"{r['lost']} |"
        )
    lines += ["", "Target: >= 80 % of ideal at 8 workers; duplicates and lost both 0."]
    return write_section("throughput", lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--backends", nargs="+", default=["journal", "postgresql"])
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="orion-through-") as tmp:
        work = Path(tmp)
        (work / "sleeper.py").write_text(SCRIPT)
        for backend in args.backends:
            for workers in args.workers:
                row = run(backend, workers, args.trials, work)
                rows.append(row)
                print(
                    f"{backend} x{workers}: {row['wall_s']:.1f} s (ideal {row['ideal_s']:.1f}"
                    f", {100 * row['efficiency']:.0f} %), duplicates {row['duplicates']}, "
                    f"lost {row['lost']}",
                    flush=True,
                )
    print(f"wrote {write(rows, time.perf_counter() - started)}")


if __name__ == "__main__":
    main()
