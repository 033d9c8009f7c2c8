"""Each model's published recipe (jetzoo/training/recipes/, issue 23 §2): every recipe parses as the config of
a real `jetzoo fit`, builds the optimiser and schedule its header states, and the bench trains with it.

The optimiser cross-check: Ranger (weaver-core's RAdam + Lookahead) against jetzoo's `ranger`, step by step
on the same parameters and gradients, when weaver-core is installed (`pip install jetzoo[bench]`).
"""

from __future__ import annotations

import math

import pytest
import torch

from jetzoo import registry
from jetzoo.training.recipes import default_recipe, expand_recipe_option, load_recipe, recipe_names
from jetzoo.zoo import optimizers

# what each recipe's header states, checked against what it builds: (optimizer class, lr, weight decay,
# schedule, batch size, max epochs, patience)
STATED = {
    "particlenet": ("ranger", 1e-2, 0.0, "flat-decay", 512, 20, 5),
    "part": ("ranger", 1e-3, 0.01, "flat-decay", 512, 20, 5),
    "pfn": ("adam", 1e-3, 0.0, "none", 500, 100, 5),
    "mlp-hls4ml": ("adam", 1e-4, 0.0, "plateau", 1024, 100, 20),
    "jedi-net": ("adam", 1e-4, 0.0, "none", 64, 100, 10),
    "cnn": ("adamw", 1e-3, 1e-4, "cosine", 128, 50, 5),
    "jetzoo-default": ("adamw", None, None, "cosine", 256, 50, 3),
}


# the generators' recipes: no epoch count or early stopping (their bench gives each a fixed CPU budget and keeps
# the best validation W1M, issue 22); (lr, weight decay, schedule, batch size, gradient clip, EMA decay)
GENERATIVE = {"epic-fm": (1e-3, 5e-5, "cosine-warmup", 1024, 0.5, 0.999)}
# jetzoo's own GANs, tuned on gluon jets (benchmarks/generative_leaderboard/gan-tuning.md): (hidden, message-passing
# layers, generator lr, discriminator lr, Adam betas, n_critic, batch size, compile_messages)
ADVERSARIAL = {
    "gan": (32, 2, 1e-4, 1e-4, (0.5, 0.999), 1, 256, True),
    "wgan": (32, 1, 1e-4, 1e-4, (0.0, 0.9), 5, 256, True),
}


def test_every_recipe_is_stated_here_and_every_tagger_names_one():
    assert sorted([*STATED, *GENERATIVE, *ADVERSARIAL]) == recipe_names()
    for name in registry.list_models():
        cls = registry.get_model(name)
        if cls.__module__.startswith("jetzoo.") and cls.task == "tagging":
            assert default_recipe(cls) in STATED, name


