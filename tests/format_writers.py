"""Writers of small jet files in each public format, using that format's own tooling.

Each `write_<format>_file(path, n, ..., jets=None)` writes `n` jets (or the given truth `jets`, a
JetTable from `make_jets`) and returns the JetTable its reader must give back: pT-sorted
(px, py, pz, E), labels and class names as the format defines them, the format's jet-level features.
Constituents are written in shuffled order so readers must sort them.
"""

from __future__ import annotations


import awkward as ak
import h5py
import numpy as np
import pandas as pd
import uproot

from jetzoo.datamodules.table import JetTable

HLS4ML_CLASSES = ["g", "q", "W", "Z", "t"]
HLS4ML_PARTICLE_FEATURES = [
    "j1_px", "j1_py", "j1_pz", "j1_e", "j1_erel", "j1_pt", "j1_ptrel", "j1_eta", "j1_etarel", "j1_etarot",
    "j1_phi", "j1_phirel", "j1_phirot", "j1_deltaR", "j1_costheta", "j1_costhetarel",
]
HL_NAMES = ["j_pt", "j_eta", "j_mass", "j_tau21_b1", "j_multiplicity"]
TOP_TAGGING_CLASSES = ["QCD", "top"]
TOP_TAGGING_SLOTS = 200
JETCLASS_CLASSES = ["QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl"]
JETCLASS_JET_BRANCHES = [
    "jet_pt", "jet_eta", "jet_phi", "jet_energy", "jet_nparticles", "jet_sdmass",
    "jet_tau1", "jet_tau2", "jet_tau3", "jet_tau4",
]
JETNET_TYPES = ["g", "q", "t", "w", "z"]
JETNET_CLASS_NAMES = {"g": "g", "q": "q", "t": "t", "w": "W", "z": "Z"}
QUARK_GLUON_CLASSES = ["g", "q"]


def make_jets(n: int, max_particles: int, class_names: list[str], seed: int = 0, min_particles: int = 1) -> JetTable:
    """`n` jets of massless particles scattered around a random axis, pT-sorted and zero padded."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(min_particles, max_particles + 1, size=n)
    mask = np.arange(max_particles)[None, :] < counts[:, None]
    axis_eta, axis_phi = rng.uniform(-1.5, 1.5, (n, 1)), rng.uniform(-np.pi, np.pi, (n, 1))
    pt = rng.exponential(20.0, (n, max_particles)) + 0.5
    eta = axis_eta + rng.normal(0, 0.2, (n, max_particles))
    phi = wrap(axis_phi + rng.normal(0, 0.2, (n, max_particles)))
    pt = np.where(mask, -np.sort(-np.where(mask, pt, -np.inf), axis=1), 0.0)
    p4 = massless_p4(pt, eta, phi) * mask[..., None]
    return JetTable(
        p4=p4.astype(np.float32), mask=mask, labels=rng.integers(0, len(class_names), n).astype(np.int64),
        class_names=list(class_names), source="truth",
    )


def wrap(phi):
    return (phi + np.pi) % (2 * np.pi) - np.pi


def massless_p4(pt, eta, phi):
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], axis=-1)


def pt_eta_phi(p4):
    p4 = p4.astype(np.float64)
    pt = np.hypot(p4[..., 0], p4[..., 1])
    eta = np.arcsinh(np.divide(p4[..., 2], pt, out=np.zeros_like(pt), where=pt > 0))
    return pt, eta, np.arctan2(p4[..., 1], p4[..., 0])


def shuffled_order(mask: np.ndarray, seed: int) -> np.ndarray:
    """Per-jet permutation of the real particles; padding stays last."""
    keys = np.where(mask, np.random.default_rng(seed + 1).random(mask.shape), np.inf)
    return np.argsort(keys, axis=1)


def shuffle(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    return np.take_along_axis(values, order.reshape(order.shape + (1,) * (values.ndim - 2)), axis=1)


def jet_sums(p4: np.ndarray):
    """(pt, eta, phi, mass, energy) of the sum of each jet's (zero padded) constituents, float64."""
    total = p4.astype(np.float64).sum(axis=1)
    pt, eta, phi = pt_eta_phi(total)
    mass = np.sqrt(np.clip(total[:, 3] ** 2 - (total[:, :3] ** 2).sum(axis=1), 0, None))
    return pt, eta, phi, mass, total[:, 3]


