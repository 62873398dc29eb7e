"""Algorithms by name, and how to build one from Oríon's config forms."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from orion_cli.core.algorithms.base import Algorithm, Suggestion
from orion_cli.core.space import Space
from orion_cli.errors import AlgorithmError

# name -> (module, class, optional extra that the module needs)
ALGORITHMS: dict[str, tuple[str, str, str | None]] = {
    "random": ("orion_cli.core.algorithms.random", "Random", None),
    "gridsearch": ("orion_cli.core.algorithms.gridsearch", "GridSearch", None),
    "tpe": ("orion_cli.core.algorithms.tpe", "TPE", None),
    "hyperband": ("orion_cli.core.algorithms.hyperband", "Hyperband", None),
    "asha": ("orion_cli.core.algorithms.asha", "ASHA", None),
    "gp": ("orion_cli.core.algorithms.gp", "GaussianProcessBO", "gp"),
}

# tpe: best across tests/benchmarks/QUALITY.md with the core dependencies alone (gp needs scipy)
DEFAULT_ALGORITHM = "tpe"

__all__ = ["ALGORITHMS", "Algorithm", "Suggestion", "normalize", "make_algorithm"]


def normalize(config: Any) -> dict[str, dict[str, Any]]:
    """Oríon's forms (`"tpe"`, `{"tpe": {...}}`, `{"of_type": "tpe", ...}`) -> {name: options}."""
    if config is None:
        return {DEFAULT_ALGORITHM: {}}
    if isinstance(config, str):
        return {config.strip().lower(): {}}
    if isinstance(config, dict):
        if "of_type" in config:
            options = {k: v for k, v in config.items() if k != "of_type"}
            return {str(config["of_type"]).lower(): options}
        if len(config) == 1:
            ((name, options),) = config.items()
            if options is None:
                options = {}
            if not isinstance(options, dict):
                raise AlgorithmError(
                    f"algorithm {name!r}: options must be a mapping, got {options!r}: "
                    f"write `algorithm: {{{name}: {{seed: 1}}}}`"
                )
            return {str(name).lower(): dict(options)}
    raise AlgorithmError(
        f"invalid algorithm configuration {config!r}: write a name (`algorithm: random`) or "
        "one name with its options (`algorithm: {random: {seed: 1}}`)"
    )


def algorithm_class(name: str) -> type:
    if name not in ALGORITHMS:
        raise AlgorithmError(
            f"unknown algorithm {name!r}: choose one of {', '.join(sorted(ALGORITHMS))}"
        )
    module, cls, extra = ALGORITHMS[name]
    try:
        return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]
    except ImportError as exc:
        if extra is None:
            raise
        raise AlgorithmError(
            f"algorithm {name!r} needs the optional dependency {exc.name!r}: "
            f"pip install 'orion-cli[{extra}]'"
        ) from exc


def make_algorithm(space: Space, config: Any) -> Algorithm:
    """Build the algorithm named by `config` for `space`, refusing unknown options."""
    ((name, options),) = normalize(config).items()
    cls = algorithm_class(name)
    valid = [
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise AlgorithmError(
            f"algorithm {name!r} has no option {', '.join(map(repr, unknown))}: "
            f"valid options are {', '.join(valid)}"
        )
    try:
        return cls(space, **options)  # type: ignore[no-any-return]
    except (TypeError, ValueError) as exc:
        raise AlgorithmError(f"algorithm {name!r}: {exc}: check its options") from exc
