"""Seeded mutation fuzzer of the five readers: every mutant is either refused with a one-line
JetDataError starting with the file, or accepted as a table that passes the physical sanity rules
(checked here independently of the readers' own validation). Nothing else: no other exception,
no silently accepted garbage. Run with -s to see the counts per format.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from format_writers import (
    write_hls4ml_file,
    write_jetclass_file,
    write_jetnet_file,
    write_quark_gluon_file,
    write_top_tagging_file,
)
from fuzz_mutations import (
    add_axis,
    as_dtype,
    drop_last_column,
    drop_rows,
    flatten_to_2d,
    flip_in_dataset,
    flip_random_bits,
    load_h5,
    load_npz,
    load_root,
    load_top,
    save_h5,
    save_npz,
    save_root,
    save_top,
    scale,
    set_values,
    truncate,
)

from jetzoo.datamodules.readers import READERS
from jetzoo.errors import JetDataError

SEED = 20240611
TINY = float(np.finfo(np.float32).tiny)

VALUE_OPS = {  # applied to a format's constituent array
    "nan-one": set_values("one", np.nan), "inf-one": set_values("one", np.inf), "zero-all": set_values("all", 0.0),
    "negate": scale(-1.0), "1e11-one": set_values("one", 1e11), "minus5-some": set_values("some", -5.0),
    "denormal-one": set_values("one", 1e-42),
}
SHAPE_OPS = {
    "bytes": as_dtype("S8"), "strings": as_dtype("U8"), "int": as_dtype(np.int32), "half-rows": drop_rows,
    "drop-last-column": drop_last_column, "flatten-2d": flatten_to_2d, "add-axis": add_axis,
}
BYTE_OPS = {
    "truncate-10%": truncate(0.1), "truncate-50%": truncate(0.5), "truncate-99%": truncate(0.99),
    "flip-1-bit": flip_random_bits(1), "flip-8-bits": flip_random_bits(8), "flip-64-bits": flip_random_bits(64),
}


def columns(d, prefix):
    return [k for k in d if k.startswith(prefix)]


def one_class(key_slice):
    def fn(d, rng):
        d[key_slice[0]][:, key_slice[1]] = np.eye(5)[0]
    return fn


def format_mutants(fmt):
    """[(name, kind, args)] for one format; kind is array (key, op), drop/rename (key), huge (key),
    custom (fn(dict, rng)) or bytes (op(path, rng))."""
    m = []
    if fmt in ("hls4ml", "jetnet", "quark-gluon"):
        main, other = {"hls4ml": ("jetConstituentList", "jets"), "jetnet": ("particle_features", "jet_features"),
                       "quark-gluon": ("X", "y")}[fmt]
        m += [(f"{main}-{n}", "array", (main, op)) for n, op in {**VALUE_OPS, **SHAPE_OPS}.items()]
        other_ops = ["nan-one", "strings", "zero-all", "negate", "half-rows", "drop-last-column"]
        m += [(f"{other}-{n}", "array", (other, {**VALUE_OPS, **SHAPE_OPS}[n])) for n in other_ops]
        keys = {"hls4ml": ["jets", "jetFeatureNames", "jetConstituentList", "particleFeatureNames"],
                "jetnet": ["particle_features", "jet_features"], "quark-gluon": ["X", "y"]}[fmt]
        m += [(f"drop-{k}", "drop", k) for k in keys] + [(f"rename-{k}", "rename", k) for k in keys]
        m += [(f"huge-{k}", "huge", k) for k in (main, other)]
        if fmt != "quark-gluon":
            m += [(f"{main}-flip-{how}", "bytes", flip_in_dataset(main, how)) for how in ("denormal", "huge", "random")]
    if fmt == "hls4ml":
        m += [("labels-one-class", "custom", one_class(("jets", slice(-6, -1)))),
              ("particle-names-17", "custom", lambda d, rng: d.update(
                  particleFeatureNames=np.array([*d["particleFeatureNames"], b"j1_pdgid"])))]
    if fmt == "jetnet":
        m += [("mask-denormal", "custom", lambda d, rng: d["particle_features"].__setitem__((0, 0, 3), 1e-42)),
              ("mask-all-zero", "custom", lambda d, rng: d["particle_features"].__setitem__((..., 3), 0.0)),
              ("ptrel-negative", "custom", lambda d, rng: d["particle_features"].__setitem__(
                  (..., 2), -d["particle_features"][..., 2]))]
    if fmt == "quark-gluon":
        m += [("pt-negative", "custom", lambda d, rng: d["X"].__setitem__((..., 0), -d["X"][..., 0])),
              ("y-all-ones", "custom", lambda d, rng: d["y"].__setitem__(..., 1.0)),
              ("y-two", "custom", lambda d, rng: d["y"].__setitem__(0, 2.0))]
    if fmt == "top-tagging":
        m += [(f"E_0-{n}", "array", ("E_0", op)) for n, op in VALUE_OPS.items()]
        m += [(f"PX_1-{n}", "array", ("PX_1", op)) for n, op in VALUE_OPS.items() if n != "zero-all"]
        m += [(f"E_0-{n}", "array", ("E_0", SHAPE_OPS[n])) for n in ("bytes", "strings", "int")]
        m += [(f"is_signal_new-{n}", "array", ("is_signal_new", op))
              for n, op in (("nan", set_values("one", np.nan)), ("strings", as_dtype("U8")),
                            ("two", set_values("one", 2)), ("all-zero", set_values("all", 0)))]
        m += [("zero-every-constituent", "custom", lambda d, rng: [d[k].__setitem__(..., 0) for k in columns(d, "")
                                                                     if k[:2] in ("E_", "PX", "PY", "PZ")]),
              ("negative-energies", "custom", lambda d, rng: [d.__setitem__(k, -d[k]) for k in columns(d, "E_")])]
        m += [(f"drop-{k}", "drop", k) for k in ("E_5", "is_signal_new", "PZ_199")]
        m += [(f"rename-{k}", "rename", k) for k in ("is_signal_new", "PZ_0")]
        m += [(f"block0-flip-{how}", "bytes", flip_in_dataset("table/block0_values", how))
              for how in ("denormal", "huge", "random")]
    if fmt == "jetclass":
        m += [(f"part_energy-{n}", "array", ("part_energy", op)) for n, op in VALUE_OPS.items()]
        m += [(f"part_px-{n}", "array", ("part_px", op)) for n, op in VALUE_OPS.items() if n != "zero-all"]
        m += [("jet_pt-nan", "array", ("jet_pt", set_values("one", np.nan))),
              ("label_QCD-all-true", "array", ("label_QCD", lambda a, rng: np.ones(len(a), bool))),
              ("labels-none", "custom", lambda d, rng: [d.__setitem__(k, np.zeros(len(d[k]), bool))
                                                         for k in columns(d, "label_")]),
              ("labels-one-class", "custom", lambda d, rng: [d.__setitem__(k, np.full(len(d[k]), k == "label_QCD"))
                                                             for k in columns(d, "label_")]),
              ("part_px-half-particles", "custom", lambda d, rng: d.__setitem__("part_px", d["part_px"][:, ::2]))]
        m += [(f"drop-{k}", "drop", k) for k in ("part_energy", "label_QCD", "jet_pt")]
        m += [(f"rename-{k}", "rename", k) for k in ("part_px",)]
    m += [(name, "bytes", op) for name, op in BYTE_OPS.items()]
    return m


FORMATS = {  # file name, writer, (load, save)
    "hls4ml": ("jets.h5", lambda p: write_hls4ml_file(p, n=12), (load_h5, save_h5)),
    "top-tagging": ("jets.h5", lambda p: write_top_tagging_file(p, n=12), (load_top, save_top)),
    "jetclass": ("jets.root", lambda p: write_jetclass_file(p, n=12), (load_root, save_root)),
    "jetnet": ("t.hdf5", lambda p: write_jetnet_file(p, n=12), (load_h5, save_h5)),
    "quark-gluon": ("jets.npz", lambda p: write_quark_gluon_file(p, n=12), (load_npz, save_npz)),
}


def make_mutant(fmt, directory, name, kind, args, rng):
    file_name, write, (load, save) = FORMATS[fmt]
    path = directory / file_name
    write(path)
    if kind == "bytes":
        args(path, rng)
        return path
    d = load(path)
    huge = None
    if kind == "array":
        key, op = args
        d[key] = op(d[key], rng)
    elif kind == "drop":
        d.pop(args)
    elif kind == "rename":
        d[f"{args}_renamed"] = d.pop(args)
    elif kind == "huge":
        huge = args
    else:
        args(d, rng)
    with np.errstate(all="ignore"):
        save(path, d, huge=huge)
    return path


def physically_sane(table) -> str:
    """'' when the table passes the rules, else what is wrong."""
    p4, mask = table.p4.astype(np.float64), table.mask
    if not np.isfinite(p4).all():
        return "non-finite constituents"
    if p4[~mask].any():
        return "padding is not zero"
    if not mask.any(axis=1).all():
        return "a jet without constituents"
    real = p4[mask]
    energy, momentum = real[:, 3], np.linalg.norm(real[:, :3], axis=1)
    if (energy < TINY).any() or (energy < momentum * (1 - 1e-3)).any() or (np.maximum(energy, momentum) > 1e5).any():
        return "unphysical constituents"
    if table.labels.min() < 0 or table.labels.max() >= len(table.class_names):
        return "labels out of range"
    if table.hl is not None and not np.isfinite(table.hl).all():
        return "non-finite high-level features"
    return ""


def test_every_mutant_is_refused_in_one_line_or_accepted_sane(tmp_path, capsys):
    rng = np.random.default_rng(SEED)
    outcomes, failures = Counter(), []
    for fmt in FORMATS:
        for i, (name, kind, args) in enumerate(format_mutants(fmt)):
            directory = tmp_path / f"{fmt}-{i}"
            directory.mkdir()
            try:
                path = make_mutant(fmt, directory, name, kind, args, rng)
            except Exception as exc:  # noqa: BLE001
                failures.append(f"{fmt}/{name}: could not make the mutant: {type(exc).__name__}: {exc}")
                continue
            try:
                table = READERS[fmt](path)
            except JetDataError as exc:
                message = str(exc)
                if "\n" in message or not message.startswith(str(path)):
                    failures.append(f"{fmt}/{name}: badly formed error: {message!r}")
                outcomes[fmt, "error"] += 1
            except Exception as exc:  # noqa: BLE001 - that is the failure being looked for
                failures.append(f"{fmt}/{name}: {type(exc).__name__}: {exc}")
                outcomes[fmt, "traceback"] += 1
            else:
                problem = physically_sane(table)
                if problem:
                    failures.append(f"{fmt}/{name}: accepted garbage: {problem}")
                outcomes[fmt, "accepted-garbage" if problem else "accepted-valid"] += 1
    with capsys.disabled():
        total = sum(outcomes.values())
        by_kind = Counter()
        for (fmt, kind), count in sorted(outcomes.items()):
            by_kind[kind] += count
        print(f"\nreader fuzz: {total} mutants: {dict(by_kind)}; per format: {dict(sorted(outcomes.items()))}")
    assert total >= 142
    assert not failures, "\n".join(failures)
