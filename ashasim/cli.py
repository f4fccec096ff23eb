"""Command-line interface: argument parsing only; every command delegates to the library."""

from __future__ import annotations

import argparse
import sys

from ashasim import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ashasim",
        description="Simulate and run synchronous SH, ASHA and Hyperband.",
    )
    parser.add_argument("--version", action="version", version=f"ashasim {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(sys.argv[1:] if argv is None else argv)
    parser.print_help()
    return 0
