"""The user's command line: find its priors (`--lr~'loguniform(1e-5, 1.0)'`), render it per trial.

Forms that declare a prior: `--lr~PRIOR`, `-x~PRIOR`, `--lr orion~PRIOR` and `--lr=orion~PRIOR`.
Every other token reaches the child unchanged, except the script config's value (replaced by the
trial's copy) and the fixed templates of TEMPLATE_KEYS (`{trial.id}`, ...), substituted literally.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from orion_cli.core.priors import parse_prior
from orion_cli.errors import ConfigError, PriorSyntaxError, SpaceError

TEMPLATE_KEYS = (
    "exp.name",
    "exp.version",
    "exp.working_dir",
    "trial.id",
    "trial.working_dir",
    "trial.hash_params",
)
PRIOR_MARK = "orion~"

_TEMPLATE = re.compile("|".join(re.escape("{" + key + "}") for key in TEMPLATE_KEYS))
# An option name starts with a letter or an underscore and holds no `=`, `~` or space.
_NAME = r"[^\W\d][^\s=~]*"
_PRIOR_INLINE = re.compile(rf"(--?)({_NAME})~(.*)\Z", re.S)  # --lr~uniform(0, 1)
_PRIOR_JOINED = re.compile(rf"(--?)({_NAME})={re.escape(PRIOR_MARK)}(.*)\Z", re.S)
_OPTION = re.compile(rf"(--?)({_NAME})\Z", re.S)  # --lr, then orion~uniform(0, 1)
_PYTHON = re.compile(r"(python|pypy)[\d.]*(\.exe)?\Z", re.I)
_PYTHON_OPTIONS_WITH_VALUE = ("-W", "-X", "--check-hash-based-pycs")


@dataclass(frozen=True)
class ParsedCommand:
    """What the user's argv declares."""

    argv: tuple[str, ...]  # the user's argv unchanged (stored in the experiment)
    priors: dict[str, str]  # dimension name -> prior text, e.g. {"lr": "loguniform(1e-5, 1.0)"}
    config_path: str | None  # value given to --<user_script_config>, None if absent


@dataclass(frozen=True)
class _Slot:
    """A part of argv that renders differently for each trial: a prior or the script config."""

    index: int  # position in argv
    width: int  # how many argv tokens it covers (1 or 2)
    option: str  # the option as the user spelled it: "--lr", "-x", "--config"
    joined: bool  # rendered as one token "--lr=VALUE" rather than "--lr", "VALUE"
    name: str  # the dimension's name ("" for the script config)
    text: str  # the prior text, or the config path


def parse_commandline(argv: Sequence[str], user_script_config: str = "config") -> ParsedCommand:
    """Find the priors and the script config of the user's command line.

    Args:
        argv: the user's command, program first (`python script.py --lr~'uniform(0, 1)'`).
        user_script_config: the option naming the script config file (`config` -> `--config`).

    Raises:
        PriorSyntaxError: an option declares a prior that does not parse.
        SpaceError: a prior is declared twice.
        ConfigError: the script config option is given twice.
    """
    priors: dict[str, str] = {}
    config_path: str | None = None
    for slot in _scan(argv, user_script_config):
        if not slot.name:
            if config_path is not None:
                raise ConfigError(
                    f"--{_config_option(user_script_config)} is given twice "
                    f"({config_path!r} and {slot.text!r}): give the script config once"
                )
            config_path = slot.text
            continue
        if slot.name in priors:
            raise SpaceError(
                f"prior {slot.name!r} is declared twice on the command line: declare it once"
            )
        try:
            parse_prior(slot.name, slot.text)
        except PriorSyntaxError as exc:
            # Name the option as the user spelled it (`-x~...`, not `--x~...`).
            message, long_form = str(exc), f"--{slot.name}~"
            if slot.option != f"--{slot.name}" and message.startswith(long_form):
                raise PriorSyntaxError(f"{slot.option}~{message[len(long_form) :]}") from None
            raise
        priors[slot.name] = slot.text
    return ParsedCommand(tuple(argv), priors, config_path)


