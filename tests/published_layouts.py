"""Files laid out as the public datasets are published, quirks included, each citing its source.

Unlike format_writers.py (our own writers, sharing our assumptions), every choice here follows the
published files or the loaders used in the field. Each writer returns the truth JetTable.
"""

from __future__ import annotations

import awkward as ak
import h5py
import numpy as np
import pandas as pd
import uproot
from format_writers import (
    HLS4ML_PARTICLE_FEATURES,
    JETCLASS_CLASSES,
    hls4ml_particle_features,
    jet_sums,
    make_jets,
    pt_eta_phi,
    shuffle,
    shuffled_order,
    write_jetnet_file,
    write_quark_gluon_file,
)

from jetzoo.datamodules.table import JetTable

# hls4ml LHC jet dataset (arXiv:1804.06913), Zenodo 3601436 (30 particles), 3601443 (50), 3602254 (100),
# 3602260 (150): jetImage_*_<P>p_*.h5. The layout below follows what was read off the real files in
# github.com/bb511/jet_tagging_datamaker (README "Verified facts" and publish/export.py, 150p):
# jetConstituentList (N, 150, 16) float64, jets (N, 59) float64, particleFeatureNames 17 names with
# j1_pdgid last and no column, jetFeatureNames 59 names ending j_g j_q j_w j_z j_t j_undef (no j_index),
# jetImage/jetImageECAL/jetImageHCAL (N, 100, 100). The 53 high-level names are in the order of the
# source ntuple t_allpar_new (j_ptfrac ... j_multiplicity); github.com/vtsam/DeepLearning README picks
# columns [12, 34..46, 48, 52] of the 100p files for j_zlogz, j_c1_b0_mmdt..j_n2_b2_mmdt, j_mass_mmdt,
# j_multiplicity, and f['jets'][:, -6:-1] for the labels, which this order reproduces.
HLS4ML_PUBLISHED_PARTICLE_NAMES = [*HLS4ML_PARTICLE_FEATURES, "j1_pdgid"]
HLS4ML_PUBLISHED_HL = [
    "j_ptfrac", "j_pt", "j_eta", "j_mass", "j_tau1_b1", "j_tau2_b1", "j_tau3_b1", "j_tau1_b2", "j_tau2_b2",
    "j_tau3_b2", "j_tau32_b1", "j_tau32_b2", "j_zlogz", "j_c1_b0", "j_c1_b1", "j_c1_b2", "j_c2_b1", "j_c2_b2",
    "j_d2_b1", "j_d2_b2", "j_d2_a1_b1", "j_d2_a1_b2", "j_m2_b1", "j_m2_b2", "j_n2_b1", "j_n2_b2",
    "j_tau1_b1_mmdt", "j_tau2_b1_mmdt", "j_tau3_b1_mmdt", "j_tau1_b2_mmdt", "j_tau2_b2_mmdt", "j_tau3_b2_mmdt",
    "j_tau32_b1_mmdt", "j_tau32_b2_mmdt", "j_c1_b0_mmdt", "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt",
    "j_c2_b2_mmdt", "j_d2_b1_mmdt", "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt", "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt",
    "j_m2_b2_mmdt", "j_n2_b1_mmdt", "j_n2_b2_mmdt", "j_mass_trim", "j_mass_mmdt", "j_mass_prun", "j_mass_sdb2",
    "j_mass_sdm1", "j_multiplicity",
]
HLS4ML_PUBLISHED_CLASSES = ["g", "q", "W", "Z", "t"]


