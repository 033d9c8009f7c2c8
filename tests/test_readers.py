"""Each reader gives back exactly what a file written with that format's own tooling holds."""

from __future__ import annotations

from dataclasses import replace

import h5py
import numpy as np
import pytest
from format_writers import (
    JETCLASS_CLASSES,
    assert_same_jets,
    make_jets,
    massless_p4,
    write_hls4ml_file,
    write_jetclass_file,
    write_jetnet_file,
    write_quark_gluon_file,
    write_top_tagging_file,
)
from published_layouts import (
    write_hls4ml_published,
    write_jetclass_published,
    write_jetnet_published,
    write_quark_gluon_published,
    write_top_tagging_published,
)

from jetzoo.datamodules.readers import (
    CHUNK_READERS,
    READERS,
    expand_paths,
    read_hls4ml,
    read_jetclass,
    read_jetnet,
    read_quark_gluon,
    read_top_tagging,
)
from jetzoo.datamodules.table import JetTable
from jetzoo.errors import JetDataError

# (file name, writer(path, seed) -> truth, reader)
ROUND_TRIPS = {
    "hls4ml-public": ("jets.h5", lambda p, s: write_hls4ml_file(p, seed=s), read_hls4ml),
    "hls4ml-generated": (
        "jets.h5",
        lambda p, s: write_hls4ml_file(p, seed=s, generated=True, class_names=["QCD", "W", "top"], jet_radius=1.0),
        read_hls4ml,
    ),
    "top-tagging-fixed": ("jets.h5", lambda p, s: write_top_tagging_file(p, seed=s, format="fixed"), read_top_tagging),
    "top-tagging-table": ("jets.h5", lambda p, s: write_top_tagging_file(p, seed=s, format="table"), read_top_tagging),
    "jetclass": ("jets.root", lambda p, s: write_jetclass_file(p, seed=s), read_jetclass),
    "jetnet-type-column": ("jets.hdf5", lambda p, s: write_jetnet_file(p, seed=s, type_column=True, n=80), read_jetnet),
    "quark-gluon": ("jets.npz", lambda p, s: write_quark_gluon_file(p, seed=s), read_quark_gluon),
}


@pytest.mark.parametrize("variant", ROUND_TRIPS)
def test_reader_reproduces_the_file(tmp_path, variant):
    name, write, read = ROUND_TRIPS[variant]
    path = tmp_path / name
    truth = write(path, 0)
    table = read(path)
    assert_same_jets(table, truth)
    assert table.source == str(path)


@pytest.mark.parametrize("variant", ROUND_TRIPS)
def test_directory_glob_and_list_paths_concatenate_files(tmp_path, variant):
    name, write, read = ROUND_TRIPS[variant]
    stem, suffix = name.split(".")
    paths = [tmp_path / f"{stem}_{i}.{suffix}" for i in range(2)]
    truths = [write(p, seed) for seed, p in enumerate(paths, start=1)]
    (tmp_path / "README.txt").write_text("not a jet file; a directory read skips it")
    expected = JetTable.concat(truths)
    for path in (tmp_path, tmp_path / f"*.{suffix}", [str(p) for p in paths]):
        table = read(path)
        assert_same_jets(table, expected)
        assert table.source == ", ".join(str(p) for p in paths)


def test_hls4ml_prefers_raw_four_vectors_of_generated_files(tmp_path):
    path = tmp_path / "generated.h5"
    truth = write_hls4ml_file(path, generated=True, class_names=["QCD", "top"])
    with h5py.File(path, "r+") as f:
        f["jetConstituentList"][...] = 0.0
    assert_same_jets(read_hls4ml(path), truth)


def test_hls4ml_public_labels_are_the_named_columns(tmp_path):
    path = tmp_path / "public.h5"
    truth = write_hls4ml_file(path)
    with h5py.File(path, "r") as f:
        names = [n.decode() for n in f["jetFeatureNames"][()]]
        assert names[-6:-1] == ["j_g", "j_q", "j_w", "j_z", "j_t"]
        np.testing.assert_array_equal(f["jets"][:, -6:-1].argmax(axis=1), truth.labels)
    table = read_hls4ml(path)
    assert table.class_names == ["g", "q", "W", "Z", "t"]
    assert "j_undef" not in table.hl_names and "j_index" not in table.hl_names


