"""`jetzoo export --model NAME --ckpt_path C --format onnx|hls4ml --out PATH`.

The checkpoint is loaded weights-only (`jetzoo.training.checkpoints`) as the registry model NAME.
- `--format onnx`: the file described in `jetzoo.export.onnx`. After writing, it is run with
  onnxruntime on synthetic inputs of two batch sizes and particle counts and compared with PyTorch.
- `--format hls4ml`: an hls4ml project in the directory `--out` (`jetzoo.export.hls4ml`), for the
  dense taggers on high-level features; its C simulation is compiled with g++ and compared with
  PyTorch on 1000 standardised inputs.
`--check false` skips the comparison (and, for hls4ml, the compilation).

The command's arguments are `jetzoo.cli.export_arguments`: they are parsed, and refused in one line, before
this module (torch, onnx) is imported.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from jetzoo.errors import UsageError


def parity(model, path, num_particles: int = 16) -> float:
    """max |onnxruntime - PyTorch| over synthetic inputs of two batch sizes and particle counts."""
    from jetzoo.export.onnx import onnx_outputs
    from jetzoo.export.wrapper import INPUTS, example_inputs

    worst = 0.0
    model.eval()
    for repeat, p in ((1, num_particles), (3, num_particles + 7)):
        tensors = [t.repeat(repeat, *([1] * (t.dim() - 1))) for t in example_inputs(model, num_particles=p)]
        batch = dict(zip(INPUTS[model.input_view], tensors))
        with torch.no_grad():
            expected = model(batch).numpy()
        worst = max(worst, float(np.abs(onnx_outputs(path, batch) - expected).max()))
    return worst


def run_export_command(args: argparse.Namespace) -> int:
    from jetzoo.training.checkpoints import load_checkpoint_file, local_checkpoint_path
    from jetzoo.export.onnx import export_onnx
    from jetzoo.export.wrapper import export_blocker
    from jetzoo.registry import load_checkpoint

    if args.format == "onnx":
        try:
            import onnx  # noqa: F401
        except ImportError as err:
            raise UsageError("--format onnx needs the onnx package: pip install 'jetzoo[export]'") from err
    local = local_checkpoint_path(args.ckpt_path, args.allow_remote_checkpoint)
    checkpoint = load_checkpoint_file(local)
    model = load_checkpoint(args.model, str(local)).eval()
    if args.format == "hls4ml":
        return run_hls4ml_export(args, model, checkpoint, local)
    reason = export_blocker(model)
    if reason:
        raise UsageError(f"model '{args.model}' cannot be exported to {args.format}: {reason}")
    names = None
    if args.feature_names:
        key = "hl" if model.input_view == "hl" else "features"
        names = {key: [n.strip() for n in args.feature_names.split(",") if n.strip()]}
    try:
        metadata = export_onnx(model, args.out, checkpoint=checkpoint, ckpt_path=local, feature_names=names,
                               opset=args.opset)
    except ValueError as err:
        raise UsageError(str(err)) from err
    inputs = ", ".join(f"{i['name']}{tuple(i['shape'])}" for i in metadata["inputs"])
    print(f"jetzoo export: wrote {args.out} and {args.out}.json; inputs {inputs}")
    if not metadata["standardisation"]:
        print("jetzoo export: the checkpoint records no standardisation constants; inputs are used as given")
    if args.check:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            print("jetzoo export: onnxruntime is not installed; the file was not checked against PyTorch")
            return 0
        print(f"jetzoo export: onnxruntime vs PyTorch, 2 batch sizes and particle counts: max |diff| "
              f"{parity(model, args.out):.2e}")
    return 0


def run_hls4ml_export(args: argparse.Namespace, model, checkpoint: dict, local) -> int:
    from jetzoo.export.hls4ml import csim_parity, export_hls4ml

    try:
        hls_model, metadata = export_hls4ml(model, args.out, checkpoint=checkpoint, ckpt_path=local,
                                            precision=args.precision, reuse_factor=args.reuse_factor,
                                            compile_csim=args.check)
    except ValueError as err:
        raise UsageError(f"model '{args.model}' cannot be exported to hls4ml: {err}") from err
    resources = metadata["resources"]
    print(f"jetzoo export: wrote the hls4ml project {args.out}/ ({metadata['hls4ml_backend']} backend, "
          f"{args.precision}) and {args.out}/jetzoo.json; {resources['multiplications']} multiplications per jet "
          f"on {resources['multipliers']} multipliers (reuse factor {resources['reuse_factor']})")
    if args.check:
        check = csim_parity(model, hls_model)
        print(f"jetzoo export: C simulation vs PyTorch on {check['n']} standardised inputs: max |logit diff| "
              f"{check['max_abs_diff']:.2e}, same class for {100 * check['same_class']:.1f}%")
    return 0