def write_hls4ml_published(path, n: int = 24, particles: int = 100, dtype=np.float64, seed: int = 0) -> JetTable:
    """jets (N, 59) = 53 high-level features, j_g j_q j_w j_z j_t, j_undef (always 0) + jetFeatureNames,
    jetConstituentList (N, P, 16) + 17 particleFeatureNames, float64 (as in the 150-particle files), and
    the three image datasets, which must not be read."""
    jets = make_jets(n, particles, HLS4ML_PUBLISHED_CLASSES, seed, min_particles=2)
    rng = np.random.default_rng(seed)
    hl = rng.normal(size=(n, len(HLS4ML_PUBLISHED_HL)))
    one_hot = np.eye(5)[jets.labels]
    names = [*HLS4ML_PUBLISHED_HL, "j_g", "j_q", "j_w", "j_z", "j_t", "j_undef"]
    table = np.hstack([hl, one_hot, np.zeros((n, 1))]).astype(dtype)
    with h5py.File(path, "w") as f:
        f["jets"] = table
        f["jetFeatureNames"] = np.array([s.encode() for s in names])
        f["jetConstituentList"] = hls4ml_particle_features(jets.p4).astype(dtype)
        f["particleFeatureNames"] = np.array([s.encode() for s in HLS4ML_PUBLISHED_PARTICLE_NAMES])
        for image in ("jetImage", "jetImageECAL", "jetImageHCAL"):  # (N, 100, 100) in the public files
            f[image] = np.full((n, 100, 100), np.nan, dtype)  # NaN: reading them would be caught
    return JetTable(p4=jets.p4, mask=jets.mask, labels=jets.labels, class_names=HLS4ML_PUBLISHED_CLASSES,
                    source=str(path), hl=hl.astype(np.float32), hl_names=HLS4ML_PUBLISHED_HL)


def write_top_tagging_published(path, n: int = 20, seed: int = 0) -> JetTable:
    """Top Tagging reference dataset (Kasieczka et al. arXiv:1902.09914, Zenodo 2603256), read with
    pd.read_hdf(file, key="table") in jet-universe/particle_transformer utils/convert_top_datasets.py.
    806 columns (fizisist/LorentzGroupNetwork data/toptag/conversion/raw2h5/utils/condor/raw2h5.py):
    E_i, PX_i, PY_i, PZ_i for i < 200 interleaved per constituent (columns 0-799), truthE, truthPX,
    truthPY, truthPZ (800-803), ttv (804), is_signal_new (805); four-momenta float32 (the dl4phys/top_tagging
    card's sample values are float32 values), integer ttv and is_signal_new, a shuffled (non-range)
    integer index. PyTables "table" storage: the reference test.h5 is read with
    HDFStore.select("table", columns=["is_signal_new"]) (NBodyJetNets plotting script), which a fixed
    store refuses. Some jets fill all 200 slots."""
    jets = make_jets(n, 200, ["QCD", "top"], seed, min_particles=150)
    p4 = shuffle(jets.p4, shuffled_order(jets.mask, seed))
    columns = {}
    for i in range(200):
        for name, k in (("E", 3), ("PX", 0), ("PY", 1), ("PZ", 2)):
            columns[f"{name}_{i}"] = p4[:, i, k].astype(np.float32)
    truth = jets.p4.sum(axis=1)
    for name, k in (("truthE", 3), ("truthPX", 0), ("truthPY", 1), ("truthPZ", 2)):
        columns[name] = (truth[:, k] * (jets.labels == 1)).astype(np.float32)
    columns["ttv"] = np.zeros(n, np.int64)
    columns["is_signal_new"] = jets.labels.astype(np.int64)
    index = np.sort(np.random.default_rng(seed).choice(10 * n, n, replace=False))
    pd.DataFrame(columns, index=index).to_hdf(path, key="table", format="table", mode="w")
    return JetTable(p4=jets.p4, mask=jets.mask, labels=jets.labels, class_names=["QCD", "top"], source=str(path))


def write_jetnet_published(directory, types=("g", "t"), n: int = 15, particles: int = 30) -> dict:
    """JetNet (Kansal et al. arXiv:2106.11535, Zenodo 6975118 / 6975117 for 150 particles): one file
    per jet type, <type>.hdf5 or <type>150.hdf5, each one class; jet_features = pt, eta, mass,
    num_particles with num_particles the full count, which the 30-particle files may exceed
    (jetnet/datasets/jetnet.py clips it: np.minimum(jf[:, 3:], num_particles))."""
    truths = {}
    for i, jet_type in enumerate(types):
        path = directory / f"{jet_type}{'150' if particles == 150 else ''}.hdf5"
        truths[jet_type] = write_jetnet_file(path, n=n, jet_type=jet_type, seed=10 + i, particles=particles)
        with h5py.File(path, "r+") as f:
            f["jet_features"][:, 3] += 7  # the unclipped multiplicity
            truths[jet_type].hl[:, 3] += 7
    return truths


