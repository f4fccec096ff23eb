"""``ashasim dashboard RUN_DIR...`` (watch runs live in a browser) and ``ashasim report`` (the same
page as one self-contained HTML file)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ashasim.cli.common import UsageError, non_negative_int, usage_errors

__all__ = ["register"]

DEFAULT_PORT = 8050


def register(commands: Any) -> None:
    dashboard = commands.add_parser(
        "dashboard",
        help="watch runs in a browser as their journals grow (read-only, 127.0.0.1 by default)",
    )
    dashboard.add_argument(
        "runs",
        nargs="+",
        type=Path,
        metavar="RUN_DIR",
        help="run directories (or directories of them, e.g. one per scheduler)",
    )
    dashboard.add_argument(
        "--port",
        type=non_negative_int,
        default=DEFAULT_PORT,
        help=f"TCP port (default {DEFAULT_PORT}; 0: any free port)",
    )
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only; the page is read-only but "
        "shows configs and errors to whoever can reach it)",
    )
    dashboard.set_defaults(handler=run_dashboard)

    report = commands.add_parser(
        "report", help="write the dashboard page of runs as one self-contained HTML file"
    )
    report.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    report.add_argument(
        "-o", "--out", type=Path, default=Path("report.html"), help="default: report.html"
    )
    report.set_defaults(handler=run_report)


def run_dashboard(args: argparse.Namespace) -> int:
    from ashasim.dashboard import DashboardUnavailableError, RunSet, find_runs, make_server

    if args.port > 65535:
        raise UsageError(f"--port must be in 0..65535, got {args.port}")
    with usage_errors(DashboardUnavailableError, OSError):
        runs = RunSet(find_runs(args.runs))
        server = make_server(runs, args.host, args.port)
    names = ", ".join(run.name for run in runs.runs)
    print(f"ashasim dashboard: {names} at {server.url} (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("ashasim dashboard: stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0


def run_report(args: argparse.Namespace) -> int:
    from ashasim.dashboard import DashboardUnavailableError, write_report

    with usage_errors(DashboardUnavailableError, OSError):
        out = write_report(args.runs, args.out)
    print(f"wrote {out}")
    return 0
