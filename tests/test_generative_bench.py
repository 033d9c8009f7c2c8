"""`jetzoo bench` on a generative spec (issue 22 §5): a real (tiny) run of a generator within its CPU budget, the
best-W1M checkpoint tested with the JetNet protocol against its truth floor, its record and table, the generated
jets as a JetNet-layout file, and a re-run that resumes from the records."""

from __future__ import annotations

import json
import math

import h5py
import yaml

from jetzoo.bench import run_bench, store
from jetzoo.bench.spec import parse_spec


def tiny_spec(top_jets_file, tmp_path, out, **keys):
    """A one-run spec of a small epic-gan on the fixture's top jets (3 epochs at most, 150 test jets), with `keys`."""
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump({
        "models": [{"name": "epic-gan", "args": {"hidden": 16}}],
        "data": {"name": "pythia", "args": {"path": str(top_jets_file), "classes": ["top"], "batch_size": 64,
                                            "test_fraction": 0.5, "view": "cloud"}},
        "seeds": 1, "epochs": 3, "eval_jets": 150, "trainer": {"threads": 1}, "out": str(out), **keys,
    }))
    return parse_spec(["--config", str(spec_file)])[0]


def test_a_generative_bench_trains_within_its_budget_reports_the_floor_and_resumes(top_jets_file, tmp_path):
    out = tmp_path / "gen"
    spec = tiny_spec(top_jets_file, tmp_path, out, cpu_budget_hours=0.001, plots=True)
    run_bench(spec)
    record = json.loads((out / "runs" / "epic-gan-seed0.json").read_text())
    assert record["status"] == "ok" and record["task"] == "generation", record.get("error")
    assert record["train_cpu_s"] < 3.6 + 10  # stopped at the first batch past the 3.6 s budget
    assert record["cpu_budget_exhausted"] or record["epochs_run"] == 3
    curve = record["curve"]  # the first epoch is a point (the curve once lagged by one epoch), and the last
    epochs = [point["epoch"] for point in curve]
    assert epochs[0] == 1 and epochs[-1] == record["epochs_run"] and epochs == sorted(set(epochs)), epochs
    assert all({"epoch", "cpu_s", "val_w1m"} <= set(point) for point in curve)
    assert min(curve, key=lambda point: point["val_w1m"])["epoch"] == record["best_epoch"]  # the epoch tested
    # FPD points take at most 5% of the CPU: the first epoch always has one, later ones when it is their turn
    assert math.isfinite(curve[0]["val_fpd"]) and curve[0]["val_fpd"] >= 0
    metrics = record["metrics"]
    assert record["n_jets"] == 150
    for key in ("w1m", "w1p", "w1efp", "fpd", "kpd", "c2st_auc"):
        assert key in metrics and f"{key}_floor" in metrics, key
    assert metrics["w1m"] > metrics["w1m_floor"]  # a generator trained for seconds is far from the data
    table = (out / "leaderboard.md").read_text()
    assert "| truth |" in table and "| epic-gan | 1 |" in table and "W1EFP" in table
    for stem in ("distributions", "validation_w1m", "validation_fpd"):  # MPGAN's figure, W1M and FPD against CPU time
        assert (out / "plots" / f"{stem}.png").stat().st_size > 1000 and (out / "plots" / f"{stem}.pdf").is_file()
    with h5py.File(store.predictions_path(out, "epic-gan", 0)) as f:
        assert f["particle_features"].shape == (150, 30, 4)
    written = (out / "runs" / "epic-gan-seed0.json").stat().st_mtime_ns
    run_bench(spec)  # resumes: nothing to redo
    assert (out / "runs" / "epic-gan-seed0.json").stat().st_mtime_ns == written
    # a clone has the record and the kept weights, not the jets: they are re-made (same seed), not re-trained
    with h5py.File(store.predictions_path(out, "epic-gan", 0)) as f:
        jets = f["particle_features"][()]
    store.predictions_path(out, "epic-gan", 0).unlink()
    run_bench(spec)
    assert (out / "runs" / "epic-gan-seed0.json").stat().st_mtime_ns == written
    with h5py.File(store.predictions_path(out, "epic-gan", 0)) as f:
        assert (f["particle_features"][()] == jets).all()


