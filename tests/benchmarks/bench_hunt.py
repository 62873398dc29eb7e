"""`make bench`: orion hunt against a bare launch loop, startup, status and child import costs.

Runs each measurement side by side in one process, repeated, and writes the medians and ratios to
tests/benchmarks/RESULTS.md (section "hunt"). Usage:

    python tests/benchmarks/bench_hunt.py [--quick] [--reps 3] [--sizes 100 500 2000]
    python tests/benchmarks/bench_hunt.py --algorithm random --backend postgresql --sizes 100 500

With `--algorithm`, only the hunt/bare rows are run, with that algorithm, on the journal or (with
`--backend postgresql`) on a scratch database of the server of tests/pg.py for each hunt.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import header, write_section

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
ORION = str(BIN / "orion")
TRIVIAL = """\
import json, os, sys
x = float(sys.argv[sys.argv.index("-x") + 1])
with open(os.environ["ORION_RESULTS_PATH"], "w") as f:
    json.dump([{"name": "o", "type": "objective", "value": (x - 0.3) ** 2}], f)
"""


def timed(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def bare_loop(work: Path, n: int) -> float:
    """The same launches without orion: one subprocess per trial, results read back."""
    script = work / "trivial.py"
    start = time.perf_counter()
    for i in range(n):
        results = work / "bare-results.json"
        subprocess.run(
            [sys.executable, str(script), "-x", str(i / n)],
            env={**os.environ, "ORION_RESULTS_PATH": str(results)},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        json.loads(results.read_text())
    return time.perf_counter() - start


ALGORITHM: list[str] = []  # ["--algorithm", NAME] with --algorithm; else the default one
BACKEND = ["journal"]  # or "postgresql", with --backend


def hunt(work: Path, n: int, tag: str) -> float:
    if BACKEND[0] == "postgresql":
        sys.path.insert(0, str(HERE.parent.parent))
        from tests.pg import scratch_database

        with scratch_database("orion_bench") as url:  # created and dropped outside the timing
            return _timed_hunt(work, n, url)
    storage = work / f"store-{tag}"
    shutil.rmtree(storage, ignore_errors=True)
    return _timed_hunt(work, n, str(storage))


def _timed_hunt(work: Path, n: int, storage: str) -> float:
    return timed(
        [
            ORION,
            "hunt",
            "-n",
            "bench",
            "--storage",
            storage,
            "--exp-max-trials",
            str(n),
            *ALGORITHM,
            sys.executable,
            "trivial.py",
            "-x~uniform(0, 1)",
        ],
        cwd=work,
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_overhead(work: Path, sizes: list[int], reps: int) -> list[dict]:
    # A hunt with a budget of 0 trials: the fixed cost of starting orion and its storage.
    fixed = median([hunt(work, 0, f"fixed-{rep}") for rep in range(max(3, reps))])
    print(f"  fixed cost of one orion hunt (0 trials): {fixed:.3f} s", flush=True)
    rows = []
    for n in sizes:
        hunts, bares = [], []
        for rep in range(reps):  # interleaved: both see the same machine state
            bares.append(bare_loop(work, n))
            hunts.append(hunt(work, n, f"{n}-{rep}"))
        h, b = median(hunts), median(bares)
        rows.append(
            {
                "trials": n,
                "hunt_s": h,
                "bare_s": b,
                "ratio": h / b,
                "overhead_ms_per_trial": (h - b) / n * 1000,
                "marginal_ms_per_trial": (h - fixed - b) / n * 1000,
                "fixed_s": fixed,
            }
        )
        print(f"  {n} trials: hunt {h:.2f} s, bare {b:.2f} s, ratio {h / b:.3f}", flush=True)
    return rows


def bench_startup(work: Path, reps: int) -> dict:
    helps = [timed([ORION, "--help"]) for _ in range(reps)]
    versions = [timed([ORION, "--version"]) for _ in range(reps)]
    plain = [timed([sys.executable, "-c", "pass"]) for _ in range(reps)]
    child = [timed([sys.executable, "-c", "import orion_cli.client"]) for _ in range(reps)]
    return {
        "help_s": median(helps),
        "version_s": median(versions),
        "python_s": median(plain),
        "import_client_s": median(child),
        "import_client_extra_ms": (median(child) - median(plain)) * 1000,
    }


def make_big_experiment(storage: Path, n: int) -> None:
    sys.path.insert(0, str(HERE.parent.parent))
    from orion_cli.client import build_experiment

    exp = build_experiment(
        "big",
        space={"x": "uniform(0, 1)", "y": "randint(0, 100)"},
        algorithm={"random": {"seed": 1}},
        max_trials=n,
        storage=str(storage),
        heartbeat=0,
    )
    exp.workon(lambda x, y: (x - 0.3) ** 2 + y)
    exp.close()


def bench_status(work: Path, n: int, reps: int) -> dict:
    storage = work / f"store-big-{n}"
    if not storage.exists():
        start = time.perf_counter()
        make_big_experiment(storage, n)
        print(f"  built {n} trials in {time.perf_counter() - start:.1f} s", flush=True)
    status = [timed([ORION, "status", "--storage", str(storage)]) for _ in range(reps)]
    status_json = [
        timed([ORION, "status", "--json", "--storage", str(storage)]) for _ in range(reps)
    ]
    return {"trials": n, "status_s": median(status), "status_json_s": median(status_json)}


def _overhead_table(rows: list[dict]) -> list[str]:
    lines = [
        "| trials | orion hunt (s) | bare loop (s) | hunt/bare | overhead per trial (ms) "
        "| without the fixed start-up (ms) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['trials']} | {r['hunt_s']:.2f} | {r['bare_s']:.2f} | "
            f"{r['ratio']:.3f} | {r['overhead_ms_per_trial']:.2f} | "
            f"{r['marginal_ms_per_trial']:.2f} |"
        )
    lines += [
        "",
        f"Fixed cost of one `orion hunt` (a budget of 0 trials): {rows[0]['fixed_s']:.2f} s.",
    ]
    return lines


def write_results(rows: list[dict], startup: dict, statuses: list[dict], elapsed: float) -> Path:
    lines = [
        *header(
            "orion hunt against a bare loop (`make bench`)",
            elapsed,
            (
                "the script: a standard-library one-liner that writes its results file; each row "
                "is the median of the repetitions, hunt and bare loop interleaved",
            ),
        ),
        *_overhead_table(rows),
    ]
    lines += [
        "",
        "The default algorithm suggests each trial; `--algorithm random` isolates the runner.",
        "",
        "| measurement | median | target |",
        "| --- | ---: | ---: |",
        f"| `orion --help` | {startup['help_s']:.3f} s | <= 0.3 s |",
        f"| `orion --version` | {startup['version_s']:.3f} s | (Oríon 0.2.7: 2.1 s) |",
        *(
            f"| `orion status{flag}` of {st['trials']:,} trials | {st[key]:.3f} s | <= 1 s |"
            for st in statuses
            for flag, key in (("", "status_s"), (" --json", "status_json_s"))
        ),
        f"| child's `import orion_cli.client` beyond a bare `python -c pass` "
        f"| {startup['import_client_extra_ms']:.1f} ms | small |",
    ]
    return write_section("hunt", lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--algorithm", help="only the hunt/bare rows, with this algorithm")
    parser.add_argument("--sizes", type=int, nargs="+", help="trial counts of the hunt rows")
    parser.add_argument(
        "--backend", choices=["journal", "postgresql"], default="journal", help="with --algorithm"
    )
    args = parser.parse_args()
    sizes = args.sizes or ([20, 50] if args.quick else [100, 500, 2000])
    n_status = [1000] if args.quick else [10_000, 30_000]
    if args.algorithm:
        ALGORITHM[:] = ["--algorithm", args.algorithm]
        BACKEND[:] = [args.backend]
        tag = args.algorithm if args.backend == "journal" else f"{args.algorithm}-{args.backend}"
        with tempfile.TemporaryDirectory(prefix="orion-bench-") as tmp:
            (Path(tmp) / "trivial.py").write_text(TRIVIAL)
            started = time.perf_counter()
            rows = bench_overhead(Path(tmp), sizes, args.reps)
        lines = [
            *header(
                f"orion hunt against a bare loop, algorithm {args.algorithm}, {args.backend}",
                time.perf_counter() - started,
            ),
            *_overhead_table(rows),
        ]
        print(f"wrote {write_section(f'hunt-{tag}', lines)}")
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="orion-bench-") as tmp:
        work = Path(tmp)
        (work / "trivial.py").write_text(TRIVIAL)
        print("startup and child import:", flush=True)
        startup = bench_startup(work, max(10, args.reps))
        print(f"  {startup}", flush=True)
        print("hunt against a bare loop:", flush=True)
        rows = bench_overhead(work, sizes, args.reps)
        print("status:", flush=True)
        statuses = []
        for n in n_status:
            statuses.append(bench_status(work, n, max(5, args.reps)))
            print(f"  {statuses[-1]}", flush=True)
    path = write_results(rows, startup, statuses, time.perf_counter() - started)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
