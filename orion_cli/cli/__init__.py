"""The `orion` command group: commands load lazily; errors become one line and an exit code."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from orion_cli import __version__
from orion_cli.errors import EXIT_BUG, EXIT_INTERRUPTED, Interrupted, OrionError

_COMMANDS = {
    "hunt": "orion_cli.cli.hunt:hunt",
    "status": "orion_cli.cli.status:status",
    "list": "orion_cli.cli.status:list_experiments",
    "info": "orion_cli.cli.status:info",
    "db": "orion_cli.cli.db:db",
}

# One-line help of each command, so that `orion --help` imports none of them.
_SHORT_HELP = {
    "db": "Check, repair, compact or upgrade the storage.",
    "hunt": "Run trials of a script whose arguments carry priors.",
    "info": "Everything about one experiment.",
    "list": "The experiments in the storage.",
    "status": "Trials by status and the best objective of each experiment.",
}

_state = {"debug": False}


def debug_enabled() -> bool:
    return _state["debug"] or os.environ.get("ORION_DEBUG", "") not in ("", "0")


def set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        _state["debug"] = True
    return value


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=set_debug,
    help="Show tracebacks of errors.",
)


class OrionGroup(click.Group):
    """Imports a command only when it runs (keeps `orion --help` fast)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Interrupted as exc:
            _fail(exc, "interrupted", EXIT_INTERRUPTED)
        except OrionError as exc:
            _fail(exc, "error", exc.exit_code)
        except KeyboardInterrupt as exc:
            _fail(exc, "interrupted", EXIT_INTERRUPTED, "stopped by Ctrl-C")
        except Exception as exc:  # a bug: say so, point to --debug
            _fail(
                exc,
                "internal error",
                EXIT_BUG,
                f"{type(exc).__name__}: {exc} (re-run with --debug)",
            )


def _fail(exc: BaseException, prefix: str, code: int, message: str | None = None) -> None:
    from orion_cli.render import error_line

    if debug_enabled():
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    error_line(prefix, message or str(exc))
    sys.exit(code)


@click.group(cls=OrionGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="orion")
@debug_option
def cli() -> None:
    """orion: run hyperparameter sweeps of your own scripts.

    \b
    Annotate your script's arguments with priors and hunt:
      orion hunt -n exp --exp-max-trials 50 python train.py --lr~'loguniform(1e-5, 1.0)'
      orion status
    """


def main() -> None:
    cli(prog_name="orion")