def expected(jets: JetTable, class_names, source, hl=None, hl_names=(), jet_radius=0.8) -> JetTable:
    return JetTable(
        p4=jets.p4, mask=jets.mask, labels=jets.labels, class_names=list(class_names), source=str(source),
        hl=None if hl is None else np.asarray(hl, dtype=np.float32), hl_names=list(hl_names), jet_radius=jet_radius,
    )


def write_hls4ml_file(path, n: int = 40, seed: int = 0, jets: JetTable | None = None, generated: bool = False,
                      class_names: list[str] | None = None, jet_radius: float = 0.8, particles: int = 30) -> JetTable:
    """hls4ml layout with h5py. generated=True writes the jetzoo superset (DESIGN.md section 3):
    attributes class_names/jet_radius and jetConstituentP4 added; in both, the columns are
    features, j_undef, j_<class>... (= jets[:, -6:-1] for the five hls4ml classes), j_index."""
    classes = class_names or HLS4ML_CLASSES
    jets = jets if jets is not None else make_jets(n, particles, classes, seed)
    n, rng = len(jets), np.random.default_rng(seed + 2)
    hl = rng.normal(size=(n, len(HL_NAMES))).astype(np.float32)
    one_hot = np.eye(len(classes), dtype=np.float32)[jets.labels]
    label_names = [f"j_{c.lower()}" for c in classes]
    index = np.arange(n, dtype=np.float32)[:, None]
    undef = np.zeros((n, 1), np.float32)
    table, names = np.hstack([hl, undef, one_hot, index]), HL_NAMES + ["j_undef"] + label_names + ["j_index"]
    order = shuffled_order(jets.mask, seed)
    p4 = shuffle(jets.p4, order)
    with h5py.File(path, "w") as f:
        f["jets"] = table
        f["jetFeatureNames"] = np.array([s.encode() for s in names])
        f["jetConstituentList"] = hls4ml_particle_features(p4)
        f["particleFeatureNames"] = np.array([s.encode() for s in HLS4ML_PARTICLE_FEATURES])
        f["jetImage"] = np.zeros((n, 10, 10), np.float32)
        if generated:
            f["jetConstituentP4"] = p4
            f.attrs["class_names"] = classes
            f.attrs["jet_radius"] = jet_radius
    return expected(jets, classes, path, hl, HL_NAMES, jet_radius)


def hls4ml_particle_features(p4: np.ndarray) -> np.ndarray:
    """(N, P, 16) in hls4ml order; all-zero rows for padding."""
    real = p4[..., 3] > 0
    pt, eta, phi = pt_eta_phi(p4)
    jet_pt, jet_eta, jet_phi, _, jet_e = (x[:, None] for x in jet_sums(p4))
    p = np.linalg.norm(p4[..., :3].astype(np.float64), axis=-1)
    etarel, phirel = eta - jet_eta, wrap(phi - jet_phi)
    costheta = np.divide(p4[..., 2], p, out=np.zeros_like(p), where=p > 0)
    columns = [p4[..., 0], p4[..., 1], p4[..., 2], p4[..., 3], p4[..., 3] / jet_e, pt, pt / jet_pt, eta, etarel, etarel,
               phi, phirel, phirel, np.hypot(etarel, phirel), costheta, np.zeros_like(pt)]
    return (np.stack(columns, axis=-1) * real[..., None]).astype(np.float32)


