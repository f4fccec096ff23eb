"""Command-line interface: ``ashasim simulate | compare | tune | plot | reproduce``.

Argument parsing and output only; every command delegates to the library. One module per command
(``simulate``, ``compare``, ``tune``, ``plot``: plot and reproduce); exit statuses in ``common``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ashasim import __version__
from ashasim.cli import compare, dashboard, import_run, plot, simulate, tune
from ashasim.cli.common import Parser, UsageError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="ashasim",
        description="Simulate and run synchronous SH, ASHA and Hyperband on N workers.",
    )
    parser.add_argument("--version", action="version", version=f"ashasim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (simulate, compare, tune, plot, import_run, dashboard):
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C while starting up, before a command runs
        print("\nashasim: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    from ashasim.driver import RunError

    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a bad flag
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.handler(args) or 0)
    except UsageError as error:
        print(f"ashasim {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nashasim {args.command}: interrupted", file=sys.stderr)
        return 130
    except RunError as error:
        print(f"ashasim {args.command}: error: {error}", file=sys.stderr)
        return 1
