"""jetzoo's ParticleNet and Particle Transformer side by side with weaver-core's reference modules.

For each configuration the two implementations get the same hyper-parameters (k, EdgeConv
widths, fusion, dense layers; embedding / pair-embedding widths, heads, blocks, class blocks),
the same input features and the same batches of real generated jets (top-landscape recipe, read
by jetzoo's `pythia` datamodule, particles view). Measured on the CPU:

* training throughput: forward + cross-entropy + backward, jets/s;
* inference throughput: forward under `torch.no_grad()` in eval mode, jets/s;

each as the median over repeats in which ours and theirs alternate (so load from other processes
on the machine hits both alike), and the ratio ours / theirs. For ParticleNet a third variant,
torch-geometric's `EdgeConv` on the same kNN graph, documents why jetzoo uses its own gather
formulation. Then both models of each family are trained with the same recipe (AdamW, cosine
schedule, same seed, epochs, batch size) on the same split and their held-out AUCs compared.

Weaver's modules take [B, C, P] tensors; `WeaverTagger` below is the thin JetTagger adapter.

    python benchmarks/weaver_comparison.py            # writes weaver_comparison.{md,csv} here
    python benchmarks/weaver_comparison.py --quick    # fewer repeats, timings only
    python benchmarks/weaver_comparison.py --parts transplant   # redo one part, keep the others
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from jetzoo.training import fit_and_test
from jetzoo.zoo.base import JetTagger
from jetzoo.zoo.particlenet import ParticleNet
from jetzoo.zoo.transformer import ParticleTransformer

HERE = Path(__file__).resolve().parent
os.environ.setdefault("JETZOO_CACHE", str(HERE.parent / ".cache"))  # the test suite's generated jets
logging.getLogger("weaver").setLevel(logging.WARNING)


# --- the adapter and the torch-geometric variant ----------------------------------------------------
class WeaverTagger(JetTagger):
    """A weaver-core module behind the JetTagger contract (particles view -> [B, C, P] tensors)."""

    input_view = "particles"

    def __init__(self, family: str, num_classes: int = 2, num_particle_features: int = 7, lr: float = 1e-3,
                 weight_decay: float = 1e-4, scheduler: str = "cosine", **kwargs):
        super().__init__(num_classes, None, lr, weight_decay, scheduler)
        self.family = family
        if family == "particlenet":
            from weaver.nn.model.ParticleNet import ParticleNet as WeaverParticleNet

            self.net = WeaverParticleNet(num_particle_features, num_classes, **kwargs)
        else:
            from weaver.nn.model.ParticleTransformer import ParticleTransformer as WeaverParT

            self.net = WeaverParT(num_particle_features, num_classes, **kwargs)

    def forward(self, batch):
        feats = batch["features"].transpose(1, 2).contiguous()
        mask = batch["mask"][:, None].to(feats.dtype)
        if self.family == "particlenet":
            return self.net(batch["points"].transpose(1, 2).contiguous(), feats, mask)
        return self.net(feats, batch["p4"].transpose(1, 2).contiguous(), mask)


class PyGEdgeConvBlock(nn.Module):
    """The same EdgeConv as `EdgeConvBlock`, through torch_geometric.nn.EdgeConv (mean aggregation)
    on an explicit edge_index: the MLP runs on cat(x_i, x_j - x_i) for every edge."""

    def __init__(self, in_features: int, widths: list[int]):
        super().__init__()
        from torch_geometric.nn import EdgeConv

        layers, c_in = [], 2 * in_features
        for width in widths:
            layers += [nn.Linear(c_in, width, bias=False), nn.BatchNorm1d(width), nn.ReLU()]
            c_in = width
        self.conv = EdgeConv(nn.Sequential(*layers), aggr="mean")
        self.shortcut = (nn.Identity() if in_features == widths[-1] else
                         nn.Sequential(nn.Linear(in_features, widths[-1], bias=False), nn.BatchNorm1d(widths[-1])))

    def forward(self, h, nbr, weight):
        valid = weight > 0
        target = torch.arange(len(h), device=h.device)[:, None].expand_as(nbr)
        edge_index = torch.stack([nbr[valid], target[valid]])
        return F.relu(self.shortcut(h) + self.conv(h, edge_index))


def pyg_particlenet(**kwargs) -> ParticleNet:
    model = ParticleNet(**kwargs)
    widths = model.hparams.conv_widths or None
    from jetzoo.zoo.particlenet import CONFIGS

    widths = widths or CONFIGS[model.hparams.config]["conv_widths"]
    c_in = model.hparams.num_particle_features
    for i, w in enumerate(widths):
        model.backbone.blocks[i] = PyGEdgeConvBlock(c_in, list(w))
        c_in = w[-1]
    return model


# --- matched configurations -----------------------------------------------------------------------
def particlenet_pair(config: str, features: int):
    from jetzoo.zoo.particlenet import CONFIGS

    cfg = CONFIGS[config]
    weaver_kwargs = dict(conv_params=[(cfg["k"], tuple(w)) for w in cfg["conv_widths"]],
                         fc_params=[(w, 0.1) for w in cfg["fc_widths"]], use_fusion=True)
    return (lambda: ParticleNet(num_particle_features=features, config=config),
            lambda: WeaverTagger("particlenet", num_particle_features=features, **weaver_kwargs))


def transformer_pair(config: str, features: int):
    from jetzoo.zoo.transformer import CONFIGS

    cfg = CONFIGS[config]
    weaver_kwargs = dict(embed_dims=tuple(cfg["embed_dims"]), pair_embed_dims=tuple(cfg["pair_embed_dims"]),
                         num_heads=cfg["num_heads"], num_layers=cfg["num_blocks"],
                         num_cls_layers=cfg["num_class_blocks"], fc_params=())
    return (lambda: ParticleTransformer(num_particle_features=features, config=config),
            lambda: WeaverTagger("transformer", num_particle_features=features, **weaver_kwargs))


# --- timing ---------------------------------------------------------------------------------------
def _train_call(model, batch):
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(batch), batch["label"]).backward()


@torch.no_grad()
def _infer_call(model, batch):
    model(batch)


def interleaved(models: dict[str, nn.Module], batches: list[dict], repeats: int, train: bool,
                bf16: frozenset = frozenset()) -> dict[str, float]:
    """Median seconds per batch for each model, the models alternating inside every repeat; the models named in
    `bf16` run under bf16 autocast (jetzoo's `--trainer.precision bf16-mixed`), the others in fp32."""
    call = _train_call if train else _infer_call

    def run(name, model, batch):
        with torch.autocast("cpu", torch.bfloat16) if name in bf16 else contextlib.nullcontext():
            call(model, batch)

    for name, model in models.items():
        model.train(train)
        for batch in batches[:3] * 2:  # warm-up (weaver's sequence trimmer needs 5 training calls)
            run(name, model, batch)
    times: dict[str, list[float]] = {name: [] for name in models}
    for r in range(repeats):
        batch = batches[r % len(batches)]
        for name, model in models.items():
            start = time.perf_counter()
            run(name, model, batch)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def speed_rows(dm, cases, repeats: int, precisions=("fp32",), thread_rows=(1,)) -> list[dict]:
    """One row per (case, mode, threads, precision, implementation). fp32: every implementation in fp32, the
    like-for-like comparison; bf16: jetzoo under bf16 autocast against weaver-core in fp32 in the same run (jetzoo's
    throughput at equal accuracy, valid where benchmarks/bf16-accuracy shows it)."""
    rows = []
    for case, batch_size, factories in cases:
        loader = torch.utils.data.DataLoader(dm.datasets["test"], batch_size=batch_size, shuffle=False,
                                             collate_fn=dm._collate)
        batches = [b for _, b in zip(range(4), loader)]
        torch.manual_seed(0)
        models = {name: make() for name, make in factories.items()}
        params = {name: sum(p.numel() for p in m.parameters()) for name, m in models.items()}
        for threads in thread_rows:
            torch.set_num_threads(threads)
            for precision in precisions:
                bf16 = frozenset({"jetzoo"}) if precision == "bf16" else frozenset()
                timed = models if precision == "fp32" else {k: models[k] for k in ("jetzoo", "weaver")}
                for mode, train in (("train fwd+bwd", True), ("inference", False)):
                    med = interleaved(timed, batches, repeats, train, bf16)
                    for name, sec in med.items():
                        rows.append({"part": "speed", "case": case, "mode": mode, "batch": batch_size, "impl": name,
                                     "threads": threads, "precision": "bf16" if name in bf16 else "fp32",
                                     "params": params[name], "jets_per_s": round(batch_size / sec, 1),
                                     "ratio_vs_weaver": round(med["weaver"] / sec, 2), "auc": ""})
                        print(rows[-1], flush=True)
    torch.set_num_threads(thread_rows[0])
    return rows


def auc_rows(dm_factory, families, epochs: int, seeds: int) -> list[dict]:
    rows = []
    for case, factories, lr in families:
        for seed in range(seeds):
            for name in ("jetzoo", "weaver"):
                dm = dm_factory()
                torch.manual_seed(seed)
                model = factories[name]()
                model.lr = lr
                start = time.perf_counter()
                metrics = fit_and_test(model, dm, max_epochs=epochs, seed=seed, limit_val_batches=0)
                rows.append({"part": "auc", "case": case, "mode": f"{epochs} epochs, lr {lr}, seed {seed}",
                             "batch": dm.batch_size, "impl": name, "params": sum(p.numel() for p in model.parameters()),
                             "jets_per_s": "", "ratio_vs_weaver": "", "auc": round(metrics["test/auc"], 4),
                             "fit_s": round(time.perf_counter() - start, 1)})
                print(rows[-1], flush=True)
    return rows


# --- same weights: is the difference only the random initialisation? ------------------------------
def part_state_from_weaver(net: nn.Module) -> dict[str, torch.Tensor]:
    """weaver ParticleTransformer state dict -> jetzoo ParticleTransformer state dict (the biases of
    weaver's 1x1 convolutions in front of pair-embedding batch norms are dropped: they cancel in
    training-mode batch norm; pair features reordered from weaver's (ln kT, ln z, ln Δ, ln m²))."""
    perm = [2, 0, 1, 3]
    state, out = net.state_dict(), {}
    for key, value in state.items():
        if key.startswith("embed."):
            out[key.replace("embed.input_bn", "input_bn").replace("embed.embed", "embed")] = value
        elif key.startswith("pair_embed.embed."):
            index, name = int(key.split(".")[2]), key.split(".")[3]
            if state[key.rsplit(".", 1)[0] + ".weight"].dim() == 3:  # a 1x1 convolution
                if name == "bias":
                    continue
                value = value.squeeze(-1)[:, perm] if index == 1 else value.squeeze(-1)
            elif index == 0 and name != "num_batches_tracked":
                value = value[perm]
            out[f"pair_embed.{index}.{name}"] = value
        elif key.startswith(("blocks.", "cls_blocks.")):
            out[key.replace("cls_blocks", "class_blocks").replace("c_attn", "attn.head_scale")
                .replace("w_resid", "resid_scale")] = value
        else:
            out[{"fc.0.weight": "head.weight", "fc.0.bias": "head.bias"}.get(key, key)] = value
    return out


def transplant_rows(dm_factory, part_lite, epochs: int, seeds: int) -> list[dict]:
    """ParT lite: (1) weaver's weights loaded into jetzoo's model give the same logits (eval);
    (2) jetzoo trained from weaver's initial weights, per seed, next to weaver's own AUC."""
    rows, dm = [], dm_factory()
    batch = next(iter(torch.utils.data.DataLoader(dm.datasets["test"], batch_size=128, collate_fn=dm._collate)))
    torch.manual_seed(0)
    theirs, ours = part_lite[1](), part_lite[0]()
    with torch.no_grad():  # non-trivial running statistics first
        for _ in range(6):
            theirs(batch)
        for conv in theirs.net.pair_embed.embed:  # zero the dropped biases so eval-mode batch norm agrees
            if isinstance(conv, nn.Conv1d):
                conv.bias.zero_()
        ours.load_state_dict(part_state_from_weaver(theirs.net))
        diff = (ours.eval()(batch) - theirs.eval()(batch)).abs().max().item()
    rows.append({"part": "transplant", "case": "ParT lite", "mode": "eval logits, weaver's weights in jetzoo",
                 "batch": 128, "impl": "max abs logit difference", "params": 0, "auc": f"{diff:.1e}"})
    print(rows[-1], flush=True)
    for seed in range(seeds):
        torch.manual_seed(seed)
        theirs, ours = part_lite[1](), part_lite[0]()
        ours.load_state_dict(part_state_from_weaver(theirs.net))
        ours.lr = 1e-3
        start = time.perf_counter()
        metrics = fit_and_test(ours, dm_factory(), max_epochs=epochs, seed=seed, limit_val_batches=0)
        rows.append({"part": "transplant", "case": "ParT lite", "mode": f"{epochs} epochs, lr 0.001, seed {seed}",
                     "batch": 128, "impl": "jetzoo from weaver's initial weights",
                     "params": sum(p.numel() for p in ours.parameters()), "auc": round(metrics["test/auc"], 4),
                     "fit_s": round(time.perf_counter() - start, 1)})
        print(rows[-1], flush=True)
    return rows


# --- report ---------------------------------------------------------------------------------------
FIELDS = ["part", "case", "mode", "batch", "impl", "threads", "precision", "params", "jets_per_s", "ratio_vs_weaver",
          "auc", "fit_s", "command"]


def merged_rows(rows: list[dict], parts: set[str]) -> list[dict]:
    """The new rows, plus the rows of the parts not run this time from the existing CSV."""
    path, kept = HERE / "weaver_comparison.csv", []
    if path.exists():
        with open(path, newline="") as f:
            kept = [r for r in csv.DictReader(f) if r["part"] not in parts and "command" in r]
        for r in kept:
            r["params"] = int(r["params"])
            r["auc"] = float(r["auc"]) if r["auc"] and r["part"] == "auc" else r["auc"]
    order = ["speed", "auc", "transplant"]
    return sorted(kept + rows, key=lambda r: order.index(r["part"]))


def write_report(rows, args, env: str, n_jets: int):
    with open(HERE / "weaver_comparison.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS, restval="")
        writer.writeheader()
        writer.writerows(rows)
    commands = [f"`{c}` ({', '.join(dict.fromkeys(r['part'] for r in rows if r['command'] == c))})"
                for c in dict.fromkeys(r["command"] for r in rows)]
    lines = [
        "# jetzoo vs weaver-core: ParticleNet and Particle Transformer",
        "",
        f"Commands (parts): {'; '.join(commands)}  ",
        f"Environment: {env}  ",
        f"Data: {n_jets} generated top-landscape jets (Pythia 8 + FastJet), `pythia` datamodule, "
        f"particles view, {args.num_particles} particles, 7 features; batches taken from the test split.",
        "",
        "Throughput is the median over repeats in which the implementations alternate on the same "
        "batch, so that load from other processes hits both alike; only the ratios (measured in one run) "
        "are meaningful. The speed rows are run with the machine's background jobs paused (SIGSTOP); "
        "their spread over three such runs, and issue 21's targets, are in weaver_spread.md. "
        "The `threads` column is the torch threads of each row; `bf16` rows run jetzoo under bf16 "
        "autocast against weaver-core in fp32. "
        "`ratio` = jets/s of the implementation / jets/s of weaver-core.",
        "",
        "| case | batch | mode | threads | precision | implementation | params | jets/s | ratio vs weaver (fp32) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['case']} | {r['batch']} | {r['mode']} | {r.get('threads') or 1} | {r.get('precision') or 'fp32'} | "
              f"{r['impl']} | {r['params']:,} | {r['jets_per_s']} | {r['ratio_vs_weaver']} |"
              for r in rows if r["part"] == "speed"]
    auc = [r for r in rows if r["part"] == "auc"]
    if auc:
        lines += ["", "Held-out AUC, both trained with the same recipe on the same split:", "",
                  "| case | recipe | batch | implementation | params | test AUC | fit+test seconds |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['case']} | {r['mode']} | {r['batch']} | {r['impl']} | {r['params']:,} | {r['auc']} | "
                  f"{r['fit_s']} |" for r in auc]
        lines += ["", "Mean ± standard deviation over the seeds:", "",
                  "| case | implementation | test AUC |", "|---|---|---|"]
        for case in dict.fromkeys(r["case"] for r in auc):
            for impl in ("jetzoo", "weaver"):
                values = [r["auc"] for r in auc if r["case"] == case and r["impl"] == impl]
                spread = statistics.stdev(values) if len(values) > 1 else 0.0
                mean = statistics.mean(values)
                lines.append(f"| {case} | {impl} | {mean:.4f} ± {spread:.4f} ({len(values)} runs) |")
    swap = [r for r in rows if r["part"] == "transplant"]
    if swap:
        lines += ["", "ParT lite with identical weights (weights of weaver's module loaded into jetzoo's):", "",
                  "| check | implementation | result | fit+test seconds |", "|---|---|---|---|"]
        lines += [f"| {r['mode']} | {r['impl']} | {r['auc']} | {r.get('fit_s', '')} |" for r in swap]
    lines += ["", NOTES]
    (HERE / "weaver_comparison.md").write_text("\n".join(lines) + "\n")


NOTES = """Notes

* Same configuration means: ParticleNet k, EdgeConv widths, fusion layer, dense widths and dropout,
  input batch norm, mean aggregation over neighbours, average pooling over real particles;
  ParT embedding and pair-embedding widths, heads, blocks, class blocks, FFN ratio 4, dropout 0.1,
  the four pairwise features. Parameter counts agree to within the biases weaver keeps in front of
  batch norms.
* Where the implementations differ: jetzoo runs ParticleNet on the packed real particles
  (no work and no batch-norm statistics on padding; the first edge-MLP layer Θ (x_i, x_j - x_i)
  evaluated as (Θ_1 - Θ_2) x_i + Θ_2 x_j, per particle rather than per edge; batch norms folded
  into the linear maps in eval mode); weaver computes on the dense [B, C, P, k] tensor.
  jetzoo's ParT computes the pair features for real i <= j pairs only (weaver computes them for
  all P x P pairs, then embeds the real ones of one triangle, as jetzoo does), embeds the
  particles without the padding, and builds the SDPA mask (pair bias + key padding) once per
  batch instead of once per block; its dropout masks come from `rand` instead of Bernoulli
  sampling (same distribution, about half the CPU time), with attention written out in training
  (attention dropout rules out the fused SDPA kernels there anyway). Weaver's sequence trimmer,
  in training mode, shuffles particles and cuts P to a random 90-102 % quantile of the batch
  multiplicities (dropping some particles of the longest jets), jetzoo cuts P to the largest
  multiplicity (lossless); in inference both cut to the largest.
* `jetzoo-pyg` is jetzoo's ParticleNet with its EdgeConv blocks replaced by
  `torch_geometric.nn.EdgeConv` (mean aggregation) on the same kNN graph: the reason the package
  uses its own gather formulation. (pyg-lib / torch-cluster are not installed, so kNN is always
  jetzoo's dense top-k.)
* AUC: 2 800 training jets and 2 epochs is a short, noisy recipe (800 test jets); differences
  below about two standard deviations of the seed spread are not significant. The ParT
  transplant rows separate implementation from initialisation: with weaver's weights jetzoo's
  model gives the same logits, and trained from weaver's initial weights it lands where weaver
  does for the same seed, so the ParT spread across seeds comes from the initial draw."""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="generated top-landscape HDF5 (default: generate / reuse the test cache)")
    parser.add_argument("--n-jets", type=int, default=4000)
    parser.add_argument("--num-particles", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier timings on a shared CPU)")
    parser.add_argument("--full-part", action="store_true", help="also time the full-size ParT")
    parser.add_argument("--seeds", type=int, default=3, help="trainings per implementation in the AUC part")
    parser.add_argument("--parts", default="speed,auc,transplant",
                        help="comma-separated subset of speed,auc,transplant (other parts' rows are kept "
                             "from the existing CSV)")
    parser.add_argument("--transplant-seeds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="3 repeats, timings only")
    parser.add_argument("--precisions", default="fp32,bf16",
                        help="fp32 (every implementation) and/or bf16 (jetzoo under autocast vs weaver-core in fp32)")
    parser.add_argument("--thread-rows", default="1,2", help="torch threads of the speed rows, one set of rows each")
    args = parser.parse_args(argv)
    command = "python benchmarks/weaver_comparison.py " + " ".join(sys.argv[1:] if argv is None else argv)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    from jetzoo.registry import create_datamodule

    path = args.data
    if path is None:
        from jetzoo.generate import ensure_generated

        path = str(ensure_generated(recipe="top-landscape", n=args.n_jets, seed=1))

    def datamodule():
        dm = create_datamodule("pythia", path=path, batch_size=128, num_particles=args.num_particles,
                               view="particles")
        dm.setup("fit")
        dm.setup("test")
        return dm

    dm = datamodule()
    nf = dm.dims["num_particle_features"]
    pn_lite, pn_full = particlenet_pair("lite", nf), particlenet_pair("full", nf)
    part_lite, part_full = transformer_pair("lite", nf), transformer_pair("full", nf)
    cases = [
        ("ParticleNet lite", 128, {"jetzoo": pn_lite[0], "weaver": pn_lite[1],
                                   "jetzoo-pyg": lambda: pyg_particlenet(num_particle_features=nf, config="lite")}),
        ("ParticleNet full", 32, {"jetzoo": pn_full[0], "weaver": pn_full[1],
                                  "jetzoo-pyg": lambda: pyg_particlenet(num_particle_features=nf, config="full")}),
        ("ParT lite", 64, {"jetzoo": part_lite[0], "weaver": part_lite[1]}),
    ]
    if args.full_part:
        cases.append(("ParT full", 32, {"jetzoo": part_full[0], "weaver": part_full[1]}))
    repeats = 3 if args.quick else args.repeats
    parts = set(args.parts.split(",")) - ({"auc", "transplant"} if args.quick else set())
    precisions = tuple(args.precisions.split(","))
    thread_rows = tuple(int(t) for t in args.thread_rows.split(","))
    rows = speed_rows(dm, cases, repeats, precisions, thread_rows) if "speed" in parts else []
    if "transplant" in parts:
        rows += transplant_rows(datamodule, part_lite, args.epochs, args.transplant_seeds)
    if "auc" in parts:
        rows += auc_rows(datamodule, [("ParticleNet lite", dict(zip(("jetzoo", "weaver"), pn_lite)), 3e-3),
                                      ("ParT lite", dict(zip(("jetzoo", "weaver"), part_lite)), 1e-3)],
                         args.epochs, args.seeds)
    env = (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
           f"torch {torch.__version__}, "
           f"weaver-core {_version('weaver-core')}, torch-geometric {_version('torch-geometric')}")
    for row in rows:
        row["command"] = command
    write_report(merged_rows(rows, parts), args, env, len(dm.table.labels))


def _version(dist: str) -> str:
    from importlib.metadata import version

    try:
        return version(dist)
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
