"""Reader for the hls4ml LHC jet dataset HDF5 files, and for the superset `jetzoo generate` writes.

Layout (docs/DESIGN.md section 3; Duarte et al. arXiv:1804.06913, Zenodo 3601436 (30 particles),
3601443 (50), 3602254 (100), 3602260 (150)):
  jets (N, F) + jetFeatureNames (F,): high-level features, one-hot label columns, j_undef (the public
  files: 53 features then j_g j_q j_w j_z j_t j_undef, F = 59), j_index (older/other files);
  jetConstituentList (N, P, 16) + particleFeatureNames: per-particle features incl. j1_px..j1_e;
  jetConstituentP4 (N, P, 4) (generated files only): raw (px, py, pz, E), preferred when present.
Published quirks: particleFeatureNames lists 17 names (the 16 columns plus a trailing `j1_pdgid`
that has no column); arrays may be float64; P is 30, 50, 100 or 150; the image datasets jetImage,
jetImageECAL, jetImageHCAL are present and never read.
Label columns: `j_<class>` for each class in the file attribute `class_names` when present,
otherwise those of the public files' j_g, j_q, j_w, j_z, j_t that exist (classes g, q, W, Z, t).
A padded particle is an all-zero (px, py, pz, E) row; denormals count as zero (validation.py).
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import h5py
import numpy as np

from jetzoo.datamodules.jet_identity import (
    Source,
    events_summary,
    generated_class_and_index,
    generated_event_ids,
    generated_ids,
    generated_key,
    merge_sources,
)
from jetzoo.datamodules.readers.failures import (
    labels_from_one_hot,
    reading,
    require_finite,
    require_jets,
    require_rows,
    text,
)
from jetzoo.datamodules.readers.hdf5 import content_sha256, names_dataset, numeric_dataset, require_self_contained
from jetzoo.datamodules.readers.paths import (
    DEFAULT_CHUNK_SIZE,
    ChunkSelection,
    identify_by_content,
    iter_files,
    join_chunks,
    selected_bounds,
)
from jetzoo.datamodules.readers.validation import physical_constituents, zero_padding_mask
from jetzoo.datamodules.table import JetTable, sort_by_pt
from jetzoo.errors import JetDataError
from jetzoo.generate.recipes import RECIPES, stale_recipe_warning

FORMAT = "an hls4ml HDF5 file"
SUFFIXES = (".h5", ".hdf5", ".z")
PUBLIC_LABEL_COLUMNS = {"j_g": "g", "j_q": "q", "j_w": "W", "j_z": "Z", "j_t": "t"}
BOOKKEEPING_COLUMNS = {"j_undef", "j_index"}
P4_PARTICLE_FEATURES = ("j1_px", "j1_py", "j1_pz", "j1_e")
SURPLUS_PARTICLE_NAMES = {"j1_pdgid"}
DEFAULT_JET_RADIUS = 0.8


def read_hls4ml(path, chunk_size: int = DEFAULT_CHUNK_SIZE, allow_external: bool = False) -> JetTable:
    """Read one hls4ml/jetzoo HDF5 file, a directory of them, or a glob; files are concatenated."""
    return join_chunks(iter_hls4ml(path, chunk_size, allow_external=allow_external))


def iter_hls4ml(path, chunk_size: int = DEFAULT_CHUNK_SIZE, select: ChunkSelection | None = None,
                hl_only: bool = False, allow_external: bool = False) -> Iterator[JetTable]:
    """Validated JetTables of at most `chunk_size` jets, file after file (`select`: see iter_files).

    `hl_only` (the hl view, streamed): a file that stores high-level features gives chunks without
    constituents (p4 of shape (n, 0, 4)), read from `jets` alone; a file without them is read whole.
    `allow_external`: see hdf5.require_self_contained.
    """
    one = functools.partial(iter_hls4ml_file, hl_only=hl_only, allow_external=allow_external)
    return iter_files(path, SUFFIXES, one, chunk_size, select)


def iter_hls4ml_file(path: Path, chunk_size: int = DEFAULT_CHUNK_SIZE, chosen=None,
                     hl_only: bool = False, allow_external: bool = False) -> Iterator[JetTable]:
    with reading(path, FORMAT), h5py.File(path, "r") as f:
        external = require_self_contained(f, path, allow_external)  # then identified by what is read, not attrs
        chunks = _hls4ml_chunks(f, path, chunk_size, chosen, hl_only, generated_ids=not external)
        yield from identify_by_content(path, content_sha256(f) if external else None, chunks)


def _hls4ml_chunks(f: h5py.File, path: Path, chunk_size: int, chosen, hl_only: bool, generated_ids: bool
                   ) -> Iterator[JetTable]:
    stale = stale_recipe_warning(f.attrs, source=str(path))  # a file of an older jetzoo recipe
    if stale:
        print(stale, file=sys.stderr)
    jets = numeric_dataset(f, "jets", path, not_format=FORMAT)
    names = names_dataset(f, "jetFeatureNames", path, FORMAT)
    if jets.ndim != 2 or jets.shape[1] != len(names):
        raise JetDataError(f"{path}: 'jets' has shape {jets.shape} but jetFeatureNames lists {len(names)} names")
    n = jets.shape[0]
    require_jets(n, path)
    class_names, label_columns = label_columns_of(f.attrs, names, path)
    jet_radius = float(f.attrs.get("jet_radius", DEFAULT_JET_RADIUS))
    read_p4 = constituent_reader(f, path)
    feature_columns = [
        i for i, name in enumerate(names) if i not in label_columns and name.lower() not in BOOKKEEPING_COLUMNS
    ]
    identify = generated_identity(f.attrs, n, class_names, path, f) if generated_ids else None
    if hl_only and feature_columns:
        read_p4 = lambda start, stop: np.zeros((stop - start, 0, 4), np.float32)  # noqa: E731
    for start, stop in selected_bounds(n, chunk_size, chosen):
        table = np.asarray(jets[start:stop])
        chunk = hls4ml_table(path, start, table, read_p4(start, stop), class_names, label_columns,
                             feature_columns, [names[i] for i in feature_columns], jet_radius)
        yield chunk if identify is None else identify(chunk, start, stop)


def generated_identity(attrs, n: int, class_names: list[str], path, f: h5py.File | None = None) -> Callable | None:
    """For a file `jetzoo generate` wrote: a function giving each chunk its generated-jet ids
    (recipe, version, seed, class, index within class; jet_identity.py). None for other files, whose
    jets are identified by (sha256, row).

    A shard of `jetzoo generate --out DIR/` stores each jet's (class, index within class) in `jetIdentity`;
    it is checked against the directory's manifest.json first (listed, sha256, no shard missing, no chunk
    held twice), and its Source names the rows those jets have in the single file of the same recipe, seed
    and n (`dataset_n`), so a checkpoint's manifest re-derives the same ids.

    A file with `generatorEvent` (every file the generator now writes) identifies each jet by its event
    (jet_identity.generated_event_ids), whatever detector made it; its Source lists the events it covers.
    """
    if not {"recipe", "seed", "n"} <= set(attrs) or text(attrs["recipe"]) not in RECIPES or int(attrs["n"]) != n:
        return None  # not `jetzoo generate`'s (a GAN's jets, say, carry recipe "generated")
    recipe, seed = RECIPES[text(attrs["recipe"])], int(attrs["seed"])
    version = int(attrs.get("recipe_version", 1))
    key = generated_key(recipe.name, version, seed)
    if "chunk_jets" in attrs and int(attrs["chunk_jets"]) != recipe.chunk_jets:  # other chunks, other jets
        key = f"{recipe.name}:v{version}:chunk{int(attrs['chunk_jets'])}:seed{seed}"
    events = _generator_events(f, n, path)
    if "dataset_n" in attrs:
        return _shard_identity(attrs, n, class_names, Path(path), key, seed, events)
    cls, index = generated_class_and_index(n, seed, len(class_names))
    summary = () if events is None else events_summary(cls, events[:, 0], events[:, 1])
    source = Source("generated", key, Path(path).name, (), n, len(class_names), summary)

    def identify(chunk: JetTable, start: int, stop: int) -> JetTable:
        if not np.array_equal(cls[start:stop], chunk.labels):
            raise JetDataError(
                f"{path}: rows {start}-{stop} do not follow the generator's plan for recipe {key} "
                f"(n = {n}); the file was changed after `jetzoo generate` wrote it"
            )
        if events is None:
            chunk.jet_ids = generated_ids(key, cls[start:stop], index[start:stop])
        else:
            chunk.jet_ids = generated_event_ids(key, cls[start:stop], *events[start:stop].T)
        chunk.sources = (dataclasses.replace(source, rows=((start, stop),)),)
        return chunk

    return identify


def _generator_events(f: h5py.File | None, n: int, path) -> np.ndarray | None:
    """The file's `generatorEvent` (n, 3): chunk, event, rank; None for a file written before it existed."""
    if f is None or "generatorEvent" not in f:
        return None
    events = numeric_dataset(f, "generatorEvent", path)
    if events.shape != (n, 3):
        raise JetDataError(f"{path}: 'generatorEvent' has shape {events.shape}, expected ({n}, 3)")
    events = np.asarray(events[:], dtype=np.int64)
    if (events < 0).any() or (events[:, 2] >= 8).any():
        raise JetDataError(f"{path}: 'generatorEvent' holds a negative number or a rank of 8 or more")
    return events


