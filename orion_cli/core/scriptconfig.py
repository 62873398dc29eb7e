"""Script config files given to the user script: find their priors, render them for one trial.

YAML and JSON: any string value `orion~PRIOR`, at any depth, is a dimension named by its key path
joined with "/" (`model/lr`, `layers/0`). Any other file is text, with markers `name~PRIOR(...)`
(`lr: lr~loguniform(1e-5, 1.0)`). Pure: text in, text out; the caller reads and writes files.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from orion_cli.core.cmdline import PRIOR_MARK, format_value, substitute
from orion_cli.core.priors import PRIOR_NAMES, parse_prior, prefix
from orion_cli.errors import ConfigError, PriorSyntaxError, SpaceError

FORMATS = ("yaml", "json", "text")
_MARKER = re.compile(r"(?<![\w/.])([A-Za-z_][\w/.-]*)~(" + "|".join(PRIOR_NAMES) + r")\s*\(")


@dataclass(frozen=True)
class ConfigTemplate:
    """A parsed script config: its priors and what rendering needs."""

    format: str  # "yaml", "json" or "text"
    priors: dict[str, str]  # key path joined with "/" ("model/lr") -> prior text
    text: str  # the file as given
    document: Any = None  # yaml/json: the parsed document
    markers: tuple[tuple[int, int, str], ...] = ()  # text: (start, end, name) of each marker


def config_format(path: str) -> str:
    """The format of a script config by its extension: "yaml", "json", or "text"."""
    extension = os.path.splitext(path)[1].lower()
    if extension in (".yaml", ".yml"):
        return "yaml"
    if extension == ".json":
        return "json"
    return "text"


def parse_config(text: str, fmt: str, *, source: str = "the script config") -> ConfigTemplate:
    """Parse a script config and find its priors.

    Args:
        text: the content of the file.
        fmt: "yaml", "json" or "text" (see `config_format`).
        source: how messages name the file, e.g. its path.

    Raises:
        ConfigError: unreadable YAML or JSON (the message gives the line and column).
        PriorSyntaxError: a prior does not parse.
        SpaceError: a prior (key path or marker name) is declared twice.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown script config format {fmt!r}; expected one of {FORMATS}")
    if fmt == "text":
        return _parse_text(text, source)
    document = _load(text, fmt, source)
    priors: dict[str, str] = {}
    for name, prior in _find_priors(document, ()):
        if not name:
            raise ConfigError(
                f"{source} has a prior with no key ({PRIOR_MARK}{prior}): "
                f"put it under a key, e.g. lr: {PRIOR_MARK}{prior}"
            )
        if name in priors:
            raise SpaceError(f"prior {name!r} is declared twice in {source}: declare it once")
        parse_prior(name, prior)
        priors[name] = prior
    return ConfigTemplate(fmt, priors, text, document)


def render_config(
    template: ConfigTemplate, params: Mapping[str, Any], context: Mapping[str, str]
) -> str:
    """The script config of one trial: each prior replaced by its value, templates substituted.

    A YAML or JSON document that needs no change comes back as the text given (comments kept);
    otherwise it is dumped again (yaml.safe_dump, json.dumps with indent=2).

    Raises:
        KeyError: `params` lacks a dimension of the template (a bug of the caller).
    """
    if template.format == "text":
        return _render_text(template, params, context)
    document = _render(template.document, (), params, context)
    if not template.priors and document == template.document:
        return template.text
    if template.format == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    import yaml  # lazily: importing this module stays cheap

    text = str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    if "\x85" in text:  # PyYAML writes NEL as is, then reads it back as a line break
        text = str(yaml.safe_dump(document, sort_keys=False))
    return text


