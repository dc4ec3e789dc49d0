# Clients for tests/it/listen-limits.sh (not a test itself):
#
#   python3 listen-client.py hold PORT N READY [ADDR]
#       Open N connections from ADDR (default 127.0.0.1) that send
#       nothing; write READY once all are connected, then hold them until
#       killed.
#
#   python3 listen-client.py served PORT N READY post
#       Open N connections, each sending one request that leaves it open
#       (post: sm-store's POST /metrics with an empty body, a 400) and
#       reading its answer; write READY once all are
#       answered (so all are accepted and served), then hold them until
#       killed.
#
#   python3 listen-client.py abort PORT N
#       Open N connections one after the other, each sending half a
#       request and then resetting it (SO_LINGER 0), the way a client that
#       gives up does.
#
#   python3 listen-client.py refused PORT ADDR
#       Connect from ADDR and send a GET /health: exit 0 with "refused"
#       if the server closes the connection without an answer within 10 s,
#       1 with what came back otherwise.
import socket
import struct
import sys
import time


def connect(port, addr='127.0.0.1'):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((addr, 0))
    s.connect(('127.0.0.1', port))
    return s


def hold(port, n, ready, addr):
    socks = [connect(port, addr) for _ in range(n)]
    with open(ready + '.tmp', 'w') as f:
        f.write('%d\n' % len(socks))
    import os
    os.rename(ready + '.tmp', ready)
    while True:
        time.sleep(60)


REQUESTS = {
    'post': b'POST /metrics HTTP/1.1\r\nHost: x\r\n'
            b'Content-Type: application/x-ndjson\r\n'
            b'Content-Length: 0\r\n\r\n',
}


def answered(s, what):
    s.sendall(REQUESTS[what])
    got = b''
    while b'\r\n\r\n' not in got:
        b = s.recv(4096)
        if not b:
            raise SystemExit('closed before an answer: %r' % got)
        got += b
    head, body = got.split(b'\r\n\r\n', 1)
    if b'connection: close' in head.lower():
        raise SystemExit('answered with Connection: close: %r' % head)
    length = 0
    for line in head.split(b'\r\n'):
        if line.lower().startswith(b'content-length:'):
            length = int(line.split(b':')[1])
    while len(body) < length:
        body += s.recv(4096)
    return s


def served(port, n, ready, what):
    socks = [answered(connect(port), what) for _ in range(n)]
    import os
    with open(ready + '.tmp', 'w') as f:
        f.write('%d\n' % len(socks))
    os.rename(ready + '.tmp', ready)
    while True:
        time.sleep(60)


def abort(port, n):
    linger = struct.pack('ii', 1, 0)
    for _ in range(n):
        s = connect(port)
        s.sendall(b'GET /health HTTP/1.1\r\nHo')
        # let the server read it before the reset comes
        time.sleep(0.002)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        s.close()


def refused(port, addr):
    s = connect(port, addr)
    got = b''
    try:
        s.sendall(b'GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except ConnectionResetError:
        pass
    except socket.timeout:
        print('no answer and not closed within 10 s')
        return 1
    if got:
        print('answered: %r' % got[:200])
        return 1
    print('refused')
    return 0


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == 'hold':
        addr = sys.argv[5] if len(sys.argv) > 5 else '127.0.0.1'
        hold(port, int(sys.argv[3]), sys.argv[4], addr)
    elif mode == 'served':
        served(port, int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif mode == 'abort':
        abort(port, int(sys.argv[3]))
    elif mode == 'refused':
        return refused(port, sys.argv[3])
    return 0


if __name__ == '__main__':
    sys.exit(main())
