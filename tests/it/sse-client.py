# Server-Sent Events clients for tests/it/tail-web.sh and bench/tail-web.sh
# (not a test itself).  Requests go out as HTTP/1.0, so the stream comes
# back unchunked.
#
#   python3 sse-client.py collect PORT PATH MAX SECONDS [LAST_ID]
#       Read the stream of PATH (Last-Event-ID: LAST_ID when given) until
#       MAX row events or SECONDS; print each row as "ID SAMPLE_ID SOURCE".
#
#   python3 sse-client.py many PORT PATH N READY WANT SECONDS
#       Open N streams; once each has its preamble, write READY; then wait
#       until every stream has had an event whose data holds WANT.  Print
#       how many did; exit 1 unless all N did within SECONDS.
#
#   python3 sse-client.py stall PORT PATH GO SECONDS
#       Open a stream with a tiny receive buffer and read nothing until
#       the file GO exists; then read on: print "closed" when the server
#       has closed the stream within SECONDS (exit 0), else "open" (1).
#
#   python3 sse-client.py hold PORT PATH N READY
#       Open N streams, write READY once each has its preamble, then read
#       and drop whatever comes until killed (bench/tail-web.sh).
import json
import os
import selectors
import socket
import sys
import time


def open_stream(port, path, last_id=None, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect(('127.0.0.1', port))
    req = 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: ' \
        'text/event-stream\r\n' % path
    if last_id is not None:
        req += 'Last-Event-ID: %s\r\n' % last_id
    s.sendall((req + '\r\n').encode())
    return s


class Stream:
    """An SSE parser: feed bytes, get events (dicts of field lists)."""

    def __init__(self):
        self.buf = b''
        self.head = True
        self.status = None

    def feed(self, data):
        self.buf += data
        out = []
        if self.head:
            end = self.buf.find(b'\r\n\r\n')
            if end < 0:
                return out
            self.status = self.buf[:self.buf.find(b'\r\n')].decode()
            self.buf = self.buf[end + 4:]
            self.head = False
        while True:
            end = self.buf.find(b'\n\n')
            if end < 0:
                return out
            block, self.buf = self.buf[:end], self.buf[end + 2:]
            ev = {}
            for line in block.decode().split('\n'):
                if line.startswith(':'):
                    ev.setdefault('comment', []).append(line)
                    continue
                k, _, v = line.partition(':')
                ev.setdefault(k, []).append(v[1:] if v.startswith(' ')
                                            else v)
            out.append(ev)


def row_of(ev):
    """(id, record, source) of a row event, or None."""
    if 'id' not in ev or 'data' not in ev:
        return None
    rec = json.loads(ev['data'][0])
    src = json.loads(ev['data'][1])['source'] if len(ev['data']) > 1 \
        else ''
    return ev['id'][0], rec, src


def collect(port, path, nmax, seconds, last_id=None):
    s = open_stream(port, path, last_id)
    st = Stream()
    got = 0
    end = time.monotonic() + seconds
    while got < nmax and time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        for ev in st.feed(data):
            r = row_of(ev)
            if r is None:
                continue
            print(r[0], r[1].get('id', ''), r[2], flush=True)
            got += 1
            if got == nmax:
                break
    s.close()


def open_many(port, path, n):
    """n streams, non-blocking, each with its parser, under one selector."""
    sel = selectors.DefaultSelector()
    streams = {}
    for _ in range(n):
        s = open_stream(port, path)
        s.setblocking(False)
        streams[s] = Stream()
        sel.register(s, selectors.EVENT_READ)
    return sel, streams


def pump(sel, streams, timeout):
    """Read what has come on any stream: (stream, its new events) pairs."""
    for key, _ in sel.select(timeout=timeout):
        s = key.fileobj
        try:
            data = s.recv(65536)
        except BlockingIOError:
            continue
        if not data:
            sel.unregister(s)
            continue
        yield s, streams[s].feed(data)


def write_ready(ready, n):
    with open(ready + '.tmp', 'w') as f:
        f.write('%d\n' % n)
    os.rename(ready + '.tmp', ready)


def many(port, path, n, ready, want, seconds):
    sel, streams = open_many(port, path, n)
    started, got = set(), set()
    end = time.monotonic() + seconds
    said = False
    while len(got) < n and time.monotonic() < end:
        for s, events in pump(sel, streams, 0.2):
            for ev in events:
                if 'event' in ev and ev['event'][0] == 'status':
                    started.add(s)
                if any(want in d for d in ev.get('data', [])):
                    got.add(s)
        if not said and len(started) == n:
            write_ready(ready, n)
            said = True
    print(len(got))
    sys.exit(0 if len(got) == n else 1)


def stall(port, path, go, seconds):
    s = open_stream(port, path, rcvbuf=4096)
    while not os.path.exists(go):
        time.sleep(0.05)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            if not s.recv(65536):
                print('closed')
                return 0
        except socket.timeout:
            break
        except ConnectionResetError:
            print('closed')
            return 0
    print('open')
    return 1


def hold(port, path, n, ready):
    sel, streams = open_many(port, path, n)
    started = set()
    while True:
        for s, events in pump(sel, streams, 1):
            if any('event' in ev for ev in events):
                started.add(s)
        if len(started) == n and ready is not None:
            write_ready(ready, n)
            ready = None


def main():
    cmd, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    a = sys.argv[4:]
    if cmd == 'collect':
        collect(port, path, int(a[0]), float(a[1]),
                a[2] if len(a) > 2 else None)
    elif cmd == 'many':
        many(port, path, int(a[0]), a[1], a[2], float(a[3]))
    elif cmd == 'stall':
        sys.exit(stall(port, path, a[0], float(a[1])))
    elif cmd == 'hold':
        hold(port, path, int(a[0]), a[1])
    else:
        sys.exit('unknown command ' + cmd)


if __name__ == '__main__':
    main()
