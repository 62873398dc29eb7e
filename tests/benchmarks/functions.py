"""Test functions of the quality benchmark, each with its orion_cli space and known optimum."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from orion_cli.core.space import Categorical, Fidelity, Integer, Real, Space


@dataclass(frozen=True)
class BenchFunction:
    """A function to minimize over `space`; `optimum` is its known global minimum."""

    name: str
    space: Space
    f: Callable[[dict[str, Any]], float]
    optimum: float


def _box(d: int, low: float, high: float) -> Space:
    return Space(tuple(Real(f"x{i}", low, high) for i in range(d)))


def _vector(params: dict[str, Any], d: int) -> np.ndarray:
    return np.array([params[f"x{i}"] for i in range(d)], dtype=float)


def branin(params: dict[str, Any]) -> float:
    x1, x2 = params["x0"], params["x1"]
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return float((x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s)


_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def hartmann6(params: dict[str, Any]) -> float:
    x = _vector(params, 6)
    inner = (_H6_A * (x[None, :] - _H6_P) ** 2).sum(axis=1)
    return float(-(_H6_ALPHA * np.exp(-inner)).sum())


def rosenbrock4(params: dict[str, Any]) -> float:
    x = _vector(params, 4)
    return float((100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum())


def ackley5(params: dict[str, Any]) -> float:
    x = _vector(params, 5)
    a, b, c = 20.0, 0.2, 2 * math.pi
    term1 = -a * math.exp(-b * math.sqrt(float((x**2).mean())))
    term2 = -math.exp(float(np.cos(c * x).mean()))
    return float(term1 + term2 + a + math.e)


def levy4(params: dict[str, Any]) -> float:
    w = 1 + (_vector(params, 4) - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    body = ((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)).sum()
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + body + tail)


# mixed: the best learning rate depends on the optimizer; 4 layers is best; adam wins.
_MIXED_TARGET = {"adam": -3.0, "sgd": -1.5, "rmsprop": -2.5}
_MIXED_OFFSET = {"adam": 0.0, "sgd": 0.3, "rmsprop": 0.15}


def mixed(params: dict[str, Any]) -> float:
    opt = params["optimizer"]
    lr_term = (math.log10(params["lr"]) - _MIXED_TARGET[opt]) ** 2
    layers_term = 0.05 * (params["layers"] - 4) ** 2
    return float(lr_term + layers_term + _MIXED_OFFSET[opt])


MIXED_SPACE = Space(
    (
        Categorical("optimizer", ("sgd", "adam", "rmsprop")),
        Real("lr", 1e-5, 1.0, log=True),
        Integer("layers", 1, 10),
    )
)

FUNCTIONS: dict[str, BenchFunction] = {
    "branin": BenchFunction(
        "branin", Space((Real("x0", -5.0, 10.0), Real("x1", 0.0, 15.0))), branin, 0.397887357729
    ),
    "hartmann6": BenchFunction("hartmann6", _box(6, 0.0, 1.0), hartmann6, -3.32236801141551),
    "rosenbrock4": BenchFunction("rosenbrock4", _box(4, -5.0, 10.0), rosenbrock4, 0.0),
    "ackley5": BenchFunction("ackley5", _box(5, -32.768, 32.768), ackley5, 0.0),
    "levy4": BenchFunction("levy4", _box(4, -10.0, 10.0), levy4, 0.0),
    "mixed": BenchFunction("mixed", MIXED_SPACE, mixed, 0.0),
}


# Multi-fidelity benchmark: Hartmann-6 observed with Gaussian noise whose standard deviation
# shrinks with the fidelity b (epochs 1 to 81): sd(b) = 0.5 / sqrt(b), so 0.5 at one epoch and
# 0.056 at 81. Regret is measured on the noise-free function at the configuration a user would
# pick: the best observed objective among the trials at the highest fidelity reached so far.
MF_SPACE = Space((*_box(6, 0.0, 1.0).dimensions, Fidelity("epochs", 1, 81, 3)))
MF_OPTIMUM = -3.32236801141551


def mf_noise_sd(epochs: float) -> float:
    return 0.5 / math.sqrt(epochs)


def noisy_hartmann6(params: dict[str, Any], rng: np.random.Generator) -> float:
    return hartmann6(params) + mf_noise_sd(params["epochs"]) * float(rng.normal())
