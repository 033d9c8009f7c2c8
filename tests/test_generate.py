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
    tau_axes = hls4ml["attrs"]["tau_axes"]
    assert tau_axes == "exclusive-kt"  # the hls4ml convention, the recipe's default
    hl, stored = high_level_features(p4, p4[..., 3] > 0, 0.8, tau_axes), hls4ml["jets"][keep, :F]
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


# --- data fidelity: cache reuse, temp files, orphans, damaged cache, banner, announcement, physics ---

import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from jetzoo.generate import stale_recipe_warning  # noqa: E402
from jetzoo.generate.recipes import TOP_MASS  # noqa: E402
from jetzoo.generate.writer import remove_stale_temp_files  # noqa: E402

JETZOO = [sys.executable, "-m", "jetzoo.cli"]
QG = dict(recipe="quark-gluon", n=2, seed=3)  # two chunks (one per class): two workers, a few seconds


def jetzoo_generate(*args, cache, timeout=300):
    env = dict(os.environ, JETZOO_CACHE=str(cache), PYTHONUNBUFFERED="1")
    return subprocess.run(
        [*JETZOO, "generate", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def qg_cache(tmp_path_factory):
    """A cache holding quark-gluon n=2 seed=3, made by a real `jetzoo generate` (2 workers); and its output."""
    cache = tmp_path_factory.mktemp("qg-cache")
    result = jetzoo_generate(
        "--recipe", "quark-gluon", "--n", "2", "--seed", "3", "--workers", "2", "--no-progress", cache=cache
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return cache, result


def test_generation_prints_no_fastjet_banner_and_announces_itself(qg_cache):
    cache, result = qg_cache
    path = default_dataset_path(**QG).name
    assert result.stdout.strip() == str(cache / path)
    assert "FastJet release" not in result.stdout + result.stderr
    assert "#----" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("jetzoo: generating")]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert "2 quark-gluon jets" in line and f"v{RECIPES['quark-gluon'].version}" in line and "seed 3" in line
    assert str(cache / path) in line and "expected ~" in line and "jets/s per core" in line


def test_identical_cached_file_is_copied_not_regenerated(qg_cache, tmp_path, monkeypatch, capsys):
    cache, _ = qg_cache
    monkeypatch.setenv("JETZOO_CACHE", str(cache))
    cached = default_dataset_path(**QG)

    def no_generation(*args, **kwargs):
        raise AssertionError("no Pythia run expected")

    monkeypatch.setattr("jetzoo.generate.runner.run_chunks", no_generation)
    out = generate(**QG, out=tmp_path / "top.h5", workers=1, progress=False)
    assert out.read_bytes() == cached.read_bytes()
    assert "copying the cached" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["top.h5"]  # no temp file left
    # through the CLI, as in the README
    parser = argparse.ArgumentParser()
    add_generate_arguments(parser)
    args = parser.parse_args(["--recipe", "quark-gluon", "--n", "2", "--seed", "3", "--out", str(tmp_path / "b.h5")])
    assert run_generate_command(args) == 0
    assert (tmp_path / "b.h5").read_bytes() == cached.read_bytes()
    # anything else is generated: another seed, another n, other tau axes, a detector
    for kwargs in (dict(seed=4), dict(n=4), dict(tau_axes="exclusive-kt"), dict(detector="atlas-like")):
        with pytest.raises(AssertionError, match="no Pythia run"):
            generate(**{**QG, **kwargs}, out=tmp_path / "other.h5", workers=1, progress=False)


def test_damaged_cache_file_is_regenerated_with_a_message(qg_cache, tmp_path, monkeypatch, capsys):
    cache, _ = qg_cache
    monkeypatch.setenv("JETZOO_CACHE", str(cache))
    good = default_dataset_path(**QG).read_bytes()
    monkeypatch.setenv("JETZOO_CACHE", str(tmp_path))
    path = default_dataset_path(**QG)
    path.write_bytes(good[: len(good) // 2])  # truncated
    assert ensure_generated(**QG, workers=1, progress=False) == path
    err = [line for line in capsys.readouterr().err.splitlines() if "does not read" in line]
    assert len(err) == 1 and str(path) in err[0] and "regenerating it" in err[0]
    a, b = read_arrays(path), read_arrays(cache / path.name)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    ensure_generated(**QG, workers=1, progress=False)  # whole again: reused silently
    assert "does not read" not in capsys.readouterr().err


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_stale_temp_files_of_dead_processes_on_this_host_are_removed(tmp_path):
    out, host = tmp_path / "jets.h5", socket.gethostname()
    dead, alive = dead_pid(), os.getppid()
    names = {
        "dead": f"jets.h5.tmp-{host}-{dead}",
        "alive": f"jets.h5.tmp-{host}-{alive}",
        "other host": f"jets.h5.tmp-not-{host}-{dead}",
        "other file": f"other.h5.tmp-{host}-{dead}",
        "old style": f"jets.h5.tmp-{dead}",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    removed = remove_stale_temp_files(out)
    assert [p.name for p in removed] == [names["dead"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(v for k, v in names.items() if k != "dead")


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out |= {int(c) for c in (task / "children").read_text().split()}
        except FileNotFoundError:
            pass
    return out


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_kill_9_leaves_no_orphan_workers_and_a_rerun_cleans_its_temp_file(qg_cache, tmp_path):
    cache, _ = qg_cache
    out = tmp_path / "k.h5"
    env = dict(os.environ, JETZOO_CACHE=str(cache))
    cmd = [*JETZOO, "generate", "--recipe", "top-landscape", "--n", "2000", "--workers", "2", "--no-progress"]
    proc = subprocess.Popen([*cmd, "--out", str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, workers = time.time() + 120, set()
        while time.time() < deadline and len(workers) < 2 and proc.poll() is None:
            workers = {c for c in _children(proc.pid) if b"spawn_main" in _cmdline(c)}
            time.sleep(0.1)
        assert len(workers) == 2, proc.stderr.read().decode()[-2000:] if proc.poll() is not None else "no workers"
        time.sleep(1.0)  # let them start generating
        everything = _children(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    # with no death signal, a worker would finish its 1000-jet chunk first (tens of seconds), then exit
    deadline = time.time() + 5
    while time.time() < deadline and any(_running(c) for c in everything):
        time.sleep(0.1)
    assert not [c for c in everything if _running(c)], "worker processes outlived a kill -9 of jetzoo generate"
    # what a kill -9 during writing leaves: the temp file of the killed pid; the next run on this host removes it
    stale = tmp_path / f"k.h5.tmp-{socket.gethostname()}-{proc.pid}"
    stale.write_bytes(b"half a file")
    result = jetzoo_generate("--recipe", "quark-gluon", "--n", "2", "--seed", "3", "--out", str(out), cache=cache)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.h5"]


def test_hls4ml_jets_respect_the_eta_cut(hls4ml):
    assert RECIPES["hls4ml-5class"].abs_eta_max == 2.0
    assert np.abs(column(hls4ml, "j_eta")).max() < 2.0
    assert hls4ml["attrs"]["recipe_version"] == RECIPES["hls4ml-5class"].version >= 2
    assert hls4ml["attrs"]["detector"] == "none"


def test_recipes_with_tops_set_the_top_mass():
    assert TOP_MASS == 172.5
    for recipe in RECIPES.values():
        has_tops = any(6 in s.matched_ids or any(x.startswith("Top:") for x in s.pythia_settings)
                       for s in recipe.sources)
        settings = [recipe.pythia_settings(c) for c in range(len(recipe.sources))]
        assert all(("6:m0 = 172.5" in s) == has_tops for s in settings), recipe.name
        assert recipe.version >= 2 and recipe.detector == "none"
    assert {r.name for r in RECIPES.values() if r.top_mass} == {"hls4ml-5class", "top-landscape"}
    assert RECIPES["hls4ml-5class"].tau_axes == "exclusive-kt"
    assert RECIPES["top-landscape"].tau_axes == RECIPES["quark-gluon"].tau_axes == "wta-kt"


def test_stale_recipe_warning():
    current = RECIPES["top-landscape"].version
    old = stale_recipe_warning({"recipe": b"top-landscape", "recipe_version": 1}, source="x.h5")
    assert old is not None and "\n" not in old and "x.h5" in old and "version 1" in old and "stale" in old
    assert stale_recipe_warning({"recipe": "top-landscape"}) is not None  # no version: version 1
    assert stale_recipe_warning({"recipe": "top-landscape", "recipe_version": current}) is None
    assert stale_recipe_warning({"class_names": ["g"]}) is None  # a published file
    assert stale_recipe_warning({"recipe": "someone-elses"}) is None


def test_cache_key_and_help_cover_tau_axes_and_seeds(monkeypatch, tmp_path):
    monkeypatch.setenv("JETZOO_CACHE", str(tmp_path))
    v = RECIPES["top-landscape"].version
    assert default_dataset_path("top-landscape", 10, 1).name == f"top-landscape-v{v}-seed1-n10.h5"
    assert default_dataset_path("top-landscape", 10, 1, tau_axes="wta-kt").name == f"top-landscape-v{v}-seed1-n10.h5"
    assert default_dataset_path("top-landscape", 10, 1, tau_axes="exclusive-kt").name.endswith("-tau-exclusive-kt.h5")
    parser = argparse.ArgumentParser()
    add_generate_arguments(parser)
    text = " ".join(parser.format_help().split())
    assert "--tau-axes {wta-kt,exclusive-kt}" in text and "different --seed" in text and "share" in text
    assert "--detector {none,atlas-like,cms-like}" in text
    assert default_dataset_path("top-landscape", 10, 1, detector="cms-like").name == f"top-landscape-v{v}-seed1-n10-det-cms-like.h5"
    args = parser.parse_args(["--recipe", "quark-gluon", "--n", "2", "--tau-axes", "exclusive-kt"])
    assert args.tau_axes == "exclusive-kt"


def test_two_processes_wanting_the_same_cached_file_generate_it_once(tmp_path):
    """The second waits on the first's lock and reuses its file, instead of generating the same jets again."""
    code = "from jetzoo.generate import ensure_generated; print(ensure_generated('quark-gluon', 2, 7, workers=1, progress=False))"
    env = dict(os.environ, JETZOO_CACHE=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.communicate(timeout=300), p.returncode) for p in procs]
    assert [rc for _, rc in results] == [0, 0], [err[-2000:] for (_, err), _ in results]
    assert len({out.strip() for (out, _), _ in results}) == 1
    announced = [err for (_, err), _ in results if "generating" in err]
    assert len(announced) == 1, [err for (_, err), _ in results]
    assert len(read_arrays(Path(results[0][0][0].strip()))["jets"]) == 2