def merge_priors(
    a: Mapping[str, str],
    b: Mapping[str, str],
    *,
    where: tuple[str, str] = ("on the command line", "in the script config"),
) -> dict[str, str]:
    """The priors of `a` and `b` together.

    Raises:
        SpaceError: a dimension is declared in both (the message names every one).
    """
    both = sorted(set(a) & set(b))
    if both:
        names = ", ".join(repr(name) for name in both)
        plural = "s" if len(both) > 1 else ""
        raise SpaceError(
            f"prior{plural} {names} declared both {where[0]} and {where[1]}: declare each once"
        )
    return {**a, **b}


def _load(text: str, fmt: str, source: str) -> Any:
    """The document of a YAML or JSON text; ConfigError with the line and column if unreadable."""
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source} is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                f"{exc.colno}): fix the syntax there"
            ) from None
    import yaml  # lazily: importing this module stays cheap

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = _yaml_problem(exc)
        raise ConfigError(
            f"{source} is not valid YAML ({problem}): fix the syntax there"
        ) from None


def _yaml_problem(exc: Exception) -> str:
    """One line from a PyYAML error: what the parser expected, found, and where."""
    words = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    problem = ", ".join(str(w) for w in words if w) or str(exc)
    problem = " ".join(problem.split())
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return problem
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"


def _find_priors(node: Any, path: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(name, prior text) of every `orion~` string under `node`, depth first, in order."""
    if isinstance(node, str) and node.startswith(PRIOR_MARK):
        yield "/".join(path), node[len(PRIOR_MARK) :]
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _find_priors(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _find_priors(value, (*path, str(index)))


def _render(
    node: Any, path: tuple[str, ...], params: Mapping[str, Any], context: Mapping[str, str]
) -> Any:
    """A copy of `node` with each prior replaced by its value and templates substituted."""
    if isinstance(node, str):
        if node.startswith(PRIOR_MARK):
            value = _native(params["/".join(path)])
            return substitute(value, context) if isinstance(value, str) else value
        return substitute(node, context)
    if isinstance(node, dict):
        return {k: _render(v, (*path, str(k)), params, context) for k, v in node.items()}
    if isinstance(node, list):
        return [_render(v, (*path, str(i)), params, context) for i, v in enumerate(node)]
    return node


def _native(value: Any) -> Any:
    """numpy scalars as Python values, which yaml.safe_dump and json.dumps accept."""
    return value.item() if isinstance(value, np.generic) else value


def _parse_text(text: str, source: str) -> ConfigTemplate:
    """Find the `name~prior(...)` markers of a text config."""
    priors: dict[str, str] = {}
    markers: list[tuple[int, int, str]] = []
    for match in _MARKER.finditer(text):
        if markers and match.start() < markers[-1][1]:
            continue  # inside the previous marker, e.g. in a choice's string
        name = match.group(1)
        end = _closing(text, match.end() - 1)
        if end < 0:
            line = text[match.start(2) :].splitlines()[0]
            raise PriorSyntaxError(
                f"{prefix(name, line)}: the parenthesis of {match.group(2)} is never closed "
                f"in {source}: close it"
            )
        prior = text[match.start(2) : end]
        if name == "orion":
            raise PriorSyntaxError(
                f"{prefix(name, prior)}: a prior in a text config needs its own name, not "
                f"orion~: write e.g. lr~{prior}"
            )
        if name in priors:
            raise SpaceError(f"prior {name!r} is declared twice in {source}: declare it once")
        parse_prior(name, prior)
        priors[name] = prior
        markers.append((match.start(), end, name))
    return ConfigTemplate("text", priors, text, None, tuple(markers))


def _closing(text: str, start: int) -> int:
    """The index just past the parenthesis closing the one at `start`, or -1; quotes respected."""
    depth = 0
    quote = ""
    i = start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _render_text(
    template: ConfigTemplate, params: Mapping[str, Any], context: Mapping[str, str]
) -> str:
    parts: list[str] = []
    position = 0
    for start, end, name in template.markers:
        parts.append(substitute(template.text[position:start], context))
        parts.append(substitute(format_value(params[name]), context))
        position = end
    parts.append(substitute(template.text[position:], context))
    return "".join(parts)