def write_top_tagging_file(path, n: int = 40, format: str = "fixed", seed: int = 0, jets: JetTable | None = None,
                           particles: int = 40, overrides: dict | None = None) -> JetTable:
    """pandas `to_hdf(key="table")` with the reference columns E_i PX_i PY_i PZ_i (i < 200), truth*, ttv, is_signal_new.

    `overrides` replaces columns by name (a value of None drops the column), to write broken files."""
    jets = jets if jets is not None else make_jets(n, particles, TOP_TAGGING_CLASSES, seed)
    n, width = len(jets), jets.num_particles
    p4 = np.zeros((n, TOP_TAGGING_SLOTS, 4), np.float32)
    p4[:, :width] = shuffle(jets.p4, shuffled_order(jets.mask, seed))
    columns = {}
    for i in range(TOP_TAGGING_SLOTS):
        for name, k in (("E", 3), ("PX", 0), ("PY", 1), ("PZ", 2)):
            columns[f"{name}_{i}"] = p4[:, i, k]
    total = jets.p4.sum(axis=1) * (jets.labels == 1)[:, None]
    for name, k in (("truthE", 3), ("truthPX", 0), ("truthPY", 1), ("truthPZ", 2)):
        columns[name] = total[:, k]
    columns["ttv"] = np.zeros(n, np.int64)
    columns["is_signal_new"] = jets.labels.astype(np.int64)
    apply_overrides(columns, overrides)
    pd.DataFrame(columns).to_hdf(path, key="table", format=format, mode="w")
    return expected(jets, TOP_TAGGING_CLASSES, path)


def write_jetclass_file(path, n: int = 40, seed: int = 0, jets: JetTable | None = None, particles: int = 50,
                        overrides: dict | None = None) -> JetTable:
    """uproot TTree `tree`: jagged part_* (shared counter), label_* booleans, jet_* floats.

    `overrides` replaces branches by name (a value of None drops the branch), to write broken files."""
    jets = jets if jets is not None else make_jets(n, particles, JETCLASS_CLASSES, seed)
    n, order = len(jets), shuffled_order(jets.mask, seed)
    p4, counts = shuffle(jets.p4, order), jets.mask.sum(axis=1)
    pt, eta, phi = pt_eta_phi(p4)
    jet_pt, jet_eta, jet_phi, jet_mass, jet_e = jet_sums(jets.p4)
    rng = np.random.default_rng(seed + 3)
    tau = np.sort(rng.uniform(0, 1, (n, 4)), axis=1)[:, ::-1]
    jet_values = [jet_pt, jet_eta, jet_phi, jet_e, counts, jet_mass, *tau.T]

    def jagged(values):  # real particles come first in every row, shuffled or not
        return ak.unflatten(np.asarray(values, np.float32)[jets.mask], counts)

    particle_branches = {
        "part_px": p4[..., 0], "part_py": p4[..., 1], "part_pz": p4[..., 2], "part_energy": p4[..., 3],
        "part_deta": eta - jet_eta[:, None], "part_dphi": wrap(phi - jet_phi[:, None]),
    }
    data = {name: jagged(values) for name, values in particle_branches.items()}
    data.update({f"label_{c}": jets.labels == i for i, c in enumerate(JETCLASS_CLASSES)})
    data.update({name: np.asarray(v, np.float32) for name, v in zip(JETCLASS_JET_BRANCHES, jet_values)})
    apply_overrides(data, overrides)
    types = {k: ("var * float32" if isinstance(v, ak.Array) else np.asarray(v).dtype) for k, v in data.items()}
    with uproot.recreate(path) as f:
        f.mktree("tree", types, counter_name=lambda _: "npart")
        f["tree"].extend(data)
    hl = np.stack([np.asarray(v, np.float32) for v in jet_values], axis=1)
    return expected(jets, JETCLASS_CLASSES, path, hl, JETCLASS_JET_BRANCHES)


def apply_overrides(columns: dict, overrides: dict | None) -> None:
    for name, values in (overrides or {}).items():
        if values is None:
            columns.pop(name)
        else:
            columns[name] = values


