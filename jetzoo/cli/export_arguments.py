"""`jetzoo export`'s arguments, apart from the export itself (`jetzoo.export.cli`) so that a mistake on the
command line is refused before torch and onnx are imported (0.2 s instead of 3 s)."""

from __future__ import annotations

import argparse

FORMATS = ("onnx", "hls4ml")


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got '{text}'")


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="registry short name of the checkpoint's model")
    parser.add_argument("--ckpt_path", required=True, help="checkpoint written by `jetzoo fit`")
    parser.add_argument("--format", default="onnx", choices=FORMATS)
    parser.add_argument("--out", required=True, help="onnx: file to write, its metadata to OUT.json as well; "
                        "hls4ml: the project directory (metadata in OUT/jetzoo.json)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--precision", default="ap_fixed<16,6>", help="hls4ml: fixed-point type (default ap_fixed<16,6>)")
    parser.add_argument("--reuse_factor", type=int, default=1, help="hls4ml: multiplications per multiplier (default 1)")
    parser.add_argument("--feature_names", default=None,
                        help="comma-separated input feature names, when the checkpoint does not record them")
    parser.add_argument("--check", type=_bool, default=True, help="compare onnxruntime with PyTorch (default true)")
    parser.add_argument("--allow_remote_checkpoint", type=_bool, default=False)
