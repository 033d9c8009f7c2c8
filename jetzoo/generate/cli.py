"""`jetzoo generate` arguments and command (the main CLI registers them as a subcommand)."""

from __future__ import annotations

import argparse

from jetzoo.generate.api import DEFAULT_MAX_PARTICLES, ensure_generated, generate
from jetzoo.generate.recipes import DETECTOR_CHOICES, RECIPES, TAU_AXES_CHOICES

SEED_NOTE = (
    "Same seed, shared jets: chunk seeds depend only on (seed, class, chunk), so files of one recipe and "
    "seed share their jets (every jet of --n 2000 --seed 0 is also in --n 4000 --seed 0, in another order; "
    "that lets a dataset grow shard by shard). For independent train and test samples use different "
    "--seed values. A file already in the cache (same recipe version, seed, n, detector) is copied to --out, not "
    "regenerated."
)


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
    parser.epilog = SEED_NOTE
    recipes = ", ".join(f"{r.name} ({'/'.join(r.class_names)})" for r in RECIPES.values())
    parser.add_argument("--recipe", required=True, choices=sorted(RECIPES), help=f"what to generate: {recipes}")
    parser.add_argument("--n", required=True, type=_positive_int, help="number of jets (split evenly over the classes)")
    parser.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="random seed (default 0); files with the same seed share jets: use different seeds for "
        "independent samples",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output .h5 file, or a directory (a path ending in / or an existing directory) of shards "
        "part-00000.h5, ... and manifest.json, generated on Dask (default: the cache file <cache>/<recipe>-v<version>-seed<seed>-n<n>[...].h5, "
        "reused if present)",
    )
    parser.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: all cores)")
    parser.add_argument(
        "--max-particles",
        type=_positive_int,
        default=DEFAULT_MAX_PARTICLES,
        help=f"constituents kept per jet, hardest first (default {DEFAULT_MAX_PARTICLES})",
    )
    defaults = ", ".join(f"{r.name}: {r.tau_axes}" for r in RECIPES.values())
    parser.add_argument(
        "--tau-axes",
        choices=TAU_AXES_CHOICES,
        default=None,
        help=f"N-subjettiness axes for j_tau*_b1: winner-take-all kT or exclusive kT (default per recipe: {defaults})",
    )
    parser.add_argument(
        "--detector",
        choices=DETECTOR_CHOICES,
        default="none",
        help="detector simulation before clustering (default none: generator-level particles); atlas-like and "
        "cms-like follow Delphes' ATLAS and CMS cards (tracking efficiency and resolution, ECAL/HCAL towers, "
        "energy flow); the cache file name gets -det-<detector>",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="address of a running Dask scheduler (tcp://HOST:PORT) to generate the shards on; default: a local "
        "Dask cluster of --workers processes (needs --out DIR/)",
    )
    parser.add_argument(
        "--shard-jets", type=_positive_int, default=None,
        help="jets per shard with --out DIR/ (a multiple of the chunk size; default 10000)",
    )
    parser.add_argument(
        "--chunk-jets", type=_positive_int, default=None,
        help="jets per independently seeded Pythia run (default: the recipe's, 1000); another value makes other "
        "jets and is recorded in the files",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--no-progress", action="store_true", help="do not show the progress bar")


def run_generate_command(args: argparse.Namespace) -> int:
    tau_axes = getattr(args, "tau_axes", None)
    detector = getattr(args, "detector", None) or "none"
    extra = {k: getattr(args, k, None) for k in ("chunk_jets", "shard_jets", "scheduler")}
    if args.out is None and not args.overwrite and not any(v is not None for v in extra.values()):  # the cache file: reused when it reads, else (re)generated
        path = ensure_generated(
            args.recipe, args.n, args.seed, args.max_particles, args.workers, not args.no_progress, tau_axes,
            detector,
        )
        print(path)
        return 0
    path = generate(
        args.recipe,
        args.n,
        seed=args.seed,
        out=args.out,
        workers=args.workers,
        max_particles=args.max_particles,
        overwrite=args.overwrite,
        progress=not args.no_progress,
        tau_axes=tau_axes,
        detector=detector,
        **extra,
    )
    print(path)
    return 0
