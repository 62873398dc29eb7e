"""Priors such as "loguniform(1e-5, 1.0)" parsed into dimensions, via an ast whitelist, never eval.

Grammar: a call of one of PRIOR_NAMES whose arguments are literals (numbers, strings,
True/False/None, lists, tuples and dicts of those, unary minus on a number). The canonical form
of a dimension is its `prior()` (core/space.py), and `parse_prior(d.name, d.prior()) == d`.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from orion_cli.core.space import Categorical, Dimension, Fidelity, Integer, Normal, Real, Space
from orion_cli.errors import PriorSyntaxError, SpaceError

PRIOR_NAMES = ("uniform", "loguniform", "normal", "gaussian", "randint", "choices", "fidelity")
DEFAULT_PRECISION = 4
WEIGHT_TOLERANCE = 1e-6
_MAX_DEPTH = 3  # choices([...]) nests one level; anything deeper is not a prior
_EXAMPLE = "e.g. loguniform(1e-5, 1.0)"


@dataclass(frozen=True)
class _Pairs:
    """A dict literal kept as its (key, value) pairs, so that duplicate keys stay visible."""

    items: tuple[tuple[Any, Any], ...]


class _NotLiteral(Exception):
    """A node of the prior that is not a literal value."""

    def __init__(self, node: ast.AST) -> None:
        super().__init__(ast.unparse(node))


@dataclass(frozen=True)
class _Prior:
    """One prior being parsed: where it came from, for the messages."""

    name: str
    text: str
    function: str

    def fail(self, problem: str, fix: str) -> NoReturn:
        raise PriorSyntaxError(f"{prefix(self.name, self.text)}: {problem}: {fix}")


def prefix(name: str, text: str) -> str:
    """The start of every message about a prior: `--lr~'loguniform(0, 1)'` (always one line)."""
    shown = text.replace("\n", "\\n").replace("\r", "\\r")
    return f"--{name}~'{shown}'"


def parse_prior(name: str, text: str) -> Dimension:
    """Parse the prior `text` of the dimension `name`.

    Args:
        name: the dimension's name (an option name or a config key path).
        text: the prior, e.g. `loguniform(1e-5, 1.0)` or `choices(['a', 'b'])`.

    Returns:
        The dimension: Real, Integer, Normal, Categorical or Fidelity.

    Raises:
        PriorSyntaxError: malformed or inconsistent prior; one line naming `--name~'text'`.
    """
    call = _parse_call(name, text)
    function = call.func.id  # type: ignore[attr-defined]  # _parse_call checked it is a Name
    prior = _Prior(name, text, function)
    args = [_value(prior, node) for node in call.args]
    kwargs: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            prior.fail(
                f"**{ast.unparse(keyword.value)} is not allowed", f"write the keywords, {_EXAMPLE}"
            )
        if keyword.arg in kwargs:
            prior.fail(f"keyword {keyword.arg} is given twice", "give it once")
        kwargs[keyword.arg] = _value(prior, keyword.value)
    return _BUILDERS[function](prior, args, kwargs)


def build_space(priors: Mapping[str, str]) -> Space:
    """The space of the dimensions `{name: prior text}`.

    Raises:
        PriorSyntaxError: a prior is malformed (the message names it).
        SpaceError: no prior at all, an empty name, or more than one fidelity dimension.
    """
    if not priors:
        raise SpaceError(
            "the search space has no dimension: declare at least one prior, "
            "e.g. --lr~'loguniform(1e-5, 1.0)'"
        )
    dims = []
    for name, text in priors.items():
        if not isinstance(name, str) or not name:
            raise SpaceError(f"dimension name {name!r} is empty: give every prior a name")
        dims.append(parse_prior(name, text))
    fidelities = sorted(d.name for d in dims if isinstance(d, Fidelity))
    if len(fidelities) > 1:
        raise SpaceError(
            f"the search space has {len(fidelities)} fidelity dimensions "
            f"({', '.join(fidelities)}): keep one"
        )
    return Space(tuple(dims))


def _parse_call(name: str, text: str) -> ast.Call:
    """The single whitelisted call `text` is made of (its arguments are checked later)."""
    prior = _Prior(name, text, "")
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" and the like: not ours
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        prior.fail(f"not a valid prior ({exc.msg})", f"write name(arguments), {_EXAMPLE}")
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        prior.fail(f"not a valid prior ({reason})", f"write name(arguments), {_EXAMPLE}")
    call = tree.body
    if not isinstance(call, ast.Call):
        prior.fail(
            f"{ast.unparse(call)} is not a prior",
            f"write one of {', '.join(PRIOR_NAMES)} with its arguments, {_EXAMPLE}",
        )
    if not isinstance(call.func, ast.Name) or call.func.id not in PRIOR_NAMES:
        prior.fail(
            f"unknown prior {ast.unparse(call.func)}", f"use one of {', '.join(PRIOR_NAMES)}"
        )
    for node in call.args:
        if isinstance(node, ast.Starred):
            prior.fail(f"{ast.unparse(node)} is not allowed", "write the arguments one by one")
    return call


def _value(prior: _Prior, node: ast.expr) -> Any:
    try:
        return _literal(node, 0)
    except _NotLiteral as exc:
        prior.fail(
            f"{exc} is not a literal",
            "write numbers, strings, True, False, None, or lists and dicts of them",
        )


def _literal(node: ast.expr, depth: int) -> Any:
    """The value of a literal node; anything else (names, calls, operators) is refused."""
    if depth > _MAX_DEPTH:
        raise _NotLiteral(node)
    if isinstance(node, ast.Constant) and _is_scalar(node.value):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        operand = node.operand.value
        if isinstance(node.op, (ast.USub, ast.UAdd)) and _is_number(operand):
            number: int | float = operand  # type: ignore[assignment]  # checked just above
            return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, ast.List):
        return [_literal(e, depth + 1) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e, depth + 1) for e in node.elts)
    if isinstance(node, ast.Dict):
        pairs = []
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:  # {**other}
                raise _NotLiteral(node)
            pairs.append((_literal(key, depth + 1), _literal(value, depth + 1)))
        return _Pairs(tuple(pairs))
    raise _NotLiteral(node)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    """`'a' (a string)`: a value and its kind, for messages."""
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    kinds.update({list: "a list", tuple: "a tuple", _Pairs: "a dict", type(None): "None"})
    shown = "{...}" if isinstance(value, _Pairs) else repr(value)
    return f"{shown} ({kinds.get(type(value), type(value).__name__)})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# -- argument checks shared by the builders ---------------------------------------------------


def _arity(prior: _Prior, args: list[Any], signature: str, counts: tuple[int, ...]) -> None:
    if len(args) not in counts:
        prior.fail(
            f"{prior.function} takes ({signature}), got {_count(len(args), 'argument')}",
            f"write {prior.function}({signature})",
        )


def _keywords(prior: _Prior, kwargs: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in kwargs:
        if key not in allowed:
            valid = ", ".join(allowed) if allowed else "none"
            prior.fail(f"{prior.function} has no keyword {key}", f"use {valid}")


def _number(prior: _Prior, value: Any, what: str) -> int | float:
    if not _is_number(value):
        prior.fail(f"{what} must be a number, got {_describe(value)}", "write a number")
    if isinstance(value, float) and not math.isfinite(value):
        prior.fail(f"{what} must be finite, got {value!r}", "use a finite number")
    if isinstance(value, int) and abs(value) > 2**1023:
        prior.fail(f"{what} is too large ({len(str(abs(value)))} digits)", "use a smaller number")
    return value  # type: ignore[no-any-return]


def _integer(prior: _Prior, value: Any, what: str, why: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        prior.fail(f"{why} needs integer bounds, got {what}={_describe(value)}", "use integers")
    return _number(prior, value, what)  # type: ignore[return-value]


def _flag(prior: _Prior, kwargs: Mapping[str, Any], key: str) -> bool:
    value = kwargs.get(key, False)
    if not isinstance(value, bool):
        prior.fail(f"{key} must be True or False, got {_describe(value)}", f"write {key}=True")
    return value


def _precision(prior: _Prior, kwargs: Mapping[str, Any]) -> int | None:
    value = kwargs.get("precision", DEFAULT_PRECISION)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        prior.fail(
            f"precision must be a positive integer or None, got {_describe(value)}",
            "write e.g. precision=4 (significant digits) or precision=None (full precision)",
        )
    return value


def _with_default(prior: _Prior, dim: Dimension, kwargs: Mapping[str, Any]) -> Dimension:
    """`dim` with its default_value, checked against the prior."""
    value = kwargs.get("default_value")
    if value is None or isinstance(dim, Fidelity):
        return dim
    if not isinstance(dim, Categorical):
        _number(prior, value, "default_value")
    if not dim.contains(value):
        prior.fail(f"default_value={value!r} {_outside(dim)}", "use a value of the prior")
    if isinstance(dim, Categorical):
        return replace(dim, default_value=dim.cast(value))
    if isinstance(dim, Integer) or (isinstance(dim, Normal) and dim.discrete):
        return replace(dim, default_value=int(value))
    return replace(dim, default_value=float(value))


def _outside(dim: Dimension) -> str:
    """Why a default value is not in `dim`, for messages."""
    if isinstance(dim, Categorical):
        return f"is not one of the choices {list(dim.choices)!r}"
    if isinstance(dim, Normal):
        return "is not an integer (discrete=True)"
    if isinstance(dim, Integer):
        return f"is not an integer in [{dim.low}, {dim.high}]"
    return f"is outside [{dim.low!r}, {dim.high!r}]"


# -- one builder per prior name ---------------------------------------------------------------


def _uniform(prior: _Prior, args: list[Any], kwargs: dict[str, Any]) -> Dimension:
    """uniform/loguniform(low, high, discrete=False, precision=4, default_value=None)."""
    _arity(prior, args, "low, high", (2,))
    _keywords(prior, kwargs, ("discrete", "precision", "default_value"))
    log = prior.function == "loguniform"
    discrete = _flag(prior, kwargs, "discrete")
    low, high = _number(prior, args[0], "low"), _number(prior, args[1], "high")
    if log and low <= 0:
        prior.fail(f"loguniform needs 0 < low < high, got low={low!r}", "use a positive low bound")
    if low >= high:
        bounds = "0 < low < high" if log else "low < high"
        prior.fail(
            f"{prior.function} needs {bounds}, got low={low!r}, high={high!r}",
            "give a low bound smaller than the high bound",
        )
    if discrete:
        if "precision" in kwargs:
            prior.fail("precision applies to real values, not discrete=True", "drop precision")
        why = f"{prior.function} with discrete=True"
        low, high = _integer(prior, low, "low", why), _integer(prior, high, "high", why)
        return _with_default(prior, Integer(prior.name, low, high, log=log), kwargs)
    real = Real(prior.name, float(low), float(high), log=log, precision=_precision(prior, kwargs))
    return _with_default(prior, real, kwargs)


def _normal(prior: _Prior, args: list[Any], kwargs: dict[str, Any]) -> Dimension:
    """normal/gaussian(mu, sigma, discrete=False, precision=4, default_value=None)."""
    _arity(prior, args, "mu, sigma", (2,))
    _keywords(prior, kwargs, ("discrete", "precision", "default_value"))
    mu, sigma = _number(prior, args[0], "mu"), _number(prior, args[1], "sigma")
    if sigma <= 0:
        prior.fail(
            f"{prior.function} needs sigma > 0, got sigma={sigma!r}",
            "use a positive standard deviation",
        )
    dim = Normal(
        prior.name,
        float(mu),
        float(sigma),
        discrete=_flag(prior, kwargs, "discrete"),
        precision=_precision(prior, kwargs),
    )
    return _with_default(prior, dim, kwargs)


def _randint(prior: _Prior, args: list[Any], kwargs: dict[str, Any]) -> Dimension:
    """randint(low, high, default_value=None): integers low <= v < high."""
    _arity(prior, args, "low, high", (2,))
    _keywords(prior, kwargs, ("default_value",))
    low = _integer(prior, args[0], "low", "randint")
    high = _integer(prior, args[1], "high", "randint")
    if low >= high:
        prior.fail(
            f"randint needs low < high (high is excluded), got low={low!r}, high={high!r}",
            "give a low bound smaller than the high bound",
        )
    return _with_default(prior, Integer(prior.name, low, high - 1), kwargs)


def _fidelity(prior: _Prior, args: list[Any], kwargs: dict[str, Any]) -> Dimension:
    """fidelity(low, high, base=2): the budget of multi-fidelity algorithms (Oríon's rules)."""
    _arity(prior, args, "low, high, base=2", (2, 3))
    _keywords(prior, kwargs, ("base",))
    if len(args) == 3 and "base" in kwargs:
        prior.fail("base is given twice", "give it once")
    low, high = _number(prior, args[0], "low"), _number(prior, args[1], "high")
    base = _number(prior, args[2] if len(args) == 3 else kwargs.get("base", 2), "base")
    if low <= 0:
        prior.fail(f"fidelity needs 0 < low, got low={low!r}", "use a positive minimum budget")
    if low > high:
        prior.fail(
            f"fidelity needs low <= high, got low={low!r}, high={high!r}",
            "give a minimum budget no larger than the maximum",
        )
    if base < 1:
        prior.fail(f"fidelity needs base >= 1, got base={base!r}", "use a base of 1 or more")
    return Fidelity(prior.name, low, high, base)


def _choices(prior: _Prior, args: list[Any], kwargs: dict[str, Any]) -> Dimension:
    """choices([...]), choices('a', 'b', ...) or choices({'a': 0.7, 'b': 0.3}) (weights)."""
    _keywords(prior, kwargs, ("default_value",))
    raw_weights: list[Any] | None = None
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        values = list(args[0])
    elif len(args) == 1 and isinstance(args[0], _Pairs):
        values = [key for key, _ in args[0].items]
        raw_weights = [weight for _, weight in args[0].items]
    elif any(isinstance(arg, (list, tuple, _Pairs)) for arg in args):
        prior.fail(
            "choices takes one list, one dict, or the values themselves, "
            f"got {_count(len(args), 'argument')}",
            "write choices(['a', 'b']) or choices({'a': 0.7, 'b': 0.3})",
        )
    else:
        values = list(args)
    if not values:
        prior.fail("choices has no value", "give at least one, e.g. choices(['a', 'b'])")
    seen: set[tuple[type, Any]] = set()
    for value in values:
        if not _is_scalar(value):
            prior.fail(
                f"a choice must be a number, string, True, False or None, got {_describe(value)}",
                "list plain values",
            )
        if isinstance(value, float):
            _number(prior, value, "a choice")
        if (type(value), value) in seen:
            prior.fail(f"choices has {value!r} twice", "list each value once")
        seen.add((type(value), value))
    weights = None if raw_weights is None else _weights(prior, raw_weights)
    return _with_default(prior, Categorical(prior.name, tuple(values), weights), kwargs)


def _weights(prior: _Prior, raw: list[Any]) -> tuple[float, ...]:
    weights = tuple(float(_number(prior, w, "a choice's weight")) for w in raw)
    for weight in weights:
        if weight < 0:
            prior.fail(f"choices weights must not be negative, got {weight!r}", "use weights >= 0")
    total = math.fsum(weights)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        prior.fail(
            f"choices weights must sum to 1, got {total!r}", "adjust the weights to sum to 1"
        )
    return weights


_Builder = Callable[[_Prior, list[Any], dict[str, Any]], Dimension]
_BUILDERS: dict[str, _Builder] = {
    "uniform": _uniform,
    "loguniform": _uniform,
    "normal": _normal,
    "gaussian": _normal,
    "randint": _randint,
    "choices": _choices,
    "fidelity": _fidelity,
}
