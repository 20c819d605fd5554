#!/usr/bin/python3
"""A real nats-server for the bindings' tests, and a reader of what a stream holds.

    /usr/bin/python3 tests/bindings/nats_helper.py serve DIR
        starts `nats-server -js` on a free port of 127.0.0.1 (JetStream store
        in DIR), prints ONE line {"url": "nats://127.0.0.1:PORT", "port": PORT,
        "pid": PID} (or {"skip": reason} when nats-server is not installed),
        then waits until stdin closes (or it is killed) and stops the server.

    /usr/bin/python3 tests/bindings/nats_helper.py read PORT STREAM
        prints ONE line of JSON: {"messages": n, "items": [{"subject",
        "data" (the event, parsed), "msg_id" (the Nats-Msg-Id header)}, ...]}
        in stream order, asking the JetStream API over the plain NATS protocol.

Standard library only, so the Node and Go tests can drive it too (the
protocol client is the one tests/cli/test_cli.py uses).
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time


def nats_server_binary():
    path = os.environ.get("ICMS_NATS_SERVER") or shutil.which("nats-server")
    if not path and os.access("/usr/sbin/nats-server", os.X_OK):
        path = "/usr/sbin/nats-server"
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsClient:
    """Just enough of the NATS protocol to ask the JetStream API (request/reply)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        self.line()  # INFO
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\nPING\r\n')
        while self.line() != b"PONG":
            pass
        self.sock.sendall(b"SUB _INBOX.bind 1\r\n")

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("nats closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exactly(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("nats closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def request(self, subject, body):
        data = json.dumps(body).encode() if body is not None else b""
        self.sock.sendall(b"PUB %s _INBOX.bind %d\r\n%s\r\n" % (subject.encode(), len(data), data))
        while True:
            parts = self.line().split()
            if parts and parts[0] == b"PING":
                self.sock.sendall(b"PONG\r\n")
            elif parts and parts[0] == b"MSG":
                return json.loads(self.exactly(int(parts[-1])))
            elif parts and parts[0] == b"HMSG":
                raw = self.exactly(int(parts[-1]))
                return json.loads(raw[int(parts[-2]):])

    def close(self):
        self.sock.close()


def read_stream(port, stream):
    """What the stream holds: {"messages": n, "items": [{"subject","data","msg_id"}]}."""
    nc = NatsClient(port)
    try:
        info = nc.request("$JS.API.STREAM.INFO." + stream, None)
        if "error" in info:
            return {"messages": 0, "items": [], "error": info["error"]}
        n = info["state"]["messages"]
        first = info["state"].get("first_seq", 1)
        items = []
        for seq in range(first, first + n):
            m = nc.request("$JS.API.STREAM.MSG.GET." + stream, {"seq": seq})["message"]
            headers = base64.b64decode(m.get("hdrs", "")).decode() if m.get("hdrs") else ""
            msg_id = None
            for line in headers.split("\r\n"):
                if line.lower().startswith("nats-msg-id:"):
                    msg_id = line.split(":", 1)[1].strip()
            items.append({"subject": m["subject"],
                          "data": json.loads(base64.b64decode(m["data"])),
                          "msg_id": msg_id})
        return {"messages": n, "items": items}
    finally:
        nc.close()


def start_server(store_dir):
    """(process, port) of a nats-server -js on 127.0.0.1; None when not installed."""
    binary = nats_server_binary()
    if not binary:
        return None
    port = free_port()
    proc = subprocess.Popen([binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store_dir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("nats-server exited with %s" % proc.returncode)
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("nats-server did not start")


def main(argv):
    if len(argv) == 3 and argv[1] == "serve":
        started = start_server(argv[2])
        if started is None:
            print(json.dumps({"skip": "nats-server is not installed"}), flush=True)
            return 0
        proc, port = started
        signal.signal(signal.SIGTERM, lambda *_: (proc.terminate(), proc.wait(10), sys.exit(0)))
        print(json.dumps({"url": "nats://127.0.0.1:%d" % port, "port": port, "pid": proc.pid}),
              flush=True)
        try:
            sys.stdin.read()
        finally:
            proc.terminate()
            proc.wait(10)
        return 0
    if len(argv) == 4 and argv[1] == "read":
        print(json.dumps(read_stream(int(argv[2]), argv[3])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