def _shard_identity(attrs, n: int, class_names: list[str], path: Path, key: str, seed: int,
                    events: np.ndarray | None = None) -> Callable:
    import json

    from jetzoo.io.files import file_sha256

    k = len(class_names)
    manifest_path = path.parent / "manifest.json"
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text())
            entries = {e["name"]: e for e in manifest["shards"]}
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise JetDataError(f"{manifest_path}: unreadable shard manifest ({err})") from err
        if path.name not in entries:
            raise JetDataError(f"{path}: a shard not listed in {manifest_path}")
        chunk_ids = [tuple(c) for e in entries.values() for c in e["chunks"]]
        if len(chunk_ids) != len(set(chunk_ids)):
            raise JetDataError(f"{manifest_path}: two shards hold the same chunk ids")
        missing = [name for name in entries if not (path.parent / name).exists()]
        if missing:
            raise JetDataError(f"{path.parent / missing[0]}: shard missing ({len(missing)} of {len(entries)} listed "
                               f"in {manifest_path.name} are absent)")
        entry = entries[path.name]
        if int(entry["n"]) != n or int(manifest["n"]) != int(attrs["dataset_n"]):
            raise JetDataError(f"{path}: holds {n} jets of a dataset of {int(attrs['dataset_n'])}; {manifest_path.name} "
                               f"says {entry['n']} of {manifest['n']}")
        if not entry.get("sha256"):
            raise JetDataError(f"{path}: shard incomplete (no checksum in {manifest_path.name}); run the same "
                               "`jetzoo generate` again to finish it")
        if file_sha256(path) != entry["sha256"]:
            raise JetDataError(f"{path}: shard fails its sha256 checksum in {manifest_path.name}; run the same "
                               "`jetzoo generate` again to repair it")
    with h5py.File(path, "r") as f:
        identity = np.asarray(f["jetIdentity"][:], dtype=np.int64) if "jetIdentity" in f else None
    if identity is None or identity.shape != (n, 2):
        raise JetDataError(f"{path}: a shard without a jetIdentity dataset of shape ({n}, 2)")
    dataset_n = int(attrs["dataset_n"])
    cls, index = identity[:, 0], identity[:, 1]
    sizes = np.array([dataset_n // k + (1 if c < dataset_n % k else 0) for c in range(k)])
    if (cls < 0).any() or (cls >= k).any() or (index < 0).any() or (index >= sizes[np.clip(cls, 0, k - 1)]).any():
        raise JetDataError(f"{path}: jetIdentity outside the plan of {dataset_n} jets of {k} classes")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows = _inverse_shuffle(dataset_n, seed)[starts[cls] + index]  # where each jet sits in the single file
    summary = () if events is None else events_summary(cls, events[:, 0], events[:, 1])
    source = Source("generated", key, path.parent.name + "/", (), dataset_n, k, summary)

    def identify(chunk: JetTable, start: int, stop: int) -> JetTable:
        if not np.array_equal(cls[start:stop], chunk.labels):
            raise JetDataError(f"{path}: rows {start}-{stop}: labels disagree with jetIdentity")
        if events is None:
            chunk.jet_ids = generated_ids(key, cls[start:stop], index[start:stop])
        else:
            chunk.jet_ids = generated_event_ids(key, cls[start:stop], *events[start:stop].T)
        chunk.sources = merge_sources([dataclasses.replace(source, rows=tuple((int(r), int(r) + 1) for r in rows[start:stop]))])
        return chunk

    return identify


@functools.lru_cache(maxsize=4)
def _inverse_shuffle(n: int, seed: int) -> np.ndarray:
    from jetzoo.generate.runner import shuffle_permutation

    position = shuffle_permutation(n, seed)  # row j of the single file holds the plan's jet position[j]
    inverse = np.empty(n, dtype=np.int64)
    inverse[position] = np.arange(n)
    return inverse


def hls4ml_table(path, start, jets, p4, class_names, label_columns, feature_columns, hl_names, jet_radius):
    require_finite(p4, path, "constituent four-vectors")
    labels = labels_from_one_hot(jets[:, label_columns], path, class_names)
    mask = zero_padding_mask(p4)
    p4 = np.where(mask[..., None], p4, 0).astype(np.float32)
    p4, mask = sort_by_pt(p4, mask)
    if p4.shape[1]:  # an hl_only chunk has none to check
        physical_constituents(p4, mask, str(path), start)
    return JetTable(
        p4=np.ascontiguousarray(p4), mask=mask, labels=labels, class_names=class_names, source=str(path),
        hl=jets[:, feature_columns].astype(np.float32) if feature_columns else None, hl_names=hl_names,
        jet_radius=jet_radius, first_row=start,
    ).validate()
def label_columns_of(attrs, names: list[str], path) -> tuple[list[str], list[int]]:
    """(class names, their column indices in `jets`)."""
    lower = [n.lower() for n in names]
    if "class_names" in attrs:
        class_names = [text(c) for c in np.atleast_1d(attrs["class_names"])]
        columns = []
        for c in class_names:
            if f"j_{c}".lower() not in lower:
                raise JetDataError(
                    f"{path}: class '{c}' (attribute class_names) has no column j_{c} in jetFeatureNames"
                )
            columns.append(lower.index(f"j_{c}".lower()))
        return class_names, columns
    columns = [lower.index(c) for c in PUBLIC_LABEL_COLUMNS if c in lower]
    if not columns:
        raise JetDataError(
            f"{path}: jetFeatureNames has none of the label columns {', '.join(PUBLIC_LABEL_COLUMNS)}"
        )
    return [PUBLIC_LABEL_COLUMNS[lower[i]] for i in columns], columns


def constituent_reader(f: h5py.File, path) -> Callable[[int, int], np.ndarray]:
    """read(start, stop) -> (stop - start, P, 4) (px, py, pz, E), from jetConstituentP4, else from
    the named columns of jetConstituentList. Shapes, dtypes and sizes are checked here, once."""
    n = f["jets"].shape[0]
    if "jetConstituentP4" in f:
        raw = numeric_dataset(f, "jetConstituentP4", path)
        if raw.ndim != 3 or raw.shape[-1] != 4:
            raise JetDataError(f"{path}: 'jetConstituentP4' has shape {raw.shape}, expected (jets, particles, 4)")
        columns = slice(0, 4)
    else:
        for key in ("jetConstituentList", "particleFeatureNames"):
            if key not in f:
                raise JetDataError(f"{path}: no dataset '{key}' (and no jetConstituentP4); not {FORMAT}")
        raw = numeric_dataset(f, "jetConstituentList", path)
        names = [name.lower() for name in names_dataset(f, "particleFeatureNames", path)]
        columns = p4_columns(raw.shape, names, path)
    require_rows(raw, n, path, "the constituent array")

    def read(start: int, stop: int) -> np.ndarray:
        if isinstance(columns, slice):
            return np.asarray(raw[start:stop, :, columns])
        return np.asarray(raw[start:stop])[..., columns]

    return read


def p4_columns(shape, names: list[str], path):
    """Columns of px, py, pz, E in jetConstituentList (a slice when they are adjacent, as published).

    The published files name a 17th feature, j1_pdgid, that has no column: trailing names in
    SURPLUS_PARTICLE_NAMES beyond the last column are accepted, nothing else is.
    """
    width = shape[-1] if len(shape) == 3 else None
    surplus = names[width:] if width is not None else []
    if width is None or len(names) < width or any(s not in SURPLUS_PARTICLE_NAMES for s in surplus):
        raise JetDataError(
            f"{path}: 'jetConstituentList' has shape {tuple(shape)} but particleFeatureNames lists {len(names)} names"
        )
    names = names[:width]
    missing = [name for name in P4_PARTICLE_FEATURES if name not in names]
    if missing:
        raise JetDataError(f"{path}: particleFeatureNames lacks {', '.join(missing)}")
    index = [names.index(name) for name in P4_PARTICLE_FEATURES]
    if index == list(range(index[0], index[0] + 4)):
        return slice(index[0], index[0] + 4)
    return index
