"""`jetzoo generate` with real Pythia 8 + FastJet, on small samples."""

import argparse

import h5py
import numpy as np
import pytest

import jetzoo
from jetzoo.errors import JetDataError
from jetzoo.generate import (
    RECIPES,
    add_generate_arguments,
    default_dataset_path,
    ensure_generated,
    generate,
    run_generate_command,
)
from jetzoo.physics.features import HL_FEATURE_NAMES, HLS4ML_PARTICLE_FEATURE_NAMES, high_level_features

N_PHYSICS = 250  # 50 jets per hls4ml class
F = len(HL_FEATURE_NAMES)


@pytest.fixture(scope="session")
def hls4ml_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated") / "hls4ml.h5"
    return generate("hls4ml-5class", N_PHYSICS, seed=0, out=out, workers=2, progress=False)


@pytest.fixture(scope="session")
def hls4ml(hls4ml_file):
    with h5py.File(hls4ml_file, "r") as f:
        data = {k: f[k][:] for k in f}
        data["attrs"] = dict(f.attrs)
    return data


def column(data, name):
    names = [s.decode() for s in data["jetFeatureNames"]]
    return data["jets"][:, names.index(name)]


def labels(data):
    return np.argmax(data["jets"][:, -6:-1], axis=1)  # the public hls4ml convention


def test_layout_matches_design(hls4ml):
    n, p = N_PHYSICS, 100
    names = [s.decode() for s in hls4ml["jetFeatureNames"]]
    assert names == HL_FEATURE_NAMES + ["j_undef", "j_g", "j_q", "j_w", "j_z", "j_t", "j_index"]
    assert [s.decode() for s in hls4ml["particleFeatureNames"]] == HLS4ML_PARTICLE_FEATURE_NAMES
    assert hls4ml["jets"].shape == (n, F + 7) and hls4ml["jets"].dtype == np.float32
    assert hls4ml["jetConstituentList"].shape == (n, p, 16) and hls4ml["jetConstituentList"].dtype == np.float32
    assert hls4ml["jetConstituentP4"].shape == (n, p, 4) and hls4ml["jetConstituentP4"].dtype == np.float32
    np.testing.assert_array_equal(hls4ml["jetConstituentList"][..., :4], hls4ml["jetConstituentP4"])
    attrs = hls4ml["attrs"]
    assert attrs["recipe"] == "hls4ml-5class" and attrs["seed"] == 0 and attrs["n"] == n
    assert attrs["jetzoo_version"] == jetzoo.__version__
    assert list(attrs["class_names"]) == ["g", "q", "W", "Z", "t"]
    assert attrs["jet_radius"] == pytest.approx(0.8)
    assert "Pythia" in attrs["generator"] and "FastJet" in attrs["generator"]
    for key in ("jets", "jetConstituentList", "jetConstituentP4"):
        assert np.isfinite(hls4ml[key]).all()


def test_constituents_sorted_and_zero_padded(hls4ml):
    p4 = hls4ml["jetConstituentP4"].astype(np.float64)
    pt = np.hypot(p4[..., 0], p4[..., 1])
    real = p4[..., 3] > 0
    assert (np.diff(pt, axis=1) <= 1e-3).all()  # descending; padding (0) last
    assert (real[:, :-1] | ~real[:, 1:]).all()  # no gap before the padding
    assert (hls4ml["jetConstituentList"][~real] == 0).all()
    n_stored = real.sum(1)
    np.testing.assert_array_equal(n_stored, np.minimum(column(hls4ml, "j_multiplicity"), 100))


