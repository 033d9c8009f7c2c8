"""`python -m jetzoo.registry.health.probe`: check plugin entries in workers, with a timeout per entry.

Started by `jetzoo.registry.health.check` (the listing process, which never imports plugin code).
Reads on stdin `{"sys_path", "timeout", "startup_timeout", "max_workers", "mode", "jobs"}`, a
job being the entries of one distribution. The probe imports Lightning once (and says
`{"ready": true}`), then runs at most `max_workers` jobs at a time, each in a worker
(`jetzoo.registry.health.worker`): forked from the probe on Linux (Lightning is then already
imported), a fresh interpreter elsewhere. It relays each entry's result on stdout, then
`{"done": true}`.

A worker that stays silent for `timeout` seconds on one entry is killed and the entry reported
"timed out after Ns during <stage>"; one that exits or dies mid-entry gives "exited with code N
during <stage>" or "killed by SIGNAME during <stage>". A fresh worker then takes the job's
remaining entries. Timeouts and signals depend on the machine's load and are marked not
cacheable; everything else is the plugin's own doing and may be cached.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field

from jetzoo.registry.health.lines import LineReader, send, wait_readable

POLL_SECONDS = 0.25


@dataclass
class Job:
    entries: list[dict]
    next: int = 0  # index of the first entry without a result

    @property
    def remaining(self) -> list[dict]:
        return self.entries[self.next :]


@dataclass
class Worker:
    job: Job
    pid: int
    reader: LineReader
    log_path: str
    process: subprocess.Popen | None = None  # spawn mode only
    ready: bool = False  # Lightning imported (always, for a fork of the probe)
    stage: str | None = None  # of the entry job.entries[job.next], once it started
    finished: bool = False
    deadline: float = field(default=0.0)

    def exit_status(self, block: bool) -> int | None:
        """The wait status once it has ended (None while it runs and `block` is false)."""
        if self.process is not None:
            try:
                self.process.wait(None if block else 0)
            except subprocess.TimeoutExpired:
                return None
            code = self.process.returncode
            return -code if code < 0 else code << 8  # as os.waitpid gives it
        pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        return status if pid else None

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Supervisor:
    def __init__(self, payload: dict, out_fd: int, log_dir: str):
        self.timeout = float(payload["timeout"])
        self.startup_timeout = float(payload["startup_timeout"])
        self.max_workers = int(payload["max_workers"])
        self.fork = payload["mode"] == "fork"
        self.sys_path = payload["sys_path"]
        self.out_fd, self.log_dir = out_fd, log_dir
        # biggest jobs first: the shortest total time with parallel workers
        self.pending = deque(sorted((Job(j) for j in payload["jobs"]), key=lambda j: -len(j.entries)))
        self.running: list[Worker] = []
        self.started = 0

    # --- results, relayed to the listing process --------------------------------------------------
    def report(self, worker: Worker, **result) -> None:
        entry = worker.job.entries[worker.job.next]
        send(self.out_fd, group=entry["group"], name=entry["name"], **result)
        worker.job.next += 1
        worker.stage = None

    def fail_job(self, worker: Worker, reason: str) -> None:
        while worker.job.remaining:
            self.report(worker, status="broken", reason=reason, cacheable=False)

    # --- workers ---------------------------------------------------------------------------------
    def start(self, job: Job) -> None:
        self.started += 1
        log_path = os.path.join(self.log_dir, f"worker-{self.started}.log")
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        read_fd, write_fd = os.pipe()
        process = None
        if self.fork:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the child: nothing of the probe's plumbing, then the checks
                for fd in (read_fd, self.out_fd, *(w.reader.fd for w in self.running)):
                    os.close(fd)
                from jetzoo.registry.health.worker import run_forked

                run_forked(job.remaining, write_fd, log_fd)  # never returns
        else:
            entries_path = os.path.join(self.log_dir, f"worker-{self.started}.json")
            with open(entries_path, "w") as f:
                json.dump({"sys_path": self.sys_path, "entries": job.remaining}, f)
            process = subprocess.Popen(
                [sys.executable, "-m", "jetzoo.registry.health.worker", entries_path],
                stdin=subprocess.DEVNULL, stdout=write_fd, stderr=log_fd,
            )
            pid = process.pid
        os.close(write_fd)
        os.close(log_fd)
        worker = Worker(job, pid, LineReader(read_fd), log_path, process, ready=self.fork)
        worker.deadline = time.monotonic() + (self.timeout if self.fork else self.startup_timeout)
        self.running.append(worker)

    def retire(self, worker: Worker) -> None:
        """Forget an ended worker; a fresh one takes what is left of its job."""
        self.running.remove(worker)
        os.close(worker.reader.fd)
        if worker.job.remaining:
            self.start(worker.job)

    def on_message(self, worker: Worker, message: dict) -> None:
        now = time.monotonic()
        if message.get("ready"):
            worker.ready, worker.deadline = True, now + self.timeout
        elif message.get("finished"):
            worker.finished, worker.deadline = True, now + self.timeout
        elif "stage" in message:
            if message["stage"] == "import":  # a new entry: its own time budget
                worker.deadline = now + self.timeout
            worker.stage = message["stage"]
        elif "status" in message and worker.job.remaining:
            result = {k: v for k, v in message.items() if k not in ("group", "name")}
            self.report(worker, **result, cacheable=True)
            worker.deadline = now + self.timeout

    def on_end(self, worker: Worker, how: str, cacheable: bool, detail: str = "") -> None:
        """The worker ended (`how`: exited, killed or timed out) before finishing its job."""
        if not worker.finished and worker.job.remaining:
            if not worker.ready:
                self.fail_job(worker, f"could not be checked: the checking process {how} while starting{detail}")
            else:
                stage = worker.stage or "import"
                self.report(worker, status="broken", reason=f"{how} during {stage}{detail}", cacheable=cacheable)
        self.retire(worker)

    def poll(self, worker: Worker) -> None:
        for message in worker.reader.read_available():
            self.on_message(worker, message)
        status = worker.exit_status(block=False)
        if status is not None:
            for message in worker.reader.read_available(all_of_it=True):  # what it wrote before it ended
                self.on_message(worker, message)
            code = os.waitstatus_to_exitcode(status)
            if code >= 0:
                self.on_end(worker, f"exited with code {code}", True, last_line(worker.log_path) if code else "")
            else:
                self.on_end(worker, f"killed by {signal.Signals(-code).name}", cacheable=False)
        elif time.monotonic() > worker.deadline:
            worker.kill()
            worker.exit_status(block=True)
            limit = self.timeout if worker.ready else self.startup_timeout
            self.on_end(worker, f"timed out after {limit:g}s", cacheable=False)

    # --- the loop --------------------------------------------------------------------------------
    def run(self) -> None:
        while self.pending or self.running:
            while self.pending and len(self.running) < self.max_workers:
                self.start(self.pending.popleft())
            now = time.monotonic()
            wait = min([POLL_SECONDS] + [w.deadline - now for w in self.running])
            wait_readable([w.reader for w in self.running], wait)
            for worker in list(self.running):
                self.poll(worker)

    def kill_all(self) -> None:
        for worker in self.running:
            worker.kill()


def last_line(path: str) -> str:
    """': <the last line the worker wrote to its log>', or ''."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            lines = [line.strip() for line in f.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f": {lines[-1][:200]}" if lines else ""


def main() -> None:
    payload = json.load(sys.stdin)
    out_fd = os.dup(1)
    os.dup2(2, 1)  # stdout carries messages only
    sys.path[:] = payload["sys_path"]
    if payload["mode"] == "fork":
        import lightning  # noqa: F401 - imported once here, inherited by every forked worker
        import torch

        torch.set_num_threads(1)  # model builds are tiny; workers must not fight over the cores
    send(out_fd, ready=True)
    with tempfile.TemporaryDirectory(prefix="jetzoo-plugin-health-") as log_dir:
        supervisor = Supervisor(payload, out_fd, log_dir)
        try:
            supervisor.run()
        finally:
            supervisor.kill_all()
    send(out_fd, done=True)


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # the listing process went away: stop, leaving no worker behind
        os._exit(1)
