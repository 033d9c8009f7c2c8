"""Files read only from the file named, and written whole.

HDF5: an external link, external raw storage or a virtual dataset is a one-line error naming the dataset
and what it points at (issue 24 §2).

Each attack file is made with h5py's own API, as anyone could: h5py follows all three silently, so before
this check a JetNet-layout file whose `particle_features` lived in `/etc/passwd` was read as jets.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from format_writers import write_hls4ml_file, write_jetnet_file
from jetzoo.datamodules.readers import read_hls4ml, read_jetnet
from jetzoo.errors import JetDataError


@pytest.fixture()
def valid_jetnet(tmp_path):
    path = tmp_path / "valid.hdf5"
    write_jetnet_file(path, n=12)
    return path


def _copy_with(tmp_path, valid, name, make_particles):
    """A JetNet-layout file whose jet_features is its own and whose particle_features is `make_particles(f)`."""
    out = tmp_path / name
    with h5py.File(valid, "r") as src, h5py.File(out, "w") as f:
        f["jet_features"] = src["jet_features"][:]
        make_particles(f, src["particle_features"])
    return out


def test_external_raw_storage_is_refused_even_when_it_points_at_valid_data(tmp_path, valid_jetnet):
    raw = tmp_path / "particles.raw"
    with h5py.File(valid_jetnet, "r") as src:
        particles = src["particle_features"][:]
    particles.tofile(raw)

    def external(f, src):
        f.create_dataset("particle_features", shape=src.shape, dtype=src.dtype, external=[(str(raw), 0, raw.stat().st_size)])

    attack = _copy_with(tmp_path, valid_jetnet, "external.hdf5", external)
    with h5py.File(attack, "r") as f:  # the attack is real: h5py reads the other file's bytes as the dataset
        assert np.array_equal(f["particle_features"][:], particles)
    with pytest.raises(JetDataError) as err:
        read_jetnet(attack)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(attack))
    assert "'particle_features'" in message and "external raw file" in message and str(raw) in message


def test_external_storage_in_etc_passwd_is_refused(tmp_path, valid_jetnet):
    passwd = "/etc/passwd"
    size = min(4 * 4 * 2, __import__("os").path.getsize(passwd)) // 16 * 16

    def external(f, src):
        f.create_dataset("particle_features", shape=(1, size // 16, 4), dtype="f4", external=[(passwd, 0, size)])

    attack = _copy_with(tmp_path, valid_jetnet, "passwd.hdf5", external)
    with pytest.raises(JetDataError, match=r"'particle_features' is stored in external raw file\(s\) /etc/passwd"):
        read_jetnet(attack)


def test_external_link_is_refused(tmp_path, valid_jetnet):
    def link(f, src):
        f["particle_features"] = h5py.ExternalLink(str(valid_jetnet), "/particle_features")

    attack = _copy_with(tmp_path, valid_jetnet, "link.hdf5", link)
    with h5py.File(attack, "r") as f:
        assert f["particle_features"].shape[0] == 12  # h5py follows it
    with pytest.raises(JetDataError, match=rf"'particle_features' is an external link to {valid_jetnet}:/particle_features"):
        read_jetnet(attack)


def test_virtual_dataset_is_refused_with_its_source_named(tmp_path, valid_jetnet):
    def virtual(f, src):
        layout = h5py.VirtualLayout(shape=src.shape, dtype=src.dtype)
        layout[:] = h5py.VirtualSource(str(valid_jetnet), "particle_features", shape=src.shape)
        f.create_virtual_dataset("particle_features", layout)

    attack = _copy_with(tmp_path, valid_jetnet, "virtual.hdf5", virtual)
    with pytest.raises(JetDataError, match=rf"'particle_features' is a virtual dataset mapping {valid_jetnet}"):
        read_jetnet(attack)


def hls4ml_linked(plain, linked):
    """A copy of the hls4ml file `plain` whose jetConstituentList is an external link to `plain`'s."""
    with h5py.File(plain, "r") as src, h5py.File(linked, "w") as f:
        for key in src:
            if key == "jetConstituentList":
                f[key] = h5py.ExternalLink(str(plain), f"/{key}")
            else:
                src.copy(src[key], f, name=key)
        f.attrs.update(dict(src.attrs))
    return linked


def test_an_external_link_in_an_hls4ml_file_is_refused_and_a_plain_file_still_reads(tmp_path):
    plain = tmp_path / "plain.h5"
    write_hls4ml_file(plain, n=10)
    assert len(read_hls4ml(plain).labels) == 10
    attack = hls4ml_linked(plain, tmp_path / "linked.h5")
    with pytest.raises(JetDataError, match=r"'jetConstituentList' is an external link"):
        read_hls4ml(attack)


def test_the_command_line_says_it_in_one_line(tmp_path, valid_jetnet, capfd, monkeypatch):
    from helpers import jetzoo_in_process

    def link(f, src):
        f["particle_features"] = h5py.ExternalLink(str(valid_jetnet), "/particle_features")

    attack = _copy_with(tmp_path, valid_jetnet, "t.hdf5", link)
    code, _, err = jetzoo_in_process(capfd, monkeypatch, "fit", "--model", "mlp", "--data", "jetnet",
                                     "--data.path", attack, "--trainer.max_epochs", "1", cwd=tmp_path)
    lines = [line for line in err.splitlines() if line.startswith("jetzoo")]
    assert code == 2 and "Traceback" not in err
    assert any("is an external link to" in line for line in lines), err[-2000:]