@pytest.mark.parametrize("name", sorted(STATED))
def test_a_recipe_parses_as_a_fit_config_and_builds_what_it_states(name, top_jets_file, capfd, monkeypatch, tmp_path):
    """`jetzoo fit --model M --recipe NAME --print_config`: the values the parser takes; then the model built
    with them configures the optimiser and schedule the recipe states."""
    from helpers import jetzoo_in_process

    optimizer, lr, decay, schedule, batch, epochs, patience = STATED[name]
    model_name = next(n for n in registry.list_models() if default_recipe(registry.get_model(n)) == name)
    code, out, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", model_name, "--recipe", name,
                                       "--data.path", top_jets_file, "--print_config", cwd=tmp_path)
    assert code == 0, err
    import yaml

    config = yaml.safe_load(out)
    args = config["model"]["init_args"]
    assert args["optimizer"] == optimizer and args["scheduler"] == schedule
    assert config["data"]["init_args"]["batch_size"] == batch and config["trainer"]["max_epochs"] == epochs
    (stop,) = [c for c in config["trainer"]["callbacks"] if c["class_path"].endswith("EarlyStopping")]
    assert stop["init_args"]["patience"] == patience and stop["init_args"]["monitor"] == "val/loss"
    recipe = load_recipe(name)
    assert (recipe.max_epochs, recipe.patience, recipe.data_args["batch_size"]) == (epochs, patience, batch)
    if lr is not None:
        assert args["lr"] == lr and args["weight_decay"] == decay
    assert args["l1"] == (1e-4 if name == "mlp-hls4ml" else 0.0)  # the hls4ml paper's L1 kernel penalty

    model = registry.create_model(model_name, **{k: v for k, v in args.items() if k in recipe.model_args})
    model.trainer = _FakeTrainer(max_epochs=epochs)
    configured = model.configure_optimizers()
    opt = configured["optimizer"] if isinstance(configured, dict) else configured
    inner = opt.inner if isinstance(opt, optimizers.Lookahead) else opt
    expected_class = {"ranger": torch.optim.RAdam, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[optimizer]
    assert type(inner) is expected_class and isinstance(opt, optimizers.Lookahead) == (optimizer == "ranger")
    assert all(group["lr"] == pytest.approx(model.lr) for group in inner.param_groups)
    if optimizer == "ranger":
        assert inner.defaults["betas"] == (0.95, 0.999) and inner.defaults["eps"] == 1e-5 and (opt.k, opt.alpha) == (6, 0.5)
        decays = sorted({g["weight_decay"] for g in inner.param_groups})
        assert decays == sorted({0.0, decay})  # biases and norm layers without decay
    sched = configured.get("lr_scheduler", {}).get("scheduler") if isinstance(configured, dict) else None
    kind = {type(None): "none", torch.optim.lr_scheduler.LambdaLR: "flat-decay",
            torch.optim.lr_scheduler.ReduceLROnPlateau: "plateau", torch.optim.lr_scheduler.CosineAnnealingLR: "cosine",
            torch.optim.lr_scheduler.OneCycleLR: "onecycle"}[type(sched)]
    assert kind == schedule


class _FakeTrainer:
    """What configure_optimizers reads of a trainer: the fit's length."""

    def __init__(self, max_epochs: int):
        self.max_epochs, self.estimated_stepping_batches = max_epochs, 1000


def test_flat_decay_is_weaver_cores_multistep_schedule():
    """weaver/train.py L664-684: MultiStepLR with milestones range(epochs - d, epochs), gamma 0.01**(1/d),
    d = max(1, int(0.3 * epochs)), stepped once per epoch."""
    for epochs in (1, 5, 20, 33):
        d = max(1, int(0.3 * epochs))
        weights = torch.nn.Parameter(torch.zeros(1))
        reference = torch.optim.SGD([weights], lr=1.0)
        multistep = torch.optim.lr_scheduler.MultiStepLR(reference, milestones=list(range(epochs - d, epochs)),
                                                         gamma=0.01 ** (1 / d))
        factor = optimizers.flat_decay_lambda(epochs)
        for epoch in range(epochs):
            assert factor(epoch) == pytest.approx(reference.param_groups[0]["lr"], rel=1e-9), (epochs, epoch)
            reference.step()
            multistep.step()
        assert math.isclose(factor(epochs - 1), 0.01, rel_tol=1e-9)  # the last epoch at 1% of the start


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_ranger_matches_weaver_core_step_by_step(weight_decay):
    """20 steps (3 Lookahead synchronisations); with weight decay on a layer without bias, where weaver-core
    decays every parameter as jetzoo does (jetzoo spares biases and 1-D parameters, as weaver's train.py)."""
    ranger = pytest.importorskip("weaver.utils.nn.optimizer.ranger", reason="weaver-core (pip install jetzoo[bench])")
    torch.manual_seed(0)
    bias = not weight_decay
    ours_model, theirs_model = torch.nn.Linear(5, 3, bias=bias), torch.nn.Linear(5, 3, bias=bias)
    theirs_model.load_state_dict(ours_model.state_dict())
    ours = optimizers.build_optimizer(ours_model, "ranger", lr=1e-2, weight_decay=weight_decay)
    theirs = ranger.Ranger(theirs_model.parameters(), lr=1e-2, weight_decay=weight_decay)
    for step in range(20):
        x = torch.randn(16, 5, generator=torch.Generator().manual_seed(step))
        for model, opt in ((ours_model, ours), (theirs_model, theirs)):
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
        for a, b in zip(ours_model.parameters(), theirs_model.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_recipe_option_goes_after_the_model_and_before_what_overrides_it():
    path = str(load_recipe("particlenet").path)
    assert expand_recipe_option(["--model", "x.Y", "--recipe", "particlenet", "--data.batch_size", "64"]) == [
        "--model", "x.Y", "--config", path, "--data.batch_size", "64"]
    assert expand_recipe_option(["--recipe=particlenet", "--model=x.Y"]) == ["--model=x.Y", "--config", path]


def test_the_particle_level_board_keeps_its_run_keys():
    """benchmarks/leaderboard.yaml (the v1 board, `recipes: false`): every committed run's key is what this
    jetzoo computes for it, so a re-run keeps its runs (marked stale by the code rule) and never retrains them."""
    import json
    from pathlib import Path

    from jetzoo.bench.spec import parse_spec

    board = Path(__file__).resolve().parents[1] / "benchmarks" / "leaderboard"
    spec, _ = parse_spec(["--config", str(board.parent / "leaderboard.yaml")])
    data_hash = json.loads((board / "leaderboard.json").read_text())["data_hash"]
    models = {spec.label(m): m for m in spec.models}
    runs = [json.loads(p.read_text()) for p in sorted((board / "runs").glob("*.json"))]
    assert len(runs) == 27
    for run in runs:
        assert spec.run_key(models[run["model"]], run["seed"], data_hash) == run["key"], run["model"]


def test_a_fit_with_the_ranger_recipe_trains_resumes_and_keeps_weavers_schedule(top_jets_file, capfd, monkeypatch, tmp_path):
    """The real `jetzoo fit --recipe particlenet` (Ranger + flat-decay through Lightning, whose scheduler must
    drive the optimiser configure_optimizers returns), then `--ckpt_path last` to more epochs: the learning rate
    follows weaver's flat+decay epoch by epoch across the resume."""
    import csv

    from helpers import jetzoo_in_process

    args = ["fit", "--model", "particlenet-lite", "--recipe", "particlenet", "--data.path", top_jets_file,
            "--data.batch_size", "64", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
            "--test_after_fit", "false", "--trainer.logger", "CSVLogger", "--trainer.logger.save_dir", tmp_path,
            "--trainer.callbacks+=LearningRateMonitor", "--trainer.callbacks.logging_interval", "epoch"]
    code, _, err = jetzoo_in_process(capfd, monkeypatch, *args, "--trainer.max_epochs", "10", "--trainer.max_steps", "6",
                                     cwd=tmp_path)
    assert code == 0, err[-3000:]
    (last,) = tmp_path.rglob("last.ckpt")
    code, _, err = jetzoo_in_process(capfd, monkeypatch, *args, "--trainer.max_epochs", "10", "--ckpt_path", last, cwd=tmp_path)
    assert code == 0, err[-3000:]
    rates = {}
    for path in tmp_path.rglob("metrics.csv"):
        for row in csv.DictReader(open(path)):
            if row.get("lr-Lookahead"):  # logged at each epoch's start, at its first step (2 steps an epoch)
                rates[int(row["step"]) // 2] = float(row["lr-Lookahead"])
    factor = optimizers.flat_decay_lambda(10)
    assert set(range(3, 10)) <= set(rates), rates  # the resumed epochs (the resumed run rewrites metrics.csv)
    for epoch, lr in rates.items():
        assert lr == pytest.approx(1e-2 * factor(epoch), rel=1e-6), (epoch, lr)


def test_a_ranger_fit_stopped_and_resumed_ends_with_the_uninterrupted_weights(top_jets_file, capfd, monkeypatch, tmp_path):
    """Ranger's Lookahead keeps slow weights and a step count beside RAdam's state; the checkpoint carries
    both, so 4 epochs in one go and 2 + 2 through `--ckpt_path last` end bit for bit the same. Its k = 6
    synchronisation falls in the resumed half (2 steps an epoch), on slow weights saved by the first."""
    from helpers import jetzoo_in_process

    args = ["fit", "--model", "mlp", "--model.optimizer", "ranger", "--model.scheduler", "none", "--model.dropout", "0.2",
            "--data.path", top_jets_file,
            "--data.batch_size", "64", "--data.max_jets", "1000", "--trainer.limit_train_batches", "2",
            "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false",
            "--trainer.enable_model_summary", "false", "--test_after_fit", "false"]
    finals = []
    for name, runs in (("whole", [["--trainer.max_epochs", "4"]]),
                       ("resumed", [["--trainer.max_epochs", "2"], ["--trainer.max_epochs", "4", "--ckpt_path", "last"]])):
        (tmp_path / name).mkdir()
        for extra in runs:
            code, _, err = jetzoo_in_process(capfd, monkeypatch, *args, *extra, cwd=tmp_path / name)
            assert code == 0, err[-3000:]
        (last,) = (tmp_path / name).rglob("last.ckpt")
        finals.append(torch.load(last, weights_only=True))
    whole, resumed = finals
    assert whole["global_step"] == resumed["global_step"] == 8
    (state,) = whole["optimizer_states"]
    assert state["steps"] == 8 and state["slow"]  # Lookahead's own state is in the checkpoint
    for key, value in whole["state_dict"].items():
        assert torch.equal(resumed["state_dict"][key], value), key


def test_the_l1_penalty_is_kerass_kernel_regulariser():
    """`l1`: l1 * sum |w| over the weight matrices added to the training loss (Keras' l1 kernel regulariser:
    biases excluded), and only there: the validation loss is the plain cross-entropy."""
    model = registry.create_model("mlp", num_hl_features=12, l1=1e-4)
    torch.manual_seed(0)
    batch = {"hl": torch.randn(32, 12), "label": torch.randint(0, 2, (32,))}
    kernels = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    expected = model.loss(batch) + 1e-4 * sum(w.abs().sum() for w in kernels)
    model.log = lambda *a, **k: None
    torch.testing.assert_close(model.training_step(batch, 0), expected)


@pytest.mark.parametrize("name", sorted(GENERATIVE))
def test_a_generator_recipe_parses_and_builds_what_it_states(name, top_jets_file, capfd, monkeypatch, tmp_path):
    """The parsed config of `jetzoo fit --recipe NAME`, then the schedule it builds: a linear warm-up over the
    first tenth of the steps under a cosine over all of them (EPiC-FM's CosineWarmupScheduler)."""
    import yaml

    from helpers import jetzoo_in_process

    lr, decay, schedule, batch, clip, ema = GENERATIVE[name]
    model_name = next(n for n in registry.list_models() if default_recipe(registry.get_model(n)) == name)
    code, out, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", model_name, "--recipe", name,
                                       "--data.path", top_jets_file, "--print_config", cwd=tmp_path)
    assert code == 0, err
    config = yaml.safe_load(out)
    args = config["model"]["init_args"]
    assert (args["lr"], args["weight_decay"], args["scheduler"]) == (lr, decay, schedule)
    assert config["data"]["init_args"]["batch_size"] == batch and config["trainer"]["gradient_clip_val"] == clip
    assert args["ema_decay"] == ema
    model = registry.create_model(model_name, **{k: args[k] for k in ("lr", "weight_decay", "scheduler")})
    model.trainer = _FakeTrainer(max_epochs=1)
    configured = model.configure_optimizers()
    assert type(configured["optimizer"]) is torch.optim.AdamW
    factor = configured["lr_scheduler"]["scheduler"].lr_lambdas[0]
    total = int(model.trainer.estimated_stepping_batches)
    warmup = total // 10
    assert factor(warmup - 1) == pytest.approx(0.5 * (1 + math.cos(math.pi * (warmup - 1) / total)))
    assert factor(warmup // 2 - 1) == pytest.approx(0.5 * factor(warmup - 1), rel=0.02)
    assert factor(total) == pytest.approx(0.0, abs=1e-12)


def test_under_a_cpu_budget_the_schedules_span_the_budget_not_max_epochs():
    """The generative bench ends each fit on its CPU budget, with max_epochs 100000: the cosine schedules spread
    over the budget's share used (CpuBudget.fit_fraction), not over 100000 epochs of steps, under which epic-fm's
    warm-up alone would have outlasted any run (its learning rate below 2% of the recipe's throughout)."""
    from jetzoo.bench.convergence import CpuBudget
    from jetzoo.errors import OptionError

    budget = CpuBudget(seconds=1000.0)
    used = {"s": 0.0}
    budget.used = lambda: used["s"]
    trainer = _FakeTrainer(max_epochs=100_000)
    trainer.estimated_stepping_batches, trainer.callbacks = 4_000_000, [budget]
    for scheduler, expected in (
        ("cosine-warmup", lambda f: 0.5 * (1 + math.cos(math.pi * f)) * min(1.0, f / 0.1)),
        ("cosine", lambda f: 0.5 * (1 + math.cos(math.pi * f))),
    ):
        model = registry.create_model("epic-fm", scheduler=scheduler)
        model.trainer = trainer
        configured = model.configure_optimizers()
        sched, optimizer = configured["lr_scheduler"]["scheduler"], configured["optimizer"]
        for share in (0.02, 0.05, 0.3, 0.75, 1.0, 1.5):  # 1.5: a last batch past the budget
            used["s"] = share * 1000.0
            optimizer.step()
            sched.step()
            assert optimizer.param_groups[0]["lr"] == pytest.approx(model.lr * expected(min(share, 1.0)), abs=1e-12), \
                (scheduler, share)
    for scheduler in ("onecycle", "flat-decay"):  # laid out over steps or epochs, which the budget does not fix
        model = registry.create_model("epic-fm", scheduler=scheduler)
        model.trainer = trainer
        with pytest.raises(OptionError, match=f"--model.scheduler {scheduler} is laid out over the fit's steps or "
                                              "epochs, which a CPU budget does not fix"):
            model.configure_optimizers()


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_a_gan_recipe_parses_and_builds_its_two_optimisers(name, top_jets_file, capfd, monkeypatch, tmp_path):
    """`jetzoo fit --model gan --recipe gan --print_config` (and wgan's): the tuned architecture and optimisation the
    parser takes, then the generator's and the discriminator's Adam with the stated rates and betas."""
    import yaml

    from helpers import jetzoo_in_process

    hidden, layers, lr_g, lr_d, betas, n_critic, batch, compiled = ADVERSARIAL[name]
    assert default_recipe(registry.get_model(name)) == name
    code, out, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", name, "--recipe", name,
                                       "--data.path", top_jets_file, "--print_config", cwd=tmp_path)
    assert code == 0, err
    config = yaml.safe_load(out)
    args = config["model"]["init_args"]
    assert (args["hidden"], args["mp_layers"], args["lr_generator"], args["lr_discriminator"]) == (hidden, layers, lr_g, lr_d)
    assert (tuple(args["betas"]), args["n_critic"], args["compile_messages"]) == (betas, n_critic, compiled)
    assert config["data"]["init_args"]["batch_size"] == batch
    keys = ("hidden", "mp_layers", "lr_generator", "lr_discriminator", "betas", "n_critic")
    model = registry.create_model(name, **{k: args[k] for k in keys})
    opt_g, opt_d = model.configure_optimizers()
    assert type(opt_g) is type(opt_d) is torch.optim.Adam
    assert (opt_g.defaults["lr"], opt_d.defaults["lr"]) == (lr_g, lr_d)
    assert tuple(opt_g.defaults["betas"]) == tuple(opt_d.defaults["betas"]) == betas
    assert {id(p) for p in opt_g.param_groups[0]["params"]} == {id(p) for p in model.generator.parameters()}


def test_only_gan_and_wgan_take_the_tuned_gan_recipes():
    """EPiC-GAN and MPGAN share JetGAN's loop but train with their authors' defaults, not jetzoo's tuned GAN."""
    for name in ("epic-gan", "mpgan", "mpgan-lite"):
        assert default_recipe(registry.get_model(name)) is None, name
