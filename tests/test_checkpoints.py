"""Checkpoints are data, never code: real pickle payloads, a real HTTP server on 127.0.0.1, and
the one-line errors for checkpoints of another model, truncated, empty, foreign or misfitting files."""

from __future__ import annotations

import functools
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from helpers import jetzoo_in_process, printed_value
from jetzoo import registry
from jetzoo.training.checkpoints import CheckpointError, check_shapes_fit, load_checkpoint_file, save_checkpoint_atomically
from jetzoo.zoo.mlp import MLP

class Payload:
    """Unpickling this runs `touch marker` (pickled as a call of os.system, like any real attack)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def write_payload(path: Path, marker: Path) -> None:
    torch.save({"state_dict": {}, "hyper_parameters": {"lr": Payload(marker)}}, path)


@pytest.fixture(scope="module")
def served(tmp_path_factory, mlp_run):
    """A real pickle payload and a good checkpoint, served over HTTP on 127.0.0.1."""
    root = tmp_path_factory.mktemp("served")
    marker = root / "PWNED"
    write_payload(root / "evil.ckpt", marker)
    (root / "good.ckpt").write_bytes(mlp_run[1].read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root, marker
    server.shutdown()


def test_the_payload_is_real(served, tmp_path):
    """The same file, unpickled the unsafe way, does run its command: the tests below can fail."""
    _, root, _ = served
    marker = tmp_path / "ran"
    write_payload(tmp_path / "p.ckpt", marker)
    torch.load(tmp_path / "p.ckpt", weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("command", ["test", "predict"])
def test_remote_checkpoint_is_refused_by_the_cli_and_runs_nothing(served, top_jets_file, tmp_path, capfd, monkeypatch, command):
    url, _, marker = served
    args = (command, "--model", "mlp", "--data.path", top_jets_file, "--ckpt_path", f"{url}/evil.ckpt")
    code, _, err = jetzoo_in_process(capfd, monkeypatch, *args, cwd=tmp_path)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "remote checkpoints are refused" in lines[0] and "evil.ckpt" in lines[0]
    assert not marker.exists()


def test_opted_in_remote_checkpoint_is_downloaded_and_tested(served, top_jets_file, tmp_path, capfd, monkeypatch):
    url, _, _ = served
    code, out, err = jetzoo_in_process(
        capfd, monkeypatch, "test", "--model", "mlp", "--data.path", top_jets_file, "--ckpt_path", f"{url}/good.ckpt",
        "--allow_remote_checkpoint", "true", "--trainer.enable_progress_bar", "false", cwd=tmp_path,
    )
    assert code == 0, err[-3000:]
    assert printed_value(out, "test/auc") > 0.8


def test_registry_refuses_urls_and_loads_opted_in_downloads_weights_only(served):
    url, _, marker = served
    with pytest.raises(CheckpointError, match="remote checkpoints are refused"):
        registry.load_checkpoint("mlp", f"{url}/evil.ckpt")
    with pytest.raises(CheckpointError, match=r"evil\.ckpt: refused: it would run posix\.system"):
        registry.load_checkpoint("mlp", f"{url}/evil.ckpt", allow_remote=True)
    assert not marker.exists()
    model = registry.load_checkpoint("mlp", f"{url}/good.ckpt", allow_remote=True)
    assert isinstance(model, MLP)


def test_local_payload_is_a_one_line_error_not_a_traceback(served, top_jets_file, tmp_path, capfd, monkeypatch):
    _, root, marker = served
    args = ("test", "--model", "mlp", "--data.path", top_jets_file, "--ckpt_path", root / "evil.ckpt")
    code, _, err = jetzoo_in_process(capfd, monkeypatch, *args, cwd=tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "refused: it would run posix.system" in err and str(root / "evil.ckpt") in err
    assert not marker.exists()


def test_checkpoint_of_another_model_is_an_error_naming_both(mlp_run, top_jets_file, tmp_path, capfd, monkeypatch):
    _, ckpt, _ = mlp_run
    args = ("test", "--model", "particlenet", "--data.path", top_jets_file, "--ckpt_path", ckpt)
    code, _, err = jetzoo_in_process(capfd, monkeypatch, *args, cwd=tmp_path)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert str(ckpt) in line and "'mlp'" in line and "'particlenet'" in line
    with pytest.raises(CheckpointError, match="'mlp'.*'particlenet'"):
        registry.load_checkpoint("particlenet", str(ckpt))


def test_bad_files_are_one_line_errors_naming_the_file(mlp_run, tmp_path, top_jets_file):
    _, ckpt, _ = mlp_run
    cases = {
        "truncated.ckpt": (ckpt.read_bytes()[:2000], "truncated or not a PyTorch checkpoint"),
        "empty.ckpt": (b"", "empty file"),
        "foreign.ckpt": (Path(top_jets_file).read_bytes()[:50000], "truncated or not a PyTorch checkpoint"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError) as err:
            load_checkpoint_file(tmp_path / name)
        assert str(err.value).startswith(str(tmp_path / name)) and message in str(err.value)
        assert "\n" not in str(err.value)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="not a Lightning checkpoint"):
        load_checkpoint_file(tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        load_checkpoint_file(tmp_path / "missing.ckpt")


def test_weights_that_do_not_fit_the_data_are_named(mlp_run):
    _, ckpt, _ = mlp_run
    checkpoint = load_checkpoint_file(ckpt)
    five_classes = MLP(num_classes=5, num_hl_features=12)
    with pytest.raises(CheckpointError, match=r"last\.ckpt: its weights do not fit this data: 'backbone\.head\.weight'"):
        check_shapes_fit(checkpoint, five_classes, str(ckpt))
    check_shapes_fit(checkpoint, MLP(num_classes=2, num_hl_features=12), str(ckpt))


def test_checkpoint_records_what_it_holds_as_plain_data(mlp_run):
    _, ckpt, _ = mlp_run
    checkpoint = torch.load(ckpt, weights_only=True)  # no add_safe_globals: plain data only
    assert checkpoint["jetzoo"]["model_name"] == "mlp"
    assert checkpoint["jetzoo"]["model_class"] == "jetzoo.zoo.mlp.MLP"
    assert checkpoint["epoch"] == 1  # last.ckpt is the last epoch (0-based), not the best one


def test_test_and_predict_standardise_with_the_checkpoints_constants(mlp_run, top_jets_file):
    from jetzoo.registry import create_datamodule

    recorded = torch.load(mlp_run[1], weights_only=True)["jetzoo"]["standardisation"]
    fitted = create_datamodule("pythia", path=str(top_jets_file), view="hl")
    fitted.setup("fit")
    assert recorded == fitted.standardisation_record() and len(recorded["hl"][0]) == 12
    other = create_datamodule("pythia", path=str(top_jets_file), view="hl", seed=7)  # another training split
    other.setup("fit")
    assert other.standardisation_record() != recorded
    evaluated = create_datamodule("pythia", path=str(top_jets_file), view="hl", seed=7)
    evaluated.evaluate_for_checkpoint({"standardisation": recorded})
    evaluated.setup("test")
    assert evaluated.standardisation_record() == recorded


WRITER = '''
import sys, torch
from jetzoo.training.checkpoints import save_checkpoint_atomically
for k in range(1000):
    save_checkpoint_atomically({"state_dict": {"w": torch.full((4_000_000,), float(k))}}, sys.argv[1])
    print(k, flush=True)
'''


def test_kill_during_a_checkpoint_write_leaves_the_previous_checkpoint_whole(tmp_path):
    target = tmp_path / "last.ckpt"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "0"  # one complete write
    time.sleep(0.05)  # 16 MB per write: the kill lands in the middle of one, most of the time
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    state = load_checkpoint_file(target)["state_dict"]["w"]
    assert bool((state == state[0]).all())  # a whole checkpoint, old or new, never half of one
    save_checkpoint_atomically({"state_dict": {"w": torch.zeros(1)}}, target)
    assert not [p for p in tmp_path.iterdir() if p.name != "last.ckpt"]  # the dead writer's temp file is gone