def _linked(tmp_path, target, directory):
    """`directory`/t.hdf5 (a JetNet top-jet file name), its particle_features an external link to `target`'s."""
    def link(f, src):
        f["particle_features"] = h5py.ExternalLink(str(target), "/particle_features")

    (tmp_path / directory).mkdir(exist_ok=True)
    return _copy_with(tmp_path, target, f"{directory}/t.hdf5", link)


@pytest.fixture()
def target(tmp_path):
    (tmp_path / "target").mkdir()
    write_jetnet_file(tmp_path / "target" / "t.hdf5", n=12)
    return tmp_path / "target" / "t.hdf5"


def test_allowed_external_data_is_read_and_identified_by_what_was_read(tmp_path, target):
    """--data.allow_external true: the jets are read through the link, and their identity is the hash of
    the bytes read, so it changes when the target changes though the container file does not."""
    from jetzoo.io.files import file_sha256

    attack = _linked(tmp_path, target, "link")
    first = read_jetnet(attack, allow_external=True)
    np.testing.assert_array_equal(first.p4, read_jetnet(target).p4)
    container = file_sha256(attack)
    write_jetnet_file(target, n=12, seed=5)  # the link's target rewritten, the container untouched
    second = read_jetnet(attack, allow_external=True)
    assert file_sha256(attack) == container and not np.array_equal(second.p4, first.p4)
    assert not np.isin(second.jet_ids, first.jet_ids).any()
    assert second.sources[0].key != container and "external" in second.sources[0].name


def test_two_containers_of_one_external_target_are_the_same_jets(tmp_path, target):
    """The content hash makes two links to the same bytes the same jets: read together, they are refused
    as jets read twice, like the same file named twice (the leakage guard's rule)."""
    from jetzoo.registry import create_datamodule

    one, two = _linked(tmp_path, target, "one"), _linked(tmp_path, target, "two")
    np.testing.assert_array_equal(read_jetnet(one, allow_external=True).jet_ids, read_jetnet(two, allow_external=True).jet_ids)
    data = create_datamodule("jetnet", path=str(tmp_path / "[ot]*" / "t.hdf5"), allow_external=True, batch_size=4)
    with pytest.raises(JetDataError, match="appear more than once"):
        data.setup("fit")


def test_a_link_external_raw_storage_and_a_virtual_dataset_of_the_same_bytes_are_the_same_jets(tmp_path, target):
    """Allowed, the three kinds of external storage identify the jets by the bytes read: the same key for all
    three; a virtual dataset whose source is gone is refused (h5py would read its fill value, zeros)."""
    with h5py.File(target) as src:
        particles = src["particle_features"][:]
    raw = tmp_path / "particles.raw"
    particles.tofile(raw)

    def external(f, src):
        f.create_dataset("particle_features", shape=src.shape, dtype=src.dtype, external=[(str(raw), 0, raw.stat().st_size)])

    def virtual(f, src):
        layout = h5py.VirtualLayout(shape=src.shape, dtype=src.dtype)
        layout[:] = h5py.VirtualSource(str(target), "particle_features", shape=src.shape)
        f.create_virtual_dataset("particle_features", layout)

    for name, make in (("raw", external), ("virtual", virtual)):
        (tmp_path / name).mkdir()
        _copy_with(tmp_path, target, f"{name}/t.hdf5", make)
    keys = {read_jetnet(path, allow_external=True).sources[0].key
            for path in (_linked(tmp_path, target, "link"), tmp_path / "raw" / "t.hdf5", tmp_path / "virtual" / "t.hdf5")}
    assert len(keys) == 1
    target.rename(target.with_name("gone.hdf5"))
    with pytest.raises(JetDataError, match="is a virtual dataset mapping .*, which does not exist"):
        read_jetnet(tmp_path / "virtual" / "t.hdf5", allow_external=True)


@pytest.mark.parametrize("streaming", [False, True])
def test_the_datamodule_option_reads_an_hls4ml_link_by_its_content(tmp_path, streaming):
    from jetzoo.registry import create_datamodule

    plain = tmp_path / "plain.h5"
    write_hls4ml_file(plain, n=60)
    linked = hls4ml_linked(plain, tmp_path / "linked.h5")
    options = dict(path=str(linked), batch_size=4, streaming=streaming, val_fraction=0.2, test_fraction=0.2)
    with pytest.raises(JetDataError, match="pass --data.allow_external true"):
        create_datamodule("hls4ml", **options).setup("fit")
    data = create_datamodule("hls4ml", **options, allow_external=True, view="particles")
    data.setup("fit")
    assert next(iter(data.train_dataloader()))["features"].shape[0] == 4


def test_a_predict_killed_mid_write_leaves_a_temp_file_the_next_write_removes(tmp_path):
    """kill -9 during `predict` left `.scores.h5.tmp-<pid>` forever (issue 24 §4): the writer now names its
    temp file after host and pid, and the next write of the same file removes those of dead processes."""
    import socket
    import subprocess
    import sys

    import torch

    from jetzoo.training.prediction_writer import write_probabilities

    target = tmp_path / "scores.h5"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".scores.h5.tmp-{socket.gethostname()}-{int(dead.stdout)}"
    stale.write_bytes(b"half an HDF5 file")  # what a writer killed mid-write leaves
    outputs = [{"probs": torch.tensor([[0.2, 0.8]]), "label": torch.tensor([1])}]
    write_probabilities(outputs, target, ["QCD", "top"])
    assert not stale.exists()
    with h5py.File(target) as f:
        assert f["label"][:].tolist() == [1] and list(f.attrs["class_names"]) == ["QCD", "top"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.h5"]
