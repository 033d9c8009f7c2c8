"""The anomaly detectors (autoencoder, vae) and the cloud generators (gan, wgan).

Synthetic batches for shapes and optimisation; real Pythia top/QCD jets (`top_jets_file`) for
the Lightning runs: QCD-only training, anomaly AUC, stable GAN training and the output files.
"""

from __future__ import annotations

import math
import re

import h5py
import numpy as np
import pytest
import torch

from jetzoo import registry
from jetzoo.datamodules.readers import read_hls4ml
from jetzoo.training import quiet_trainer
from jetzoo.zoo.autoencoder import Autoencoder, VariationalAutoencoder
from jetzoo.zoo.gan import JetGAN, JetWGAN
from helpers import fit_and_test, model_for, top_datamodule

GENERATIVE = ["autoencoder", "vae", "gan", "wgan"]


def particle_batch(n=32, p=40, f=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(n, p, generator=g) < 0.6
    return {"features": torch.randn(n, p, f, generator=g) * mask[..., None], "mask": mask, "label": torch.zeros(n, dtype=torch.long)}


def cloud_batch(n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = torch.arange(30)[None] < torch.randint(8, 31, (n, 1), generator=g)
    pt = torch.rand(n, 30, generator=g) * mask
    cloud = torch.cat([torch.randn(n, 30, 2, generator=g) * 0.1, (pt / pt.sum(1, keepdim=True)).unsqueeze(-1)], -1)
    return {"cloud": cloud * mask[..., None], "mask": mask, "label": torch.randint(0, 2, (n,), generator=g)}


def batch_for(model):
    return particle_batch() if model.input_view == "particles" else cloud_batch()


@pytest.mark.parametrize("name", GENERATIVE)
def test_registered_with_contract_attributes(name):
    cls = registry.get_model(name)
    assert cls.task in ("anomaly", "generation")
    assert cls.input_view == ("particles" if cls.task == "anomaly" else "cloud")
    assert registry.short_name_of(cls) == name


@pytest.mark.parametrize(
    "model",
    [
        Autoencoder(num_particles=40),
        VariationalAutoencoder(num_particles=40, score="reco"),
        JetGAN(),
        JetGAN(conditional=True, mp_layers=0),
        JetWGAN(conditional=True),
    ],
    ids=["autoencoder", "vae-reco", "gan", "gan-conditional-deepsets", "wgan-conditional"],
)
def test_forward_is_a_deterministic_score_per_jet(model):
    batch = batch_for(model)
    model.eval()
    with torch.no_grad():
        out = model(batch)
        assert out.shape == (32,) and torch.isfinite(out).all()
        assert torch.equal(out, model(batch))


@pytest.mark.parametrize("cls", [Autoencoder, VariationalAutoencoder, JetGAN, JetWGAN])
def test_optimizer_steps_lower_the_loss(cls):
    torch.manual_seed(0)
    model = cls(num_particles=40) if cls.input_view == "particles" else cls(num_classes=2, conditional=True)
    batch = batch_for(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    torch.manual_seed(1)
    before = float(model.loss(batch))
    for _ in range(10):
        opt.zero_grad()
        torch.manual_seed(1)
        model.loss(batch).backward()
        opt.step()
    torch.manual_seed(1)
    assert float(model.loss(batch)) < before


def test_compiled_message_passing_gives_the_eager_losses_and_gradients():
    """compile_messages (inductor: the pair messages as fused C++ loops) changes the speed, not the numbers: both
    losses and every gradient agree with the eager model's to float rounding. The WGAN covers every path of `gan`
    (the same compiled function) and its gradient penalty's double backward, which must run eagerly (~10 s: a cold
    inductor compile)."""
    results = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = JetWGAN(num_classes=2, conditional=True, compile_messages=compiled)
        batch = cloud_batch()
        fake = tuple(t.detach() for t in model.generate_for(batch, torch.Generator().manual_seed(1)))
        d_loss = model.discriminator_loss(batch, fake, torch.Generator().manual_seed(2))
        g_loss = model.generator_loss(model.generate_for(batch, torch.Generator().manual_seed(3)), batch["label"])
        (d_loss + g_loss).backward()
        grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        results.append((d_loss.detach(), g_loss.detach(), grads))
    (d0, g0, grads0), (d1, g1, grads1) = results
    assert torch.allclose(d0, d1, rtol=1e-5) and torch.allclose(g0, g1, rtol=1e-5)
    assert grads0.abs().max() > 0 and torch.allclose(grads0, grads1, rtol=1e-4, atol=1e-6)


def test_every_activation_has_its_function_for_the_compiled_messages():
    from jetzoo.zoo.mlp import ACTIVATION_FUNCTIONS, ACTIVATIONS

    x = torch.linspace(-3, 3, 13)
    assert set(ACTIVATION_FUNCTIONS) == set(ACTIVATIONS)
    for name, module in ACTIVATIONS.items():
        assert torch.equal(ACTIVATION_FUNCTIONS[name](x), module()(x)), name


def test_compile_messages_without_a_working_compiler_is_one_line_at_build(monkeypatch):
    from jetzoo.errors import OptionError
    from jetzoo.zoo import gan

    def broken(fn, **kwargs):
        def run(*args):
            raise RuntimeError("C++ compile error\nCommand: g++ ... (40 lines)")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    gan.compiled_pair_mean.cache_clear()
    try:
        with pytest.raises(OptionError, match=r"^--model.compile_messages true: torch.compile cannot build its kernels "
                                              r"here \(RuntimeError: C\+\+ compile error\); set it false") as err:
            JetGAN(compile_messages=True)
        assert "\n" not in str(err.value)
        JetGAN(compile_messages=False)  # the eager model needs no compiler
    finally:
        gan.compiled_pair_mean.cache_clear()


def test_a_diverging_generator_stops_its_fit_with_one_line(top_jets_file, tmp_path, capfd, monkeypatch):
    """A real fit whose learning rates blow the weights up: the first non-finite loss ends it, one line that names
    the model, the loss and the step, exit 1 (issue 22: no NaN trains on or reaches a metric)."""
    from helpers import jetzoo_in_process

    code, out, err = jetzoo_in_process(
        capfd, monkeypatch, "fit", "--model", "gan", "--model.lr_generator", "1e30", "--model.lr_discriminator", "1e30",
        "--data.path", top_jets_file, "--data.max_jets", "160", "--data.batch_size", "32", "--trainer.max_epochs", "2",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false", "--trainer.logger", "false",
        "--trainer.default_root_dir", tmp_path, cwd=tmp_path)
    assert code == 1, err[-3000:]
    assert "Traceback" not in err and err.strip().count("\n") == 0, err
    assert re.search(r"JetGAN: NaN or inf in the (generator|discriminator) loss \(train batch \d+ of epoch 0, after \d+ "
                     r"optimizer steps\): the weights have diverged", err), err


def test_a_generator_diverging_on_one_ddp_rank_stops_every_rank_with_one_line(top_jets_file, tmp_path):
    """A real two-process fit (Lightning's plain `ddp`, gloo) whose validation gives the ranks unequal numbers of
    batches (every jet evaluated once), then the weights of rank 1 alone turn NaN in epoch 1 (a user's callback,
    tests/poison_callback.py). Epoch 0 trains and validates (plain `ddp` takes a GAN; a collective per validation
    batch would pair one rank's extra batch with the other's epoch-end gather, which gloo aborts on); in epoch 1 the
    ranks decide together at the poisoned step: each prints one line, the run ends with exit 1, none left waiting."""
    from pathlib import Path

    from helpers import run_jetzoo, top_datamodule

    # an odd number of validation jets, and a batch of half of them: rank 0 validates 2 batches, rank 1 one
    for max_jets in range(330, 360):
        datamodule = top_datamodule(top_jets_file, max_jets=max_jets)
        datamodule.setup("fit")
        if datamodule.split_sizes["val"] % 2:
            break
    batch = datamodule.split_sizes["val"] // 2
    result = run_jetzoo(
        "fit", "--model", "gan", "--data.path", top_jets_file, "--data.max_jets", max_jets, "--data.batch_size", batch,
        "--trainer.max_epochs", "3", "--trainer.num_sanity_val_steps", "0", "--trainer.strategy", "ddp",
        "--trainer.devices", "2", "--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false", "--trainer.logger", "false", "--trainer.default_root_dir", tmp_path,
        "--trainer.callbacks+=poison_callback.PoisonOneRank", cwd=tmp_path, timeout=240,
        env={"PYTHONPATH": str(Path(__file__).parent), "JETZOO_ALLOW_IMPORT": "poison_callback",
             "JETZOO_POISON": "1:1:2"})
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    counts = [(tmp_path / f"validation_batches.rank{r}").read_text() for r in (0, 1)]
    assert counts == ["2", "1"], (counts, max_jets, batch)  # the ranks validated unequal numbers of batches
    err = result.stderr  # the two processes' lines, possibly run together
    assert err.count("jetzoo fit: error: ") == 2, err[-3000:]
    assert re.search(r"jetzoo fit: error: JetGAN: NaN or inf in the discriminator loss \(train batch 2 of epoch 1, "
                     r"after \d+ optimizer steps\): the weights have diverged", err), err[-3000:]
    assert "jetzoo fit: error: JetGAN: NaN or inf on another DDP rank (train, epoch 1, after" in err, err[-3000:]


def test_a_gan_under_ddp_without_find_unused_parameters_is_one_line(top_jets_file, tmp_path, capfd, monkeypatch):
    """Plain `ddp` gets find_unused_parameters for a GAN (the run above); refusing it explicitly is one line."""
    from helpers import jetzoo_in_process

    code, out, err = jetzoo_in_process(
        capfd, monkeypatch, "fit", "--model", "gan", "--data.path", top_jets_file, "--data.max_jets", "160",
        "--trainer.strategy", "ddp_find_unused_parameters_false", "--trainer.devices", "1", "--trainer.accelerator",
        "cpu", "--trainer.logger", "false", "--trainer.default_root_dir", tmp_path, cwd=tmp_path)
    assert code == 2 and "Traceback" not in err and err.strip().count("\n") == 0, err[-3000:]
    assert "--trainer.strategy: JetGAN steps its discriminator and its generator in turn, so DDP needs " \
           "find_unused_parameters; use ddp or ddp_find_unused_parameters_true" in err, err


def test_a_non_finite_batch_in_a_ddp_evaluation_is_held_to_the_epoch_end():
    """The logic the DDP run above cannot reach cheaply: in validation, test and prediction under DDP (ranks may run
    unequal numbers of batches) a non-finite generated batch is skipped (sample gives None), the first one's
    message is held, and `raise_held` raises it at the epoch's end, on every rank: here two ranks as one, the
    decision's all-reduce being the identity (its real collective is the one the run above takes)."""
    from types import SimpleNamespace

    from lightning.pytorch.trainer.states import RunningStage, TrainerState

    from jetzoo.errors import TrainingError
    from jetzoo.zoo.finite import raise_held

    model = JetGAN(num_classes=2)
    state = TrainerState()
    state.stage = RunningStage.VALIDATING
    model._trainer = SimpleNamespace(world_size=2, training=False, state=state, current_epoch=4, global_step=9,
                                     strategy=SimpleNamespace(reduce_boolean_decision=lambda decision, all: decision))
    labels = torch.tensor([0, 1, 0, 1])
    assert model.sample(labels, model.seeded_generator()) is not None
    raise_held(model)  # nothing held: the epoch ends normally
    with torch.no_grad():
        model.generator.head.bias[2] = float("nan")
    assert model.sample(labels, model.seeded_generator()) is None  # skipped, no raise mid-epoch
    assert model.sample(labels[:2], model.seeded_generator()) is None  # the first message is the one kept
    with pytest.raises(TrainingError, match=r"^JetGAN: NaN or inf in \d+ of 360 values of the generated jets "
                                            r"\(validate, epoch 4, after 9 optimizer steps\)"):
        raise_held(model)
    raise_held(model)  # raised once: the next epoch starts clean


def test_generated_jets_that_are_not_finite_never_leave_sample():
    from jetzoo.errors import TrainingError

    model = JetGAN(num_classes=2)
    with torch.no_grad():
        model.generator.head.bias[2] = float("nan")  # the pT logits of every particle
    with pytest.raises(TrainingError, match=r"^JetGAN: NaN or inf in \d+ of 360 values of the generated jets \(outside a fit\)"):
        model.sample(torch.tensor([0, 1, 0, 1]), model.seeded_generator())


def test_generator_output_is_a_valid_cloud():
    model = JetGAN(num_classes=3, conditional=True)
    cloud, mask = model.sample(torch.tensor([0, 1, 2, 0]), model.seeded_generator())
    assert cloud.shape == (4, 30, 3) and mask.dtype == torch.bool
    assert (cloud[~mask] == 0).all()  # padding exactly zero
    assert (cloud[..., 2] >= 0).all() and (cloud[..., 2].sum(1) <= 1 + 1e-5).all()
    pt = torch.where(mask, cloud[..., 2], torch.tensor(-1.0))
    assert (pt[:, :-1] >= pt[:, 1:]).all()  # pT-ordered, padding last
    again, _ = model.sample(torch.tensor([0, 1, 2, 0]), model.seeded_generator())
    assert torch.equal(cloud, again)


def test_train_classes_follow_the_data():
    assert Autoencoder(class_names=["g", "q", "W", "Z", "t"]).train_classes == ["g", "q"]
    assert Autoencoder(class_names=["QCD", "top"]).train_classes == ["QCD"]
    assert Autoencoder(class_names=["QCD", "top"], train_classes=["top"]).train_classes == ["top"]
    with pytest.raises(ValueError, match="none of the data's classes"):
        Autoencoder(class_names=["W", "Z"])


def test_anomaly_metrics_per_signal_class():
    model = Autoencoder(num_classes=3, class_names=["QCD", "top", "W"])
    labels = torch.tensor([0] * 100 + [1] * 50 + [2] * 50)
    scores = torch.cat([torch.rand(100), torch.rand(50) + 1.0, torch.rand(50)])
    out = model.anomaly_metrics(scores, labels)
    assert set(out) == {
        "anomaly_auc_top", "anomaly_eps_s_top", "rej30_top_vs_bkg", "rej30_top_vs_bkg_lower_bound",
        "anomaly_auc_W", "anomaly_eps_s_W", "rej30_W_vs_bkg", "rej30_W_vs_bkg_lower_bound",
    }  # fmt: skip
    assert out["anomaly_eps_s_top"] == 1.0  # every top jet scores above every background jet
    # no background jet passes: a lower bound 1 / (1 - 0.16 ** (1 / 100)) from Clopper-Pearson, not inf
    assert float(out["anomaly_auc_top"]) == 1.0 and out["rej30_top_vs_bkg_lower_bound"] == 1.0
    assert out["rej30_top_vs_bkg"] == pytest.approx(1 / (1 - 0.16 ** (1 / 100)))
    assert 0.3 < float(out["anomaly_auc_W"]) < 0.7


@pytest.mark.slow
@pytest.mark.parametrize("name", ["autoencoder", "vae"])
def test_trained_on_qcd_only_flags_top_jets(name, top_jets_file):
    dm = top_datamodule(top_jets_file)
    model = model_for(name, dm)
    metrics = fit_and_test(model, dm, max_epochs=4)
    train_labels = dm.datasets["train"].arrays["label"]
    assert set(train_labels.tolist()) == {dm.table.class_names.index("QCD")}  # background only
    assert set(dm.datasets["test"].arrays["label"].tolist()) == {0, 1}  # test keeps every class
    assert metrics["test/anomaly_auc_top"] > 0.6, metrics
    assert metrics["test/rej30_top_vs_bkg"] > 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gan", "wgan"])
def test_short_gan_training_stays_finite_and_bounded(name, top_jets_file, tmp_path):
    dm = top_datamodule(top_jets_file, batch_size=64)
    model = model_for(name, dm, conditional=True)
    trainer = quiet_trainer(
        max_epochs=1, limit_train_batches=15, limit_val_batches=2, limit_test_batches=4, default_root_dir=tmp_path
    )
    trainer.fit(model, datamodule=dm)
    logged = {k: float(v) for k, v in trainer.callback_metrics.items()}
    for key in ("train/d_loss", "train/g_loss", "val/d_loss", "val/w1m", "val/loss"):
        assert math.isfinite(logged[key]) and abs(logged[key]) < 100, (key, logged)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    metrics = trainer.test(model, datamodule=dm, verbose=False)[0]
    for key in ("w1m", "w1p", "w1efp", "fpd", "kpd", "w1tau21", "w1tau32", "c2st_auc"):
        assert math.isfinite(metrics[f"test/{key}"]) and math.isfinite(metrics[f"test/{key}_floor"]), key
    assert 0.0 <= metrics["test/c2st_auc"] <= 1.0


@pytest.mark.slow
def test_write_predictions_gives_a_readable_jet_file_and_plots(top_jets_file, tmp_path):
    dm = top_datamodule(top_jets_file, batch_size=256)
    model = model_for("gan", dm, conditional=True)
    dm.setup("predict")
    trainer = quiet_trainer(limit_predict_batches=2, default_root_dir=tmp_path)
    outputs = trainer.predict(model, datamodule=dm)
    written = model.write_predictions(outputs, str(tmp_path / "generated.h5"))
    n = sum(len(o["label"]) for o in outputs)
    table = read_hls4ml(tmp_path / "generated.h5")
    assert len(table) == n and table.class_names == dm.table.class_names
    assert table.hl_names[:3] == ["j_pt", "j_eta", "j_mass"]
    labels = torch.cat([o["label"] for o in outputs]).numpy()
    np.testing.assert_array_equal(table.labels, labels)  # conditioned on the real batches' labels
    with h5py.File(tmp_path / "generated.h5") as f:
        assert f["jetConstituentList"].shape == (n, 30, 16)
        assert list(f.attrs["class_names"]) == dm.table.class_names and f.attrs["generator"] == "JetGAN"
    for suffix in ("mass", "particle_pt", "occupancy"):
        png = tmp_path / f"generated_{suffix}.png"
        assert png in written and png.stat().st_size > 1000


def test_autoencoder_writes_scores(tmp_path):
    model = Autoencoder(num_particles=40, class_names=["QCD", "top"])
    model.eval()
    outputs = [model.predict_step(particle_batch(seed=s), s) for s in range(2)]
    (path,) = model.write_predictions(outputs, str(tmp_path / "scores.h5"))
    with h5py.File(path) as f:
        assert f["score"].shape == (64,) and list(f.attrs["train_classes"]) == ["QCD"]


def test_epic_gan_has_the_authors_parameter_counts():
    """The sizes of uhh-pd-ml/EPiC-GAN's JetNet models, as its evaluation notebook prints them
    (evaluation/model_plots_JetNet.ipynb: "Decoder parameters: 424850, Discriminator parameters: 313170")."""
    from jetzoo.registry import create_model

    model = create_model("epic-gan", num_classes=1)
    assert sum(p.numel() for p in model.generator.parameters()) == 424_850
    assert sum(p.numel() for p in model.discriminator.parameters()) == 313_170


def test_epic_fm_samples_with_its_moving_average_after_a_warm_up():
    """The moving average is updated after every training step with decay min(d, (1 + n) / (10 + n)) and is the
    network every sample uses, so that validation, test and `jetzoo sample` judge the same weights."""
    from jetzoo.registry import create_model

    model = create_model("epic-fm", num_classes=1, ema_decay=0.999)
    assert model.sampling_velocity is model.velocity_ema
    assert not any(p.requires_grad for p in model.velocity_ema.parameters())
    before = [p.clone() for p in model.velocity_ema.parameters()]
    with torch.no_grad():
        for p in model.velocity.parameters():
            p.add_(1.0)
    model.on_train_batch_end(None, None, 0)  # n = 0: decay 1/10
    for b, p, q in zip(before, model.velocity_ema.parameters(), model.velocity.parameters()):
        torch.testing.assert_close(p, 0.1 * b + 0.9 * q)
    assert int(model.ema_updates) == 1
    assert create_model("epic-fm", num_classes=1).sampling_velocity is not None  # no average: the raw network