def test_jetclass_keeps_the_hardest_max_particles(tmp_path):
    path = tmp_path / "jets.root"
    truth = write_jetclass_file(path, particles=40)
    table = read_jetclass(path, max_particles=10)
    assert table.num_particles == 10
    np.testing.assert_allclose(table.p4, truth.p4[:, :10], rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(table.mask, truth.mask[:, :10])
    assert table.class_names == JETCLASS_CLASSES


def test_jetnet_classes_come_from_the_file_names(tmp_path):
    """Public JetNet files hold one type each (g.hdf5, t.hdf5, ...) and store no type column."""
    gluons = write_jetnet_file(tmp_path / "g.hdf5", n=20, jet_type="g", seed=1)
    tops = write_jetnet_file(tmp_path / "t150.hdf5", n=30, jet_type="t", seed=2, particles=150)
    assert read_jetnet(tmp_path / "t150.hdf5").class_names == ["t"]
    table = read_jetnet(tmp_path)
    assert table.class_names == ["g", "t"]
    np.testing.assert_array_equal(table.labels, [0] * 20 + [1] * 30)
    classes = ["g", "t"]
    expected = JetTable.concat(
        [replace(gluons, class_names=classes), replace(tops, class_names=classes, labels=tops.labels + 1)]
    )
    assert_same_jets(table, expected)


def test_jetnet_without_jet_features_uses_a_unit_jet(tmp_path):
    path = tmp_path / "q.hdf5"
    write_jetnet_file(path, n=10, jet_type="q")
    with h5py.File(path, "r+") as f:
        features = f["particle_features"][()]
        del f["jet_features"]
    table = read_jetnet(path)
    etarel, phirel, ptrel, real = np.moveaxis(features.astype(np.float64), -1, 0)
    order = np.argsort(-ptrel, axis=1)
    p4 = massless_p4(ptrel, etarel, phirel) * real[..., None]
    np.testing.assert_allclose(table.p4, np.take_along_axis(p4, order[..., None], axis=1), rtol=1e-5, atol=1e-6)
    assert table.hl is None and table.class_names == ["q"]


def test_truth_jets_are_sorted_and_padded():
    jets = make_jets(5, 8, ["a", "b"], seed=3)
    pt = np.hypot(jets.p4[..., 0], jets.p4[..., 1])
    assert (np.diff(np.where(jets.mask, pt, -1), axis=1) <= 0).all()
    assert not jets.p4[~jets.mask].any()


def test_readers_registry_names_every_reader():
    assert READERS == {
        "hls4ml": read_hls4ml,
        "top-tagging": read_top_tagging,
        "jetclass": read_jetclass,
        "jetnet": read_jetnet,
        "quark-gluon": read_quark_gluon,
    }


def test_expand_paths(tmp_path):
    (tmp_path / "b.h5").write_bytes(b"")
    (tmp_path / "a.H5").write_bytes(b"")
    (tmp_path / "c.root").write_bytes(b"")
    assert expand_paths(tmp_path, (".h5",)) == [tmp_path / "a.H5", tmp_path / "b.h5"]
    assert expand_paths(tmp_path / "c.root", (".h5",)) == [tmp_path / "c.root"]
    assert expand_paths(str(tmp_path / "*.root"), (".h5",)) == [tmp_path / "c.root"]
    for bad, problem in [
        (tmp_path / "missing.h5", "no such file"),
        (tmp_path / "*.npz", "matches no files"),
        (tmp_path, "holds no .npz files"),
    ]:
        with pytest.raises(JetDataError, match=problem) as info:
            expand_paths(bad, (".npz",))
        assert str(bad) in str(info.value)


# --- files laid out as published (tests/published_layouts.py cites each source) ------------------


@pytest.mark.parametrize("particles, dtype", [(100, np.float64), (150, np.float64), (30, np.float32)])
def test_hls4ml_published_layout(tmp_path, particles, dtype):
    """17 particleFeatureNames for 16 columns (j1_pdgid), float64, images never read (they hold NaN)."""
    path = tmp_path / "jetImage_7_100p_0_10000.h5"
    truth = write_hls4ml_published(path, particles=particles, dtype=dtype)
    assert_same_jets(read_hls4ml(path), truth)


def test_hls4ml_surplus_feature_names_other_than_pdgid_are_refused(tmp_path):
    path = tmp_path / "jets.h5"
    write_hls4ml_published(path)
    with h5py.File(path, "r+") as f:
        names = f["particleFeatureNames"][()]
        del f["particleFeatureNames"]
        f["particleFeatureNames"] = np.array([*names[:-1], b"j1_mystery"])
    with pytest.raises(JetDataError, match="lists 17 names"):
        read_hls4ml(path)


def test_top_tagging_published_layout(tmp_path):
    path = tmp_path / "train.h5"
    truth = write_top_tagging_published(path)
    assert_same_jets(read_top_tagging(path), truth)


@pytest.mark.parametrize("particles", [30, 150])
def test_jetnet_published_one_class_per_file(tmp_path, particles):
    truths = write_jetnet_published(tmp_path, particles=particles)
    suffix = "150" if particles == 150 else ""
    single = read_jetnet(tmp_path / f"t{suffix}.hdf5")  # one class: legal for a reader
    assert single.class_names == ["t"] and (single.labels == 0).all()
    assert_same_jets(single, truths["t"])
    both = read_jetnet(tmp_path)
    assert both.class_names == ["g", "t"]
    np.testing.assert_array_equal(both.labels, [0] * 15 + [1] * 15)


def test_jetclass_published_layout_one_class_per_file(tmp_path):
    path = tmp_path / "TTBar_000.root"
    truth = write_jetclass_published(path)
    assert_same_jets(read_jetclass(path), truth)


def test_quark_gluon_published_files_of_different_widths(tmp_path):
    truths = write_quark_gluon_published(tmp_path)
    table = read_quark_gluon(tmp_path)
    assert_same_jets(table, JetTable.concat(truths))
    assert table.num_particles == 40


# --- chunk iterators ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ROUND_TRIPS)
def test_chunks_join_to_the_whole_file(tmp_path, variant):
    name, write, read = ROUND_TRIPS[variant]
    path = tmp_path / name
    write(path, 0)
    fmt = {read_hls4ml: "hls4ml", read_top_tagging: "top-tagging", read_jetclass: "jetclass",
           read_jetnet: "jetnet", read_quark_gluon: "quark-gluon"}[read]
    chunks = list(CHUNK_READERS[fmt](path, chunk_size=7))
    whole = read(path)
    assert [len(c) for c in chunks[:-1]] == [7] * (len(chunks) - 1) and 0 < len(chunks[-1]) <= 7
    assert sum(map(len, chunks)) == len(whole)
    joined = JetTable.concat(chunks)
    assert joined.source == str(path)
    assert_same_jets(joined, whole)


def test_chunk_size_below_one_is_refused(tmp_path):
    path = tmp_path / "jets.npz"
    write_quark_gluon_file(path)
    with pytest.raises(JetDataError, match="chunk_size must be at least 1"):
        list(CHUNK_READERS["quark-gluon"](path, chunk_size=0))


def test_a_padding_slot_given_an_energy_is_refused_not_counted_as_a_constituent(tmp_path):
    """A Top Tagging row whose padding slot became a particle at rest (E = 2 GeV, p = 0) was read as a real
    constituent (issue 24 §1.4): a constituent needs pT > 0 to have a direction."""
    from format_writers import write_top_tagging_file

    from jetzoo.datamodules.readers import read_top_tagging

    plain = tmp_path / "plain.h5"
    write_top_tagging_file(plain, n=10, particles=20)
    assert len(read_top_tagging(plain).labels) == 10
    energy = np.zeros(10, np.float32)
    energy[3] = 2.0  # slot 150 of jet 3: padding, now with an energy and no momentum
    garbage = tmp_path / "garbage.h5"
    write_top_tagging_file(garbage, n=10, particles=20, overrides={"E_150": energy})
    with pytest.raises(JetDataError, match=r"1 constituents without transverse momentum .* in 1 jets") as err:
        read_top_tagging(garbage)
    assert "\n" not in str(err.value) and str(err.value).startswith(str(garbage))
