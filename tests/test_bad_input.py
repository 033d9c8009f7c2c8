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
