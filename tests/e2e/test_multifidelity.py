"""Multi-fidelity through the real executable: promotions keep hash_params and copy the dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.helpers import PYTHON, assert_one_error_line, copy_script, hunt_json, orion


def hunt_checkpointed(tmp_path: Path, algorithm: str, trials: int, *priors: str) -> dict:
    """`orion hunt` of checkpointed.py, which keeps its checkpoint under {trial.hash_params}."""
    copy_script(tmp_path, "checkpointed.py")
    return hunt_json(
        "-n",
        algorithm,
        "--algorithm",
        algorithm,
        "--seed",
        "2",
        "--exp-max-trials",
        str(trials),
        PYTHON,
        "checkpointed.py",
        *priors,
        "--key",
        "{trial.hash_params}",
        cwd=tmp_path,
    )


@pytest.mark.parametrize("algorithm", ["asha", "hyperband"])
def test_promoted_trials_start_from_their_parents_checkpoint(tmp_path, algorithm):
    entry = hunt_checkpointed(
        tmp_path, algorithm, 14, "--lr~loguniform(1e-3, 1.0)", "--epochs~fidelity(1, 4, base=2)"
    )
    assert entry["counts"]["completed"] >= 1
    chains = []
    for ckpt in Path(entry["working_dir"]).glob("*/checkpoint"):
        lines = ckpt.read_text().split()
        assert lines[-1].split(":")[0] == ckpt.parent.name  # this trial wrote last
        chains.append(lines)
    promoted = [c for c in chains if len(c) > 1]
    assert promoted, "no trial was promoted"
    for chain in promoted:
        epochs = [int(line.split(":")[1]) for line in chain]
        keys = {line.split(":")[2] for line in chain}
        assert epochs == sorted(epochs) and epochs[-1] > epochs[0]
        assert len(keys) == 1  # {trial.hash_params} is the same along a promotion chain


def test_multifidelity_algorithm_needs_a_fidelity(tmp_path):
    copy_script(tmp_path)
    proc = orion(
        "hunt",
        "-n",
        "nofid",
        "--algorithm",
        "asha",
        PYTHON,
        "quadratic.py",
        "-x~uniform(0, 1)",
        cwd=tmp_path,
    )
    assert_one_error_line(proc, 1, "fidelity")


@pytest.mark.parametrize("algorithm", ["asha", "hyperband"])
def test_a_finite_space_smaller_than_a_rung_promotes_its_best_and_ends(tmp_path, algorithm):
    entry = hunt_checkpointed(
        tmp_path,
        algorithm,
        50,
        "--lr~choices([0.01, 0.1, 1.0])",  # 3 configurations; the first rung wants 9
        "--epochs~fidelity(1, 9, base=3)",
    )
    assert entry["reason"] == "done"
    assert entry["counts"]["completed"] == 5  # 3 at 1 epoch, the best at 3, then at 9
    assert entry["best"]["params"] == {"epochs": 9, "lr": 0.1}
