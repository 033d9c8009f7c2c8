"""hls4ml C simulation against PyTorch, per fixed-point precision, on real test jets.

For the perceptron and the MLP (the committed jetzoo 0.1.0 MLP checkpoint, and a perceptron trained
here for 2 epochs on the same jets), `jetzoo.export.hls4ml.export_hls4ml` writes and compiles the
hls4ml project at each precision; the C simulation and PyTorch then score the standardised test jets
of `--data`: max |logit difference|, the fraction given the same class, and the test AUC of each
(sklearn's roc_auc_score on the top-vs-QCD score), with the multiplications per jet.

    python benchmarks/hls4ml_export.py --data .cache/top-landscape-v2-seed1-n4000.h5 \
        --out benchmarks/hls4ml_export.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from jetzoo.export.hls4ml import export_hls4ml
from jetzoo.registry import create_datamodule, get_model, load_checkpoint
from jetzoo.training import fit_and_test, model_kwargs_from_data

FIXTURE = Path(__file__).resolve().parents[1] / "tests/fixtures/mlp-jetzoo-0.1.0-top-landscape.ckpt"
PRECISIONS = ("ap_fixed<16,6>", "ap_fixed<12,4>", "ap_fixed<10,4>", "ap_fixed<8,3>")


def score(logits: np.ndarray) -> np.ndarray:
    return logits[:, 1] - logits[:, 0]  # the log-likelihood ratio of the softmax: monotone in p(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    dm = create_datamodule("pythia", path=str(args.data), view="hl", batch_size=4096)
    dm.setup("fit")
    test = [b for b in dm.test_dataloader()]
    hl, labels = torch.cat([b["hl"] for b in test]), torch.cat([b["label"] for b in test]).numpy()
    cls = get_model("perceptron")
    torch.manual_seed(0)  # the perceptron's initial weights
    perceptron = cls(**model_kwargs_from_data(cls, dm.dims))
    fit_and_test(perceptron, dm, max_epochs=2, limit_val_batches=0)
    models = {"perceptron": perceptron.eval(), "mlp": load_checkpoint("mlp", str(FIXTURE)).eval()}
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name, model in models.items():
            with torch.no_grad():
                reference = model({"hl": hl}).numpy()
            for precision in PRECISIONS:
                start = time.perf_counter()
                hls_model, meta = export_hls4ml(model, Path(work) / f"{name}-{precision[9:-1].replace(',', '-')}",
                                                precision=precision)
                seconds = time.perf_counter() - start
                got = np.asarray(hls_model.predict(np.ascontiguousarray(hl.numpy()))).reshape(reference.shape)
                rows.append((name, precision, float(np.abs(got - reference).max()),
                             float((got.argmax(1) == reference.argmax(1)).mean()),
                             roc_auc_score(labels, score(reference)), roc_auc_score(labels, score(got)),
                             meta["resources"]["multiplications"], seconds))
                print(rows[-1], flush=True)
    lines = [
        "# hls4ml C simulation against PyTorch",
        "",
        f"Command: `python {' '.join(sys.argv)}`",
        "",
        f"{len(labels)} standardised test jets (top vs QCD) of `{args.data.name}`; Vitis backend, io_parallel, "
        "reuse factor 1 (it changes the hardware schedule, not the numbers). AUC: sklearn on logit(top) - "
        "logit(QCD). The MLP is the committed jetzoo 0.1.0 checkpoint (1 epoch); the perceptron is trained "
        "here for 2 epochs.",
        "",
        "| model | precision | max abs logit diff | same class | AUC PyTorch | AUC C sim | multiplications / jet | export + g++ s |",
        "|---|---|---|---|---|---|---|---|",
        *[f"| {m} | `{p}` | {d:.4f} | {100 * s:.1f}% | {a:.4f} | {b:.4f} | {k} | {t:.1f} |"
          for m, p, d, s, a, b, k, t in rows],
        "",
        "Resources (LUT, FF, DSP, BRAM) are reported by hls4ml only after HLS synthesis with Vivado/Vitis "
        "HLS, which this machine does not have; the multiplications are the upper bound on DSPs at reuse "
        "factor 1.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
