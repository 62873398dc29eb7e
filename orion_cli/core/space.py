"""Dimensions of a search space and the space itself; each dimension maps to and from [0, 1]."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

_EPS = 1e-12


def round_significant(value: float, precision: int | None) -> float:
    """Round `value` to `precision` significant digits (None keeps full precision)."""
    if precision is None or value == 0 or not math.isfinite(value):
        return float(value)
    digits = precision - int(math.floor(math.log10(abs(value)))) - 1
    return float(round(value, digits))


def _clip_unit(u: float) -> float:
    return min(max(float(u), 0.0), 1.0)


def _fmt(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()  # np.float64(0.1) -> 0.1: prior text must parse back
    return repr(value)


def _kw(pairs: list[tuple[str, Any, Any]]) -> str:
    """Render keyword arguments that differ from their default, in order."""
    return "".join(f", {k}={_fmt(v)}" for k, v, default in pairs if v != default)


@dataclass(frozen=True)
class Real:
    """A real dimension on [low, high], uniform or log-uniform."""

    name: str
    low: float
    high: float
    log: bool = False
    precision: int | None = 4
    default_value: float | None = None

    def to_unit(self, value: float) -> float:
        if self.log:
            span = math.log(self.high) - math.log(self.low)
            return _clip_unit((math.log(max(value, self.low)) - math.log(self.low)) / span)
        return _clip_unit((value - self.low) / (self.high - self.low))

    def from_unit(self, u: float) -> float:
        u = _clip_unit(u)
        if self.log:
            raw = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            raw = self.low + u * (self.high - self.low)
        return self.cast(raw)

    def cast(self, value: float) -> float:
        """Round to the dimension's precision and keep inside the bounds."""
        return min(max(round_significant(float(value), self.precision), self.low), self.high)

    def sample(self, rng: np.random.Generator) -> float:
        return self.from_unit(float(rng.random()))

    def contains(self, value: Any) -> bool:
        return _is_number(value) and self.low <= float(value) <= self.high

    def prior(self) -> str:
        name = "loguniform" if self.log else "uniform"
        kw = _kw([("precision", self.precision, 4), ("default_value", self.default_value, None)])
        return f"{name}({_fmt(self.low)}, {_fmt(self.high)}{kw})"

    @property
    def cardinality(self) -> float:
        return math.inf


@dataclass(frozen=True)
class Integer:
    """An integer dimension on [low, high], both bounds included."""

    name: str
    low: int
    high: int
    log: bool = False
    default_value: int | None = None

    @property
    def cardinality(self) -> int:
        return self.high - self.low + 1

    def to_unit(self, value: int) -> float:
        if self.log:
            span = math.log(self.high + 1) - math.log(self.low)
            return _clip_unit((math.log(value + 0.5) - math.log(self.low)) / span)
        return _clip_unit((value - self.low + 0.5) / self.cardinality)

    def from_unit(self, u: float) -> int:
        u = _clip_unit(u)
        if self.log:
            raw = math.exp(math.log(self.low) + u * (math.log(self.high + 1) - math.log(self.low)))
            return self.cast(math.floor(raw))
        return self.cast(self.low + math.floor(u * self.cardinality))

    def cast(self, value: float) -> int:
        return int(min(max(int(value), self.low), self.high))

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            return self.from_unit(float(rng.random()))
        return int(rng.integers(self.low, self.high + 1))

    def contains(self, value: Any) -> bool:
        return (
            _is_number(value)
            and float(value) == int(value)
            and self.low <= int(value) <= self.high
        )

    def prior(self) -> str:
        kw = _kw([("default_value", self.default_value, None)])
        if self.log:
            return f"loguniform({self.low}, {self.high}, discrete=True{kw})"
        return f"randint({self.low}, {self.high + 1}{kw})"


@dataclass(frozen=True)
class Normal:
    """A real (or, with discrete, integer) dimension drawn from a normal distribution."""

    name: str
    mu: float
    sigma: float
    discrete: bool = False
    precision: int | None = 4
    default_value: float | None = None

    def _dist(self) -> NormalDist:
        return NormalDist(self.mu, self.sigma)

    def to_unit(self, value: float) -> float:
        return _clip_unit(self._dist().cdf(float(value)))

    def from_unit(self, u: float) -> float | int:
        u = min(max(float(u), _EPS), 1.0 - _EPS)
        return self.cast(self._dist().inv_cdf(u))

    def cast(self, value: float) -> float | int:
        if self.discrete:
            return int(round(value))
        return round_significant(float(value), self.precision)

    def sample(self, rng: np.random.Generator) -> float | int:
        return self.cast(float(rng.normal(self.mu, self.sigma)))

    def contains(self, value: Any) -> bool:
        if not _is_number(value) or not math.isfinite(float(value)):
            return False
        return not self.discrete or float(value) == int(value)

    def prior(self) -> str:
        kw = _kw(
            [
                ("discrete", self.discrete, False),
                ("precision", self.precision, 4),
                ("default_value", self.default_value, None),
            ]
        )
        return f"normal({_fmt(self.mu)}, {_fmt(self.sigma)}{kw})"

    @property
    def cardinality(self) -> float:
        return math.inf