def test_the_published_rows_are_those_of_the_boards_one_jet_type_and_in_the_tables_units():
    from jetzoo.bench.generative_table import COLUMNS, published_rows

    gluon = published_rows(["g"])
    assert len(gluon) == 5 and all("published, other data (JetNet30)" in row for row in gluon)
    mpgan = next(row for row in gluon if row.startswith("| MPGAN (arXiv:2106.11535"))
    assert mpgan.count("|") == len(COLUMNS) + 7 and "| 0.7 ± 0.2 | 0.9 ± 0.3 | 0.7 ± 0.2 |" in mpgan  # ×10⁻³, ×10⁻⁵
    assert published_rows(["t"])[0].startswith("| MPGAN") and published_rows(["g", "t"]) == published_rows(["W"]) == []


def test_a_generator_that_diverges_in_the_bench_is_tested_at_its_best_epoch_before(top_jets_file, tmp_path, monkeypatch):
    """A run whose losses turn NaN in its second epoch (injected into the real loop: a diverging GAN is not
    reproducible on demand) stops there; the bench tests its best epoch before, records the one line and says so
    in the table, instead of failing the run or training on NaN until the budget ends."""
    from jetzoo.zoo.epic_gan import EPiCGAN

    real_loss = EPiCGAN.generator_loss

    def diverging(self, fake, labels):
        loss = real_loss(self, fake, labels)
        return loss * float("nan") if self.current_epoch >= 1 else loss

    monkeypatch.setattr(EPiCGAN, "generator_loss", diverging)
    out = tmp_path / "gen"
    spec = tiny_spec(top_jets_file, tmp_path, out)
    run_bench(spec)
    record = json.loads((out / "runs" / "epic-gan-seed0.json").read_text())
    assert record["status"] == "ok", record.get("error")
    assert record["diverged"].startswith("EPiCGAN: NaN or inf in the generator loss (train batch 0 of epoch 1, "), record
    assert record["best_epoch"] == 1 and [point["epoch"] for point in record["curve"]] == [1]
    assert all(math.isfinite(value) for value in record["metrics"].values())
    assert "seed 0 diverged (NaN), its best epoch before tested" in (out / "leaderboard.md").read_text()


def test_w1m_points_take_at_most_their_share_of_the_cpu_budget(monkeypatch):
    """CpuBudget's cadence on a CPU clock the test moves: an epoch trains for 10 s, a W1M point samples for 20 s
    more, every validation's loss costs 1 s. With a share of 0.25 a point is due once the CPU since the last one is
    3 times its cost, so sampling takes at most a quarter of the budget; the first epoch, the last and the
    validation after the budget ends are points; BestEpoch sees the points only (a generator's epochs between
    points log no W1M)."""
    from types import SimpleNamespace

    import torch

    from jetzoo.bench import convergence

    clock = {"t": 0.0}
    monkeypatch.setattr(convergence, "cpu_seconds", lambda: clock["t"])
    budget, best = convergence.CpuBudget(seconds=1000.0, validation_share=0.25), convergence.BestEpoch()
    module = SimpleNamespace(validate_w1m=True, last_validation_fpd=None, state_dict=lambda: {})
    trainer = SimpleNamespace(sanity_checking=False, current_epoch=0, max_epochs=100_000, should_stop=False,
                              strategy=SimpleNamespace(broadcast=lambda value, src: value), callback_metrics={})
    sampling = 0.0
    for epoch in range(1000):
        trainer.current_epoch = epoch
        clock["t"] += 10.0
        budget.on_train_batch_end(trainer, module, None, None, 0)
        budget.on_validation_start(trainer, module)
        if module.validate_w1m:
            clock["t"], sampling = clock["t"] + 20.0, sampling + 20.0
            trainer.callback_metrics = {"val/loss": torch.tensor(100.0 - epoch), "val/w1m": torch.tensor(100.0 - epoch)}
        clock["t"] += 1.0
        budget.on_validation_end(trainer, module)
        best.on_validation_end(trainer, module)
        if trainer.should_stop:
            break
    epochs = [point["epoch"] for point in budget.curve]
    assert budget.exhausted and epochs[0] == 1 and epochs[-1] == trainer.current_epoch + 1, epochs
    assert 10 < len(epochs) < trainer.current_epoch + 1  # points, not every epoch
    assert sampling / clock["t"] <= 0.25 + 21.0 / clock["t"], (sampling, clock["t"])  # a quarter, one point's slack
    assert [point["epoch"] for point in best.curve] == epochs and best.best_epoch == epochs[-1]
    state = budget.state_dict()  # a resumed run keeps the cadence
    resumed = convergence.CpuBudget(seconds=1000.0, validation_share=0.25)
    resumed.load_state_dict(state)
    assert resumed.next_point == budget.next_point and resumed.curve == budget.curve