def write_jetclass_published(path, n: int = 20, class_name: str = "Tbqq", seed: int = 0) -> JetTable:
    """JetClass (Qu et al. arXiv:2202.03772, Zenodo 6619768; weaver-core data configs JetClass_full.yaml):
    one class per file (e.g. TTBar_000.root) yet all ten label_ branches. Branch types as `tree.show()`
    prints them for JetClass_example_100k.root in jet-universe/particle_transformer
    notebooks/JetClass101.ipynb: part_px..part_charge jagged float32, part_is* jagged int32; label_QCD
    float32, label_Hbb..label_Hqql bool, label_Zqq..label_Tbl int32; jet_* float32 (jet_nparticles
    too); aux_genpart_eta/phi/pid/pt and aux_truth_match one float32 per jet."""
    jets = make_jets(n, 40, [class_name], seed)
    counts = jets.mask.sum(axis=1)
    pt, eta, phi = pt_eta_phi(jets.p4)
    jet_pt, jet_eta, jet_phi, jet_mass, jet_e = jet_sums(jets.p4)

    def jagged(values, dtype=np.float32):
        return ak.unflatten(np.asarray(values, dtype)[jets.mask], counts)

    data = {
        "part_px": jagged(jets.p4[..., 0]), "part_py": jagged(jets.p4[..., 1]), "part_pz": jagged(jets.p4[..., 2]),
        "part_energy": jagged(jets.p4[..., 3]), "part_deta": jagged(eta - jet_eta[:, None]),
        "part_dphi": jagged(phi - jet_phi[:, None]), "part_d0val": jagged(np.zeros_like(pt)),
        "part_charge": jagged(np.ones_like(pt)), "part_isChargedHadron": jagged(np.ones_like(pt), np.int32),
        "part_isPhoton": jagged(np.zeros_like(pt), np.int32),
    }
    label_dtypes = {"QCD": np.float32, "Hbb": bool, "Hcc": bool, "Hgg": bool, "H4q": bool, "Hqql": bool,
                    "Zqq": np.int32, "Wqq": np.int32, "Tbqq": np.int32, "Tbl": np.int32}
    data.update({f"label_{c}": np.full(n, c == class_name).astype(label_dtypes[c]) for c in JETCLASS_CLASSES})
    jet_values = {"jet_pt": jet_pt, "jet_eta": jet_eta, "jet_phi": jet_phi, "jet_energy": jet_e,
                  "jet_nparticles": counts, "jet_sdmass": jet_mass}
    data.update({k: np.asarray(v, np.float32) for k, v in jet_values.items()})
    data.update({f"aux_genpart_{k}": np.ones(n, np.float32) for k in ("eta", "phi", "pid", "pt")})
    data["aux_truth_match"] = np.ones(n, np.float32)
    types = {k: (f"var * {np.dtype(v.layout.content.dtype)}" if isinstance(v, ak.Array) else np.asarray(v).dtype)
             for k, v in data.items()}
    with uproot.recreate(path) as f:  # a TTree (uproot 5.7's f[name] = dict would write an RNTuple)
        f.mktree("tree", types)
        f["tree"].extend(data)
    hl = np.stack([np.asarray(v, np.float32) for v in jet_values.values()], axis=1)
    return JetTable(p4=jets.p4, mask=jets.mask, labels=np.full(n, JETCLASS_CLASSES.index(class_name)),
                    class_names=JETCLASS_CLASSES, source=str(path), hl=hl, hl_names=list(jet_values))


def write_quark_gluon_published(directory) -> list:
    """energyflow qg_jets (Komiske et al. arXiv:1810.05165, Zenodo 3164691; energyflow/datasets/qg_jets.py):
    QG_jets.npz, QG_jets_1.npz, ..., QG_jets_withbc_*.npz, each savez_compressed(X float64 (N, M, 4) =
    pt, y, phi in [0, 2pi), pid; y float64), M the file's own largest multiplicity."""
    return [write_quark_gluon_file(directory / name, n=15, seed=i, particles=m)
            for i, (name, m) in enumerate([("QG_jets.npz", 25), ("QG_jets_withbc_1.npz", 40)])]