def test_labels_balanced_and_one_hot(hls4ml):
    onehot = hls4ml["jets"][:, -6:-1]
    assert set(np.unique(onehot)) == {0.0, 1.0} and (onehot.sum(1) == 1).all()
    assert np.bincount(labels(hls4ml), minlength=5).tolist() == [N_PHYSICS // 5] * 5
    assert (column(hls4ml, "j_undef") == 0).all()
    np.testing.assert_array_equal(column(hls4ml, "j_index"), np.arange(N_PHYSICS))
    pt = column(hls4ml, "j_pt")
    assert pt.min() >= 900 and pt.max() < 1100


def test_soft_drop_mass_peaks(hls4ml):
    msd, y = column(hls4ml, "j_mass_sd"), labels(hls4ml)
    medians = {c: float(np.median(msd[y == i])) for i, c in enumerate(["g", "q", "W", "Z", "t"])}
    print("soft-drop mass medians [GeV]:", {c: round(m, 1) for c, m in medians.items()})
    assert 65 <= medians["W"] <= 95
    assert 75 <= medians["Z"] <= 105
    assert 140 <= medians["t"] <= 200
    assert medians["W"] < medians["Z"] < medians["t"]


def test_gluon_jets_have_more_constituents_than_quark_jets(hls4ml):
    mult, y = column(hls4ml, "j_multiplicity"), labels(hls4ml)
    assert mult[y == 0].mean() > mult[y == 1].mean()


def test_stored_features_match_recomputation_from_constituents(hls4ml):
    keep = column(hls4ml, "j_multiplicity") <= 100  # untruncated jets: the stored P particles are all of them
    p4 = hls4ml["jetConstituentP4"][keep]
    hl, stored = high_level_features(p4, p4[..., 3] > 0, 0.8), hls4ml["jets"][keep, :F]
    sd = HL_FEATURE_NAMES.index("j_mass_sd")
    others = [i for i in range(F) if i != sd]
    np.testing.assert_allclose(hl[:, others], stored[:, others], rtol=2e-3, atol=2e-3)
    # float32 storage can flip near-tied C/A merges in soft (few-GeV) groomed jets: allow a few small changes
    assert np.mean(~np.isclose(hl[:, sd], stored[:, sd], rtol=1e-2, atol=0.1)) < 0.05


def read_arrays(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][:] for k in ("jets", "jetConstituentList", "jetConstituentP4")}


def test_reproducible_and_independent_of_workers(tmp_path):
    one = generate("quark-gluon", 6, seed=5, out=tmp_path / "one.h5", workers=1, progress=False)
    two = generate("quark-gluon", 6, seed=5, out=tmp_path / "two.h5", workers=2, progress=False)
    other = generate("quark-gluon", 6, seed=6, out=tmp_path / "other.h5", workers=1, progress=False)
    a, b, c = read_arrays(one), read_arrays(two), read_arrays(other)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["jetConstituentP4"], c["jetConstituentP4"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.h5", "other.h5", "two.h5"]


def test_existing_file_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "taken.h5"
    out.write_bytes(b"precious")
    with pytest.raises(JetDataError, match=f"{out}: exists; pass --overwrite to replace it"):
        generate("quark-gluon", 2, seed=0, out=out, progress=False)
    assert out.read_bytes() == b"precious"
    generate("quark-gluon", 2, seed=0, out=out, workers=1, overwrite=True, progress=False)
    assert h5py.is_hdf5(out)


@pytest.mark.parametrize("where", ["generation", "writing"])
def test_interrupted_run_leaves_no_file(tmp_path, monkeypatch, where):
    import jetzoo.generate.runner as runner
    import jetzoo.generate.writer as writer

    if where == "generation":
        real_task = runner._run_task
        calls = []

        def interrupt_second_chunk(task, on_jets=None):
            calls.append(task)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return real_task(task, on_jets)

        monkeypatch.setattr(runner, "_run_task", interrupt_second_chunk)
    else:
        real_write = writer._write

        def crash_after_writing(path, *args):
            real_write(path, *args)
            assert path.exists()  # the temporary file was really there
            raise KeyboardInterrupt

        monkeypatch.setattr(writer, "_write", crash_after_writing)
    with pytest.raises(KeyboardInterrupt):
        generate("quark-gluon", 2, seed=0, out=tmp_path / "out.h5", workers=1, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_cache_path_cli_and_reuse(tmp_path, monkeypatch):
    monkeypatch.setenv("JETZOO_CACHE", str(tmp_path / "cache"))
    expected = tmp_path / "cache" / f"quark-gluon-v{RECIPES['quark-gluon'].version}-seed2-n2.h5"
    assert default_dataset_path("quark-gluon", 2, 2) == expected
    parser = argparse.ArgumentParser()
    add_generate_arguments(parser)
    args = parser.parse_args(["--recipe", "quark-gluon", "--n", "2", "--seed", "2", "--workers", "1", "--no-progress"])
    assert run_generate_command(args) == 0
    assert expected.exists()

    def no_generation(*args, **kwargs):
        raise AssertionError("a cached file must be reused")

    monkeypatch.setattr("jetzoo.generate.api.generate", no_generation)
    assert ensure_generated("quark-gluon", 2, 2) == expected
    with pytest.raises(SystemExit):
        parser.parse_args(["--recipe", "quark-gluon", "--n", "0"])


def test_recipes_describe_their_tasks():
    assert RECIPES["hls4ml-5class"].class_names == ["g", "q", "W", "Z", "t"]
    assert RECIPES["top-landscape"].class_names == ["QCD", "top"]
    assert RECIPES["quark-gluon"].class_names == ["g", "q"]
    assert [RECIPES[r].jet_radius for r in ("hls4ml-5class", "top-landscape", "quark-gluon")] == [0.8, 0.8, 0.4]
    with pytest.raises(ValueError, match="unknown recipe"):
        generate("no-such-recipe", 10)
