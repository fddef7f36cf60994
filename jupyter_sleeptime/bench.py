"""`jupyter sleeptime bench` (see the benchmark issue); filled in by the benchmark work."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="?", help="folder of notebooks")


def run(args: argparse.Namespace) -> int:
    raise SystemExit("bench is not implemented yet")
