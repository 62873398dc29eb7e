"""The command group: lazy commands, help text, one place for errors."""

from __future__ import annotations

import importlib

from click.testing import CliRunner

from orion_cli.cli import _COMMANDS, _SHORT_HELP, cli


def test_every_command_has_a_short_help_and_its_own_help():
    assert set(_SHORT_HELP) == set(_COMMANDS)
    for name, target in _COMMANDS.items():
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        assert command.help, name
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_top_help_lists_commands_without_importing_them():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name, text in _SHORT_HELP.items():
        assert name in result.output and text in result.output


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2 and "No such command" in result.output
