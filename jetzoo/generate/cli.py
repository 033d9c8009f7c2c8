"""`jetzoo generate` arguments and command (the main CLI registers them as a subcommand)."""

from __future__ import annotations

import argparse

from jetzoo.generate.api import DEFAULT_MAX_PARTICLES, default_dataset_path, generate
from jetzoo.generate.recipes import RECIPES


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    recipes = ", ".join(f"{r.name} ({'/'.join(r.class_names)})" for r in RECIPES.values())
    parser.add_argument("--recipe", required=True, choices=sorted(RECIPES), help=f"what to generate: {recipes}")
    parser.add_argument("--n", required=True, type=_positive_int, help="number of jets (split evenly over the classes)")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--out", default=None, help="output .h5 file (default: <cache>/<recipe>-v<version>-seed<seed>-n<n>.h5)"
    )
    parser.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: all cores)")
    parser.add_argument(
        "--max-particles",
        type=_positive_int,
        default=DEFAULT_MAX_PARTICLES,
        help=f"constituents kept per jet, hardest first (default {DEFAULT_MAX_PARTICLES})",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--no-progress", action="store_true", help="do not show the progress bar")


def run_generate_command(args: argparse.Namespace) -> int:
    out = args.out or default_dataset_path(args.recipe, args.n, args.seed, args.max_particles)
    path = generate(
        args.recipe,
        args.n,
        seed=args.seed,
        out=out,
        workers=args.workers,
        max_particles=args.max_particles,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    print(path)
    return 0