def write_jetnet_file(path, n: int = 40, jet_type: str = "t", seed: int = 0, jets: JetTable | None = None,
                      type_column: bool = False, particles: int = 30) -> JetTable:
    """h5py particle_features (etarel, phirel, ptrel, mask) and jet_features (pt, eta, mass, num_particles).

    The public files hold one type each, named <type>.hdf5 (the caller names `path`); with
    type_column=True, jet_features gets the type code first and `jets.class_names` must be JetNet types.
    The returned truth is rotated to jet phi = 0, as JetNet stores no jet phi."""
    if jets is None:
        jets = make_jets(n, particles, [jet_type] if not type_column else JETNET_TYPES, seed)
    n = len(jets)
    pt, eta, phi = pt_eta_phi(jets.p4)
    jet_pt, jet_eta, jet_phi, jet_mass, _ = jet_sums(jets.p4)
    etarel, phirel, ptrel = eta - jet_eta[:, None], wrap(phi - jet_phi[:, None]), pt / jet_pt[:, None]
    features = np.stack([etarel, phirel, ptrel, np.ones_like(pt)], axis=-1) * jets.mask[..., None]
    order = shuffled_order(jets.mask, seed)
    jet_features = np.stack([jet_pt, jet_eta, jet_mass, jets.mask.sum(axis=1)], axis=1)
    hl = jet_features.copy()
    codes = np.array([JETNET_TYPES.index(c.lower()) for c in jets.class_names])[jets.labels]
    if type_column:
        jet_features = np.hstack([codes[:, None], jet_features])
    with h5py.File(path, "w") as f:
        f["particle_features"] = shuffle(features, order).astype(np.float32)
        f["jet_features"] = jet_features.astype(np.float32)
    present = sorted(set(codes.tolist()))
    truth = JetTable(
        p4=(massless_p4(pt, eta, phirel) * jets.mask[..., None]).astype(np.float32), mask=jets.mask,
        labels=np.searchsorted(present, codes).astype(np.int64), class_names=[], source="truth",
    )
    names = [JETNET_CLASS_NAMES[JETNET_TYPES[c]] for c in present]
    return expected(truth, names, path, hl, ["jet_pt", "jet_eta", "jet_mass", "jet_num_particles"])


def write_quark_gluon_file(path, n: int = 40, seed: int = 0, jets: JetTable | None = None,
                           particles: int = 40) -> JetTable:
    """`np.savez_compressed(X=(pt, y, phi in [0, 2pi), pid), y=1 quark / 0 gluon)`, as energyflow ships them."""
    jets = jets if jets is not None else make_jets(n, particles, QUARK_GLUON_CLASSES, seed)
    pt, eta, phi = pt_eta_phi(shuffle(jets.p4, shuffled_order(jets.mask, seed)))
    real = pt > 0
    pid = np.random.default_rng(seed + 4).choice([22, 211, -211, 130], size=pt.shape)
    X = np.stack([pt, eta, np.mod(phi, 2 * np.pi), pid], axis=-1) * real[..., None]
    np.savez_compressed(path, X=X, y=jets.labels.astype(np.float64))
    return expected(jets, QUARK_GLUON_CLASSES, path, jet_radius=0.4)


def assert_same_jets(read: JetTable, truth: JetTable, rtol: float = 1e-5, atol: float = 1e-3) -> None:
    """`read` holds `truth`'s jets; either may have extra all-padding particle slots."""
    assert read.p4.dtype == np.float32 and read.mask.dtype == bool and read.labels.dtype == np.int64
    width = min(read.num_particles, truth.num_particles)
    assert not truth.mask[:, width:].any(), "reader dropped real particles"
    assert not read.mask[:, width:].any() and not read.p4[:, width:].any()
    np.testing.assert_array_equal(read.mask[:, :width], truth.mask[:, :width])
    np.testing.assert_allclose(read.p4[:, :width], truth.p4[:, :width], rtol=rtol, atol=atol)
    assert not read.p4[~read.mask].any(), "padded particles must be exactly zero"
    np.testing.assert_array_equal(read.labels, truth.labels)
    assert read.class_names == truth.class_names
    assert read.hl_names == truth.hl_names
    if truth.hl is None:
        assert read.hl is None
    else:
        np.testing.assert_allclose(read.hl, truth.hl, rtol=rtol, atol=atol)
    assert read.jet_radius == truth.jet_radius
    pt = np.where(read.mask, np.hypot(read.p4[..., 0], read.p4[..., 1]), -1.0)
    assert (np.diff(pt, axis=1) <= 1e-6).all(), "constituents must be pT-descending, padding last"
