"""A small, blocking WebSocket client for the tests (RFC 6455), on a raw
socket so that tests can also send what a well-behaved client never would:
unmasked frames, oversize frames, invalid UTF-8.  (Debian's
python3-websockets 10.4 has no sync client.)"""
import base64
import hashlib
import json
import os
import socket
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeError(Exception):
    def __init__(self, status, head, body):
        super().__init__(f"handshake answered {status}: {body[:200]!r}")
        self.status = status
        self.head = head
        self.body = body


class Closed(Exception):
    """The server closed: code (None for a TCP close without a close frame)."""

    def __init__(self, code, reason=""):
        super().__init__(f"closed with {code} {reason!r}")
        self.code = code
        self.reason = reason


class WS:
    def __init__(self, port, path, headers=None, timeout=5, rcvbuf=None, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        hdrs = {"Host": f"{host}:{port}", "Upgrade": "websocket", "Connection": "Upgrade",
                "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
        hdrs.update(headers or {})
        req = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items() if v is not None)
        self.sock.sendall((req + "\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise HandshakeError(0, "", self.buf)
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        head = head.decode("latin-1")
        status = int(head.split(" ", 2)[1])
        self.headers = {}
        for line in head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if status != 101:
            body = self.buf
            n = int(self.headers.get("content-length", "0"))
            while len(body) < n:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                body += chunk
            self.sock.close()
            raise HandshakeError(status, head, body)
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        assert self.headers.get("sec-websocket-accept") == want, self.headers
        self.close_code = None

    # -- sending

    def send_frame(self, opcode, payload, fin=True, mask=True):
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            head = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            head = struct.pack("!BBQ", b0, mbit | 127, n)
        if mask:
            key = os.urandom(4)
            body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            self.sock.sendall(head + key + body)
        else:
            self.sock.sendall(head + payload)

    def send_json(self, obj):
        self.send_frame(0x1, json.dumps(obj))

    def close(self, code=1000):
        try:
            self.send_frame(0x8, struct.pack("!H", code))
        except OSError:
            pass
        self.sock.close()

    # -- receiving

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed(None, "TCP closed")
            self.buf += chunk

    def recv_frame(self):
        """One whole frame; a timeout leaves the buffer as it was, so the
        next call starts at the same frame."""
        self._fill(2)
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._fill(4)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._fill(10)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        assert not (b1 & 0x80), "server frames are never masked"
        self._fill(off + n)
        data = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return b0 & 0x0F, data

    def recv(self, timeout=5, answer_pings=True):
        """The next data message as parsed JSON; raises Closed on a close
        frame (answering it) and socket.timeout when nothing comes."""
        self.sock.settimeout(timeout)
        while True:
            op, data = self.recv_frame()
            if op == 0x9:
                if answer_pings:
                    self.send_frame(0xA, data)
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                self.close_code = code
                try:
                    self.send_frame(0x8, data[:2])
                except OSError:
                    pass
                self.sock.close()
                raise Closed(code, data[2:].decode(errors="replace"))
            return json.loads(data.decode())

    def expect_close(self, timeout=5):
        """Reads until the server closes; returns its close code."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                self.recv(timeout=max(0.05, deadline - time.time()))
            except Closed as e:
                return e.code
        raise AssertionError("the server did not close")

    def recv_type(self, type_, timeout=5):
        """Skips messages until one of type_ arrives."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout(f"no {type_} within {timeout}s")
            m = self.recv(timeout=left)
            if m.get("type") == type_:
                return m

    def nothing(self, seconds=0.5):
        """True when no data message arrives within seconds."""
        try:
            m = self.recv(timeout=seconds)
        except (socket.timeout, TimeoutError):
            return True
        raise AssertionError(f"unexpected message {m}")
