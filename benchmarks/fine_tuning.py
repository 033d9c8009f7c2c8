"""Does fine-tuning from another dataset beat training from scratch, at equal steps? (3 seeds)

Pretrain a tagger on hls4ml-5class (g, q, W, Z, t), then train it on a small top-landscape training
set (QCD, top) three ways, each for the same number of epochs (so the same optimizer steps) and
seeds:

- `scratch`: a fresh model;
- `fine-tune`: `--init_from` the pretrained checkpoint (jetzoo.training.fine_tuning; the 5-class head is
  reset to 2 classes, everything else loaded);
- `head only`: the same, with `--freeze 'body.*'` (a linear probe of the pretrained features).

The target's test split (large, fixed) scores every run: AUC and 1/eps_B at eps_S = 0.5, mean ± σ
over the seeds, and the paired per-seed difference to `scratch` with its σ. Both files must use
the same high-level features: generate the pretraining file with the target's N-subjettiness axes
(`--tau-axes wta-kt`, top-landscape's default; hls4ml-5class's own default is exclusive-kt).

    jetzoo generate --recipe hls4ml-5class --n 10000 --seed 3 --tau-axes wta-kt \\
        --out .cache/hls4ml-5class-v2-seed3-n10000-wta.h5
    python benchmarks/fine_tuning.py --pretrain .cache/hls4ml-5class-v2-seed3-n10000-wta.h5 \\
        --target .cache/top-landscape-v2-seed0-n20000.h5 --out benchmarks/fine_tuning.md
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import lightning as L
import numpy as np
import torch

from jetzoo.bench.runs import predict_test
from jetzoo.training.fine_tuning import init_from_checkpoint
from jetzoo.metrics import evaluate
from jetzoo.registry import create_datamodule, get_model
from jetzoo.training import model_kwargs_from_data, quiet_trainer

ARMS = ("scratch", "fine-tune", "head only")


def datamodule(path: str, args, **split) -> L.LightningDataModule:
    """The file's jets in the model's view; `split`: its test/val fractions (default: the datamodule's)."""
    dm = create_datamodule("pythia", path=path, batch_size=args.batch_size, **split)
    dm.view = get_model(args.model).input_view
    return dm


def fresh(model_name: str, dm, seed: int):
    cls = get_model(model_name)
    L.seed_everything(seed, workers=True, verbose=False)
    return cls(**model_kwargs_from_data(cls, dm.dims))


def test_metrics(model, dm) -> dict[str, float]:
    logits, labels = predict_test(model, dm)  # the bench's prediction of the test split
    result = evaluate(logits, labels, list(model.class_names), list(dm.dims["background_classes"]), [0.5, 0.3])
    values = result.values()
    rej = next(k for k in values if k.startswith("rej50_") and k.endswith("_vs_bkg"))
    return {"auc": values["auc"], "rej50": values[rej], "test_jets": len(labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrain", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--pretrain-epochs", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5, help="epochs of every arm on the target")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--test-fraction", type=float, default=0.8)
    parser.add_argument("--val-fraction", type=float, default=0.1, help="the rest is the (small) training set")
    parser.add_argument("--out", default="benchmarks/fine_tuning.md")
    args = parser.parse_args()
    torch.set_num_threads(1)

    source = datamodule(args.pretrain, args)  # its default split: most of the file trains the pretrained model
    target = datamodule(args.target, args, test_fraction=args.test_fraction, val_fraction=args.val_fraction)
    source.setup("fit")
    target.setup("fit")
    results = {arm: [] for arm in ARMS}
    with tempfile.TemporaryDirectory() as tmp:
        pretrained = fresh(args.model, source, 1000)
        trainer = quiet_trainer(max_epochs=args.pretrain_epochs, limit_val_batches=0)
        trainer.fit(pretrained, datamodule=source)
        ckpt = Path(tmp) / "pretrained.ckpt"
        trainer.save_checkpoint(ckpt)
        for seed in range(args.seeds):
            for arm in ARMS:
                model = fresh(args.model, target, seed)
                if arm != "scratch":
                    freeze = ("body.*",) if arm == "head only" else ()
                    report = init_from_checkpoint(model, ckpt, freeze=freeze)
                    print(report.summary(arm), flush=True)
                L.seed_everything(seed, workers=True, verbose=False)  # the same batches in every arm
                quiet_trainer(max_epochs=args.epochs, limit_val_batches=0).fit(model, datamodule=target)
                results[arm].append(test_metrics(model, target))
                print(arm, seed, results[arm][-1], flush=True)

    def mean_sd(values, digits: int = 4):
        values = np.asarray(values, dtype=float)
        return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}" if len(values) > 1 else f"{values[0]:.{digits}f}"

    train_jets = target.split_sizes["train"]
    lines = [
        "# Fine-tuning against training from scratch, at equal steps",
        "",
        "Command: `python benchmarks/fine_tuning.py --pretrain {} --target {} --model {} --pretrain-epochs {} --epochs {} "
        "--seeds {} --test-fraction {} --val-fraction {} --out {}`".format(
            args.pretrain, args.target, args.model, args.pretrain_epochs, args.epochs, args.seeds, args.test_fraction,
            args.val_fraction, args.out),
        "",
        f"Pretraining: `{args.model}` on {source.split_sizes['train']} training jets of `{args.pretrain}` "
        f"(classes {', '.join(source.dims['class_names'])}), {args.pretrain_epochs} epochs. Target: "
        f"{train_jets} training jets of `{args.target}`, {args.epochs} epochs per arm (the same optimizer steps and "
        f"batches), tested on its {results['scratch'][0]['test_jets']} test jets. 1 CPU thread, batch {args.batch_size}.",
        "",
        "| arm | AUC (mean ± σ over seeds) | AUC − scratch (paired, mean ± σ) | 1/εB at εS = 0.5 | 1/εB − scratch |",
        "|---|---|---|---|---|",
    ]
    for arm in ARMS:
        auc = [r["auc"] for r in results[arm]]
        rej = [r["rej50"] for r in results[arm]]
        d_auc = np.subtract(auc, [r["auc"] for r in results["scratch"]])
        d_rej = np.subtract(rej, [r["rej50"] for r in results["scratch"]])
        delta = "—" if arm == "scratch" else mean_sd(d_auc)
        delta_rej = "—" if arm == "scratch" else mean_sd(d_rej, 1)
        lines.append(f"| {arm} | {mean_sd(auc)} | {delta} | {mean_sd(rej, 1)} | {delta_rej} |")
    from scipy.stats import ttest_rel

    lines += ["", "Significance (paired t-test over the seeds, two-sided, scipy.stats.ttest_rel; with 3 seeds only a "
              "large, consistent difference is significant):", ""]
    for arm in ARMS[1:]:
        p_auc = ttest_rel([r["auc"] for r in results[arm]], [r["auc"] for r in results["scratch"]]).pvalue
        p_rej = ttest_rel([r["rej50"] for r in results[arm]], [r["rej50"] for r in results["scratch"]]).pvalue
        verdict = "significant at p < 0.05" if min(p_auc, p_rej) < 0.05 else "not significant at p < 0.05"
        lines.append(f"- {arm} vs scratch: AUC p = {p_auc:.3f}, 1/εB p = {p_rej:.3f}: {verdict}")
    lines += ["", "Per seed (AUC, 1/εB at 0.5):", ""]
    for arm in ARMS:
        lines.append(f"- {arm}: " + "; ".join(f"seed {s}: {r['auc']:.4f}, {r['rej50']:.1f}" for s, r in enumerate(results[arm])))
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
