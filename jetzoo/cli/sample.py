"""`jetzoo sample --model NAME --ckpt_path CKPT --n N --out FILE.hdf5 [--classes g,t] [--seed S]`: jets from a
trained generator, in JetNet's published layout (`jetzoo.datamodules.jetnet_writer`), which the `jetnet`
datamodule and the JetNet metrics read as they read a published file.

The N jets are shared equally among the classes (the first ones get the remainder); a generator trained
without class conditioning samples the one kind of jet it learnt, so it takes a single class. The clouds are
relative (eta_rel, phi_rel, pT_rel); `jet_features` gives each jet pT = --jet_pt (default: the model's
`default_jet_pt`), eta 0, its mass = (m / pT of the cloud) x pT and its multiplicity. Provenance attributes:
the checkpoint's sha256, the model's registry name and class path, the seed, the jetzoo version.

A command of the `cli` room: its arguments and their checks import neither torch nor Lightning, so a mistake
on the command line is answered at once; the checkpoint, torch and the writer are imported once they pass.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from jetzoo.errors import UsageError


def add_sample_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="registry short name of the checkpoint's generator")
    parser.add_argument("--ckpt_path", required=True, help="checkpoint written by `jetzoo fit`")
    parser.add_argument("--n", type=int, required=True, help="number of jets")
    parser.add_argument("--out", required=True, help="the .hdf5 / .h5 file to write (replaced whole if it exists)")
    parser.add_argument("--classes", default=None, help="comma-separated classes (default: every class of the model)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generator's noise (default 0)")
    parser.add_argument("--batch_size", type=int, default=1024)
    parser.add_argument("--jet_pt", type=float, default=None, help="jet pT written in jet_features (GeV)")
    parser.add_argument("--allow_remote_checkpoint", action="store_true")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def class_labels(model, classes: str | None, n: int) -> np.ndarray:
    """The class index of each of the n jets: shared equally among the classes asked for."""
    names = list(model.class_names)
    if not getattr(model, "conditional", False) and len(names) > 1:
        raise UsageError(f"--model {type(model).__name__}: trained without class conditioning on {', '.join(names)} "
                         "jets, it samples their mixture without labels, and the JetNet layout gives every jet a type; "
                         "train it on one class (--data.classes) or with --model.conditional true")
    wanted = names if classes is None else [c.strip() for c in classes.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in names]
    if unknown or not wanted:
        raise UsageError(f"--classes {classes}: {', '.join(unknown) or 'no class'} not among the model's classes "
                         f"({', '.join(names)})")
    counts = [n // len(wanted) + (i < n % len(wanted)) for i in range(len(wanted))]
    return np.concatenate([np.full(k, names.index(c)) for c, k in zip(wanted, counts)])


def run_sample_command(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise UsageError(f"--n must be a positive number of jets, got {args.n}")
    if args.batch_size < 1:
        raise UsageError(f"--batch_size must be positive, got {args.batch_size}")
    out = Path(args.out)
    if out.suffix.lower() not in (".hdf5", ".h5"):
        raise UsageError(f"--out {args.out}: the JetNet layout is an HDF5 file; name it .hdf5 or .h5")

    import torch

    from jetzoo import __version__
    from jetzoo.datamodules.jetnet_writer import write_jetnet
    from jetzoo.registry import load_checkpoint
    from jetzoo.registry.checkpoints import registry_name
    from jetzoo.training.checkpoints import local_checkpoint_path

    local = local_checkpoint_path(args.ckpt_path, args.allow_remote_checkpoint)
    model = load_checkpoint(args.model, str(local)).eval()
    if getattr(model, "task", None) != "generation":
        raise UsageError(f"--model {args.model}: a {getattr(model, 'task', 'unknown')} model; jetzoo sample needs a "
                         "generator (jetzoo models lists them, task 'generation')")
    labels = class_labels(model, args.classes, args.n)
    generator = torch.Generator().manual_seed(args.seed)
    clouds, masks = [], []
    start = time.perf_counter()
    with torch.no_grad():
        for chunk in np.array_split(labels, max(1, -(-len(labels) // args.batch_size))):
            cloud, mask = model.sample(torch.as_tensor(chunk, dtype=torch.long), generator)
            clouds.append(cloud.float().numpy())
            masks.append(mask.numpy())
    seconds = time.perf_counter() - start
    cloud, mask = np.concatenate(clouds), np.concatenate(masks).astype(bool)
    pt = args.jet_pt if args.jet_pt is not None else float(model.default_jet_pt)
    class_path = f"{type(model).__module__}.{type(model).__qualname__}"
    attrs = {"generator": args.model, "generator_class": class_path, "registry_name": registry_name(class_path) or "",
             "checkpoint_sha256": _file_sha256(local), "seed": args.seed, "jetzoo_version": __version__,
             "class_names": list(model.class_names)}
    write_jetnet(out, cloud, mask, list(model.class_names), labels, pt, attrs)
    print(f"jetzoo sample: wrote {len(cloud):,} jets ({', '.join(sorted({model.class_names[i] for i in labels}))}) to "
          f"{out} in {seconds:.1f} s ({1e6 * seconds / len(cloud):.0f} µs a jet)")
    return 0