@dataclass(frozen=True)
class Categorical:
    """A choice among values; weights (summing to 1) bias how often sampling picks each."""

    name: str
    choices: tuple[Any, ...]
    weights: tuple[float, ...] | None = None
    default_value: Any = None

    @property
    def cardinality(self) -> int:
        return len(self.choices)

    def to_unit(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.choices)

    def from_unit(self, u: float) -> Any:
        i = min(int(math.floor(_clip_unit(u) * len(self.choices))), len(self.choices) - 1)
        return self.choices[i]

    def index(self, value: Any) -> int:
        for i, choice in enumerate(self.choices):
            if choice == value and type(choice) is type(value):
                return i
        for i, choice in enumerate(self.choices):
            if choice == value:
                return i
        raise ValueError(f"{value!r} is not one of {list(self.choices)!r}")

    def cast(self, value: Any) -> Any:
        return self.choices[self.index(value)]

    def sample(self, rng: np.random.Generator) -> Any:
        p = None if self.weights is None else np.asarray(self.weights) / sum(self.weights)
        return self.choices[int(rng.choice(len(self.choices), p=p))]

    def contains(self, value: Any) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    def prior(self) -> str:
        kw = _kw([("default_value", self.default_value, None)])
        if self.weights is None:
            return f"choices({_fmt(list(self.choices))}{kw})"
        body = ", ".join(
            f"{_fmt(c)}: {_fmt(w)}" for c, w in zip(self.choices, self.weights, strict=True)
        )
        return f"choices({{{body}}}{kw})"


@dataclass(frozen=True)
class Fidelity:
    """The budget dimension of multi-fidelity algorithms (epochs, data size...)."""

    name: str
    low: float
    high: float
    base: float = 2

    def to_unit(self, value: float) -> float:
        if self.high == self.low:
            return 1.0
        return _clip_unit((float(value) - self.low) / (self.high - self.low))

    def from_unit(self, u: float) -> float:
        return self.cast(self.low + _clip_unit(u) * (self.high - self.low))

    def cast(self, value: float) -> float:
        v = min(max(value, self.low), self.high)
        if isinstance(self.low, int) and isinstance(self.high, int):
            return int(round(v))
        return float(v)

    def sample(self, rng: np.random.Generator) -> float:
        return self.high

    def contains(self, value: Any) -> bool:
        return _is_number(value) and self.low <= float(value) <= self.high

    def prior(self) -> str:
        kw = _kw([("base", self.base, 2)])
        return f"fidelity({_fmt(self.low)}, {_fmt(self.high)}{kw})"

    @property
    def cardinality(self) -> int:
        return 1


Dimension = Real | Integer | Normal | Categorical | Fidelity


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Space:
    """A search space: dimensions sorted by name."""

    dimensions: tuple[Dimension, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.dimensions, key=lambda d: d.name))
        object.__setattr__(self, "dimensions", ordered)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __getitem__(self, name: str) -> Dimension:
        for dim in self.dimensions:
            if dim.name == name:
                return dim
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    @property
    def fidelity(self) -> Fidelity | None:
        for dim in self.dimensions:
            if isinstance(dim, Fidelity):
                return dim
        return None

    @property
    def searched(self) -> tuple[Dimension, ...]:
        """The dimensions an algorithm searches (every one but the fidelity)."""
        return tuple(d for d in self.dimensions if not isinstance(d, Fidelity))

    @property
    def cardinality(self) -> float:
        """How many distinct points the space holds (inf unless all dimensions are finite)."""
        total: float = 1
        for dim in self.dimensions:
            total *= dim.cardinality
        return total

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        return {dim.name: dim.sample(rng) for dim in self.dimensions}

    def __contains__(self, params: object) -> bool:
        if not isinstance(params, dict) or set(params) != set(self.names):
            return False
        return all(dim.contains(params[dim.name]) for dim in self.dimensions)

    def to_unit(self, params: dict[str, Any]) -> list[float]:
        """The searched dimensions of `params` as a point of the unit cube."""
        return [dim.to_unit(params[dim.name]) for dim in self.searched]

    def from_unit(self, point: Any, fidelity: float | None = None) -> dict[str, Any]:
        """A point of the unit cube (searched dimensions) back to params; fidelity at its max."""
        params = {
            dim.name: dim.from_unit(float(u)) for dim, u in zip(self.searched, point, strict=False)
        }
        fid = self.fidelity
        if fid is not None:
            params[fid.name] = fid.high if fidelity is None else fidelity
        return params

    def priors(self) -> dict[str, str]:
        return {dim.name: dim.prior() for dim in self.dimensions}

    def defaults(self) -> dict[str, Any] | None:
        """The point made of every default_value, or None when some dimension has none."""
        out: dict[str, Any] = {}
        for dim in self.dimensions:
            if isinstance(dim, Fidelity):
                out[dim.name] = dim.high
                continue
            if dim.default_value is None:
                return None
            out[dim.name] = dim.default_value
        return out
