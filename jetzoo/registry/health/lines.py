"""JSON lines over a pipe, read with a deadline: the protocol between the health-check processes.

Each message is one JSON object on one line. Readers are non-blocking and select()-driven, so
one single-threaded process can watch several pipes and their timeouts at once (and fork safely).
"""

from __future__ import annotations

import json
import os
import selectors


def send(fd: int, **message) -> None:
    """Write one message to `fd` in full."""
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


class LineReader:
    """Messages arriving on the read end `fd`; `eof` once every writer has closed it."""

    def __init__(self, fd: int):
        self.fd, self.eof, self._buffer = fd, False, b""
        os.set_blocking(fd, False)

    def read_available(self, all_of_it: bool = False) -> list[dict]:
        """The complete messages readable now (lines that are not JSON objects are skipped);
        `all_of_it`: keep reading until the pipe is empty (for a writer that has ended)."""
        while not self.eof:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                break
            self.eof = not data
            self._buffer += data or b"\n"
            if not all_of_it:
                break
        *lines, self._buffer = self._buffer.split(b"\n")
        return parse(lines)


def parse(lines: list[bytes]) -> list[dict]:
    messages = []
    for line in lines:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict):
            messages.append(message)
    return messages


def wait_readable(readers: list[LineReader], timeout: float) -> list[LineReader]:
    """The readers with data (or end of file) within `timeout` seconds."""
    if not readers:
        return []
    with selectors.DefaultSelector() as selector:
        for reader in readers:
            selector.register(reader.fd, selectors.EVENT_READ, reader)
        return [key.data for key, _ in selector.select(max(0.0, timeout))]
