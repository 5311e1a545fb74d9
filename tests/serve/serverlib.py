"""Starts `epcal serve` on an ephemeral loopback port for a test, and talks
HTTP to it with the standard library only."""
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time


class Server:
    """A running `epcal serve`; its standard error is collected in `log`."""

    def __init__(self, binary, args, env=None, cwd=None):
        full_env = dict(os.environ, TZ="UTC")
        full_env.pop("SOURCE_DATE_EPOCH", None)
        full_env.pop("EPCAL_TOKEN", None)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0"] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=full_env, cwd=cwd)
        self.log = []
        self._lock = threading.Lock()
        self.host = None
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stderr.readline().decode("utf-8", "replace")
            if not line:
                break
            self._append(line)
            m = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.host = "127.0.0.1"
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("server did not start: " + "".join(self.log))
        self._reader = threading.Thread(target=self._read_rest, daemon=True)
        self._reader.start()

    def _append(self, line):
        with self._lock:
            self.log.append(line)

    def _read_rest(self):
        for raw in self.proc.stderr:
            self._append(raw.decode("utf-8", "replace"))

    def log_text(self):
        with self._lock:
            return "".join(self.log)

    def wait_log(self, pattern, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.log_text()):
                return True
            time.sleep(0.05)
        return False

    def request(self, method, path, headers=None, conn=None):
        """Returns (status, headers as {lower-case name: value}, body)."""
        own = conn is None
        if own:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        if own:
            conn.close()
        return r.status, hdrs, body

    def get(self, path, headers=None):
        return self.request("GET", path, headers)

    def raw_request(self, method, path, headers=None):
        """Returns (status, [(name, value)] in the order sent, every byte
        after the headers), as on the wire: http.client merges repeated
        headers and reads no body after a 304 or HEAD. One request on a
        closed-after connection, so the bytes are all the server sent."""
        lines = [f"{method} {path} HTTP/1.1", "Host: test",
                 "Connection: close"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        with socket.create_connection((self.host, self.port),
                                      timeout=10) as c:
            c.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            raw = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                raw += chunk
        head, _, rest = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        pairs = [tuple(x.strip() for x in line.split(":", 1))
                 for line in header_lines]
        return int(status_line.split()[1]), pairs, rest

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends `sig` and returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self._reader.join(timeout=5)
        return code


# Helpers of the tests that put nginx in front of epcal serve.

def find_nginx():
    """nginx's binary, or None when it is not installed."""
    for p in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if p and os.access(p, os.X_OK):
            return p
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, headers=None, method="GET"):
    """One request on loopback: (status, lower-cased headers, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    h = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, h, body
