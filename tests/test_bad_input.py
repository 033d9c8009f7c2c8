"""Every way a jet file can be bad gives exactly one one-line JetDataError naming the file and the problem."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import uproot
from format_writers import (
    HLS4ML_CLASSES,
    JETCLASS_CLASSES,
    QUARK_GLUON_CLASSES,
    TOP_TAGGING_CLASSES,
    make_jets,
    write_hls4ml_file,
    write_jetclass_file,
    write_jetnet_file,
    write_quark_gluon_file,
    write_top_tagging_file,
)
from fuzz_mutations import flip_in_dataset, load_h5, load_npz, load_top, save_h5, save_npz, save_top

from jetzoo.datamodules.readers import READERS
from jetzoo.errors import JetDataError

FORMATS = {  # file name (JetNet files are named by jet type), writer, truth classes
    "hls4ml": ("jets.h5", write_hls4ml_file, HLS4ML_CLASSES),
    "top-tagging": ("jets.h5", write_top_tagging_file, TOP_TAGGING_CLASSES),
    "jetclass": ("jets.root", write_jetclass_file, JETCLASS_CLASSES),
    "jetnet": ("t.hdf5", write_jetnet_file, ["t"]),
    "quark-gluon": ("jets.npz", write_quark_gluon_file, QUARK_GLUON_CLASSES),
}


def good_file(fmt, tmp_path, **kwargs):
    name, write, _ = FORMATS[fmt]
    path = tmp_path / name
    write(path, **kwargs)
    return path


def with_bad_value(value, where):
    def make(fmt, tmp_path):
        jets = make_jets(20, 10, FORMATS[fmt][2], seed=5)
        jets.p4[where] = value
        with np.errstate(invalid="ignore"):
            return good_file(fmt, tmp_path, jets=jets)

    return make


def missing(fmt, tmp_path):
    return tmp_path / f"absent_{FORMATS[fmt][0]}"


def text_file(fmt, tmp_path):
    path = tmp_path / FORMATS[fmt][0]
    path.write_text("px,py,pz,E\n1,2,3,4\n")
    return path


def zero_bytes(fmt, tmp_path):
    path = tmp_path / FORMATS[fmt][0]
    path.write_bytes(b"")
    return path


def zero_jets(fmt, tmp_path):
    return good_file(fmt, tmp_path, n=0)


def truncated(fmt, tmp_path):
    path = good_file(fmt, tmp_path, n=300)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def other_format(writer, name):
    def make(fmt, tmp_path):
        writer(tmp_path / name, n=10)
        return tmp_path / name

    return make


def edit_h5(key, change):
    """A good file whose dataset `key` is replaced by change(old) (None deletes it)."""

    def make(fmt, tmp_path):
        path = good_file(fmt, tmp_path, n=20)
        with h5py.File(path, "r+") as f:
            new = change(f[key][()])
            del f[key]
            if new is not None:
                f[key] = new
        return path

    return make


def with_overrides(**overrides):
    def make(fmt, tmp_path):
        n = 20
        values = {k: (v(n) if callable(v) else v) for k, v in overrides.items()}
        return good_file(fmt, tmp_path, n=n, overrides=values)

    return make


def jetclass_tree_named_events(fmt, tmp_path):
    path = tmp_path / "jets.root"
    with uproot.recreate(path) as f:
        f["events"] = {"jet_pt": np.ones(3, np.float32)}
    return path


def npz(**arrays):
    def make(fmt, tmp_path):
        path = tmp_path / "jets.npz"
        np.savez_compressed(path, **{k: v() for k, v in arrays.items()})
        return path

    return make


def npy_array_named_npz(fmt, tmp_path):
    path = tmp_path / "jets.npz"
    with path.open("wb") as f:
        np.save(f, np.ones((3, 5, 4)))
    return path


def jetnet_unnamed(fmt, tmp_path):
    path = tmp_path / "jets.hdf5"
    write_jetnet_file(path, n=10)
    return path


GENERIC_CASES = [
    ("missing-file", missing, "no such file"),
    ("text-file", text_file, "cannot read as"),
    ("zero-bytes", zero_bytes, "cannot read as"),
    ("zero-jets", zero_jets, "contains no jets"),
    ("truncated", truncated, "cannot read as"),
    ("nan", with_bad_value(np.nan, (2, 0, 1)), "NaN or inf"),
    ("inf", with_bad_value(np.inf, (1, 1, 0)), "NaN or inf"),
]

SPECIFIC_CASES = {
    "hls4ml": [
        ("jetnet-file", other_format(write_jetnet_file, "jets.h5"), "no dataset 'jets'"),
        ("no-constituents", edit_h5("jetConstituentList", lambda old: None), "no dataset 'jetConstituentList'"),
        ("3-particle-features", edit_h5("jetConstituentList", lambda old: old[..., :3]), "has shape"),
        ("fewer-constituent-rows", edit_h5("jetConstituentList", lambda old: old[:5]), "5 rows but there are 20 jets"),
        ("unnamed-px", edit_h5("particleFeatureNames", lambda old: np.array([b"x"] + list(old[1:]))), "lacks j1_px"),
        ("nan-feature", edit_h5("jets", lambda old: np.where(np.arange(old.shape[1]) == 1, np.nan, old)),
         "NaN or inf high-level"),
        ("no-label", edit_h5("jets", lambda old: np.where(np.arange(old.shape[1]) == old.shape[1] - 2, 0, old)),
         "exactly one class label"),
    ],
    "top-tagging": [
        ("hls4ml-file", other_format(write_hls4ml_file, "jets.h5"), "cannot read as a Top Tagging"),
        ("no-label-column", with_overrides(is_signal_new=None), "no column 'is_signal_new'"),
        ("no-constituent-columns", with_overrides(**{f"E_{i}": None for i in range(200)}), "no constituent columns"),
        ("missing-PX_7", with_overrides(PX_7=None), "constituent columns missing: PX_7"),
        ("label-2", with_overrides(is_signal_new=lambda n: np.full(n, 2)), "other than 0 and 1"),
    ],
    "jetclass": [
        ("hdf5-file", other_format(write_hls4ml_file, "jets.root"), "cannot read as a JetClass ROOT"),
        ("no-tree", jetclass_tree_named_events, "no TTree 'tree'"),
        ("no-part_px", with_overrides(part_px=None), "lacks branches part_px"),
        ("no-labels", with_overrides(**{f"label_{c}": None for c in JETCLASS_CLASSES}), "no label_"),
        ("two-labels", with_overrides(label_QCD=lambda n: np.ones(n, bool)), "exactly one class label"),
        ("flat-part_px", with_overrides(part_px=lambda n: np.ones(n, np.float32)), "wrong branch shapes: part_px"),
    ],
    "jetnet": [
        ("hls4ml-file", other_format(write_hls4ml_file, "t.hdf5"), "no dataset 'particle_features'"),
        ("no-particles", edit_h5("particle_features", lambda old: None), "no dataset 'particle_features'"),
        ("3-particle-features", edit_h5("particle_features", lambda old: old[..., :3]), "has shape"),
        ("3-jet-features", edit_h5("jet_features", lambda old: old[:, :3]), "has shape"),
        ("fewer-jet-rows", edit_h5("jet_features", lambda old: old[:4]), "4 rows but there are 20 jets"),
        ("type-unknown", jetnet_unnamed, "jet type unknown"),
    ],
    "quark-gluon": [
        ("hdf5-file", other_format(write_hls4ml_file, "jets.npz"), "cannot read as an energyflow"),
        ("no-y", npz(X=lambda: np.ones((3, 5, 4))), "no array y"),
        ("2d-X", npz(X=lambda: np.ones((3, 5)), y=lambda: np.ones(3)), "has shape"),
        ("short-y", npz(X=lambda: np.ones((3, 5, 4)), y=lambda: np.ones(2)), "2 rows but there are 3 jets"),
        ("label-0.5", npz(X=lambda: np.ones((3, 5, 4)), y=lambda: np.full(3, 0.5)), "other than 0 and 1"),
        ("npy-array", npy_array_named_npz, "single array"),
    ],
}

CASES = [
    pytest.param(fmt, make, problem, id=f"{fmt}-{case}")
    for fmt in FORMATS
    for case, make, problem in GENERIC_CASES + SPECIFIC_CASES[fmt]
]


@pytest.mark.parametrize("fmt, make, problem", CASES)
def test_bad_input_raises_one_line_jet_data_error(tmp_path, fmt, make, problem):
    path = make(fmt, tmp_path)
    with pytest.raises(JetDataError) as info:
        READERS[fmt](path)
    message = str(info.value)
    assert type(info.value) is JetDataError
    assert message.startswith(str(path)), message
    assert problem in message, message
    assert "\n" not in message, message
    assert not isinstance(info.value.__cause__, JetDataError)


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_bad_file_in_a_directory_is_named(tmp_path, fmt):
    name, write, _ = FORMATS[fmt]
    good = tmp_path / name
    write(good, n=10)
    bad = tmp_path / f"{good.stem}_broken{good.suffix}" if fmt != "jetnet" else tmp_path / "z_broken.hdf5"
    bad.write_bytes(good.read_bytes()[:100])
    with pytest.raises(JetDataError, match="cannot read as") as info:
        READERS[fmt](tmp_path)
    assert str(info.value).startswith(str(bad))


# --- the cases the mutation fuzzing of the issue found (22 accepted silently, 10 tracebacks) -----
def mutated(load, save, change, huge=None):
    def make(fmt, tmp_path):
        path = good_file(fmt, tmp_path, n=20)
        arrays = load(path)
        change(arrays)
        save(path, arrays, huge=huge)
        return path

    return make


def zero_key(key, column=None):
    def change(d):
        if column is None:
            d[key] = np.zeros_like(d[key])
        else:
            d[key][..., column] = 0

    return change


def negate_column(key, column):
    def change(d):
        d[key][..., column] *= -1

    return change


def flipped(key, how):
    def make(fmt, tmp_path):
        path = good_file(fmt, tmp_path, n=20)
        flip_in_dataset(key, how)(path, np.random.default_rng(0))
        return path

    return make


def set_dtype(key, dtype):
    def change(d):
        d[key] = d[key].astype(dtype)

    return change


def every_energy_zeroed(d):
    for k in d:
        if k[:2] in ("E_", "PX", "PY", "PZ"):
            d[k] = np.zeros_like(d[k])


def negative_energies(d):
    for k in [k for k in d if k.startswith("E_")]:
        d[k] = -d[k]


FUZZ_FOUND = [  # (format, case, make, problem)
    ("hls4ml", "every-constituent-zeroed", mutated(load_h5, save_h5, zero_key("jetConstituentList")), "have no constituents"),
    ("top-tagging", "every-constituent-zeroed", mutated(load_top, save_top, every_energy_zeroed), "have no constituents"),
    ("quark-gluon", "every-constituent-zeroed", mutated(load_npz, save_npz, zero_key("X")), "have no constituents"),
    ("jetnet", "every-mask-zeroed", mutated(load_h5, save_h5, zero_key("particle_features", 3)), "have no constituents"),
    ("hls4ml", "negative-energies", mutated(load_h5, save_h5, negate_column("jetConstituentList", 3)), "energy <= 0"),
    ("top-tagging", "negative-energies", mutated(load_top, save_top, negative_energies), "energy <= 0"),
    ("quark-gluon", "negative-pt", mutated(load_npz, save_npz, negate_column("X", 0)), "pT < 0"),
    ("jetnet", "negative-ptrel", mutated(load_h5, save_h5, negate_column("particle_features", 2)), "ptrel <= 0"),
    ("hls4ml", "bit-flip-to-1e11", flipped("jetConstituentList", "huge"), "1.374e+11"),
    ("top-tagging", "bit-flip-to-1e11", flipped("table/block0_values", "huge"), "1.374e+11"),
    ("hls4ml", "2^40-rows", mutated(load_h5, save_h5, lambda d: None, huge="jetConstituentList"), "more than this machine"),
    ("jetnet", "2^40-rows", mutated(load_h5, save_h5, lambda d: None, huge="particle_features"), "more than this machine"),
    ("quark-gluon", "2^40-rows", mutated(load_npz, save_npz, lambda d: None, huge="X"), "more than this machine"),
    ("jetnet", "particle-features-as-bytes", mutated(load_h5, save_h5, set_dtype("particle_features", "S8")),
     "holds bytes values"),
    ("hls4ml", "strings-in-jets", mutated(load_h5, save_h5, set_dtype("jets", "U8")), "holds string values"),
    ("quark-gluon", "strings-in-X", mutated(load_npz, save_npz, set_dtype("X", "U8")), "holds string values"),
]


@pytest.mark.parametrize("fmt, make, problem", [pytest.param(f, m, p, id=f"{f}-{c}") for f, c, m, p in FUZZ_FOUND])
def test_fuzz_found_cases_are_one_line_errors(tmp_path, fmt, make, problem):
    test_bad_input_raises_one_line_jet_data_error(tmp_path, fmt, make, problem)


@pytest.mark.parametrize("fmt, key", [("hls4ml", "jetConstituentList"), ("top-tagging", "table/block0_values")])
def test_denormal_padding_from_bit_flips_stays_padding(tmp_path, fmt, key):
    """Zero-padded formats: a flipped bit that turns padding into a denormal is still padding."""
    path = good_file(fmt, tmp_path, n=20)
    before = READERS[fmt](path)
    flip_in_dataset(key, "denormal")(path, np.random.default_rng(0))
    after = READERS[fmt](path)
    np.testing.assert_array_equal(after.mask, before.mask)
    np.testing.assert_array_equal(after.p4, before.p4)


@pytest.mark.parametrize("fmt", ["hls4ml", "quark-gluon"])
def test_all_labels_in_one_class_is_not_a_reader_error(tmp_path, fmt):
    """Single-class files are legal (one JetNet type per file; predicting on QCD only); refusing
    fewer than two classes for fit is the datamodule's business."""
    path = good_file(fmt, tmp_path, n=20)
    if fmt == "hls4ml":
        arrays = load_h5(path)
        arrays["jets"][:, -6:-1] = np.eye(5)[0]
        save_h5(path, arrays)
    else:
        arrays = load_npz(path)
        arrays["y"][:] = 0
        save_npz(path, arrays)
    assert set(READERS[fmt](path).labels.tolist()) == {0}