def render_commandline(
    argv: Sequence[str],
    params: Mapping[str, Any],
    context: Mapping[str, str],
    *,
    config_copy: str | None = None,
    user_script_config: str = "config",
) -> list[str]:
    """The argv of one trial: each prior replaced by its value, templates substituted.

    Args:
        argv: the user's argv as given to `parse_commandline`.
        params: the trial's value of every dimension declared in argv (extra keys are ignored).
        context: values of TEMPLATE_KEYS (`{"trial.id": ...}`); a key left out stays as written.
        config_copy: the path of the trial's copy of the script config, which replaces the
            config option's value; None keeps the user's path.
        user_script_config: the option naming the script config file.

    Raises:
        KeyError: `params` lacks a dimension declared in argv (a bug of the caller).
    """
    slots = {slot.index: slot for slot in _scan(argv, user_script_config)}
    out: list[str] = []
    i = 0
    while i < len(argv):
        slot = slots.get(i)
        if slot is None:
            out.append(argv[i])
            i += 1
            continue
        if slot.name:
            if slot.name not in params:
                raise KeyError(f"params have no value for the dimension {slot.name!r}")
            value = format_value(params[slot.name])
        else:
            value = slot.text if config_copy is None else config_copy
        out.extend([f"{slot.option}={value}"] if slot.joined else [slot.option, value])
        i += slot.width
    return [substitute(arg, context) for arg in out]


def format_value(value: Any) -> str:
    """A parameter value as a command-line argument: 3, 0.0123, 1e-05, adam, True."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    return str(value)


def substitute(text: str, context: Mapping[str, str]) -> str:
    """Replace each `{key}` of TEMPLATE_KEYS found in `context` by its value, in one pass.

    Literal replacement, never `str.format`: other braces (JSON, `{x}`) stay as they are, and a
    substituted value is never scanned again.
    """
    if "{" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        key = match.group(0)[1:-1]
        return str(context[key]) if key in context else match.group(0)

    return _TEMPLATE.sub(replace, text)


def _config_option(user_script_config: str) -> str:
    return user_script_config.lstrip("-")


def _program_length(argv: Sequence[str]) -> int:
    """How many leading tokens are the program: `prog`, or `python [options] script.py`."""
    if not argv:
        return 0
    if not _PYTHON.match(os.path.basename(argv[0])):
        return 1
    i = 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        token = argv[i]
        if token in ("-m", "-c"):
            return min(i + 2, len(argv))
        if token.startswith(("-m", "-c")) and not token.startswith("--"):
            return i + 1  # -mpackage
        i += 2 if token in _PYTHON_OPTIONS_WITH_VALUE else 1
    return min(i + 1, len(argv))  # the script (or `-` for stdin)


def _scan(argv: Sequence[str], user_script_config: str) -> list[_Slot]:
    """The slots of argv, in order; prior texts are not parsed here."""
    config = _config_option(user_script_config)
    slots: list[_Slot] = []
    i = _program_length(argv)
    while i < len(argv):
        token = argv[i]
        following = argv[i + 1] if i + 1 < len(argv) else None
        slot = _slot(i, token, following, config)
        if slot is not None:
            slots.append(slot)
            i += slot.width
        else:
            i += 1
    return slots


def _slot(i: int, token: str, following: str | None, config: str) -> _Slot | None:
    """The slot that starts with `token` at position i, or None if it passes through."""
    match = _PRIOR_INLINE.match(token)
    if match:
        dashes, name, text = match.groups()
        if not text or text.startswith("/"):  # --out~ or a home path: --out~/data
            return None
        return _Slot(i, 1, dashes + name, False, name, _unquote(text))
    match = _PRIOR_JOINED.match(token)
    if match:
        dashes, name, text = match.groups()
        return _Slot(i, 1, dashes + name, True, name, _unquote(text))
    if config and token.startswith(f"--{config}="):
        return _Slot(i, 1, f"--{config}", True, "", token[len(config) + 3 :])
    if config and token == f"--{config}" and following is not None:
        return _Slot(i, 2, token, False, "", following)
    match = _OPTION.match(token)
    if match and following is not None and following.startswith(PRIOR_MARK):
        return _Slot(i, 2, token, False, match.group(2), _unquote(following[len(PRIOR_MARK) :]))
    return None


def _unquote(text: str) -> str:
    """The prior without one pair of quotes around it (argv given without a shell keeps them)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
