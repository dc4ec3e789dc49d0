# Misbehaving HTTP clients for tests/it/store-hardening.sh (not a test
# itself):
#
#   python3 hardening-client.py slowloris PORT GAP
#       Send a request's headers one byte every GAP seconds.  Exit 0 with
#       "cut off after S s of silence" once the server closes the
#       connection, 1 if all the headers went out without that.
#
#   python3 hardening-client.py trickle PORT GAP head|body
#       Send a request one byte every GAP seconds, never silent for long:
#       the headers, or the headers at once and then the body.  Exit 0
#       with "cut off after S s in all" once the server closes the
#       connection, 1 if the whole request went out without that.
#
#   python3 hardening-client.py hold PORT N READY
#       Open N connections, each sending one POST /metrics with an empty
#       body (a 400, answered once the body is in, so the connection is
#       kept alive).  Write the N answers to READY when all are in, then
#       hold the connections until killed.
#
#   python3 hardening-client.py silent PORT N READY
#       Open N connections that send nothing; write READY once they are
#       connected, then hold them until killed.
#
#   python3 hardening-client.py many PORT N GAP READY
#       Open N connections (some may wait in the kernel's queue), write
#       READY, then send each a GET's headers one byte every GAP seconds,
#       never ending them, until the server has closed every one; print
#       "all N cut off after S s" (exit 0), or after 60 s how many were
#       left (exit 1).  None is opened again.
import os
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(('127.0.0.1', port), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def request(length):
    return (b'POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n'
            b'Content-Type: application/x-ndjson\r\n'
            b'Content-Length: %d\r\n\r\n' % length)


def drip(s, data, gap, start, since):
    """Send data a byte every gap seconds until the server closes."""
    s.settimeout(gap)
    for i in range(len(data)):
        try:
            s.sendall(data[i:i + 1])
            sent = time.monotonic()
            got = s.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            got = b''
        if got:
            print('unexpected answer: %r' % got[:200])
            return 1
        now = time.monotonic()
        print('cut off after %.1f s %s' % (
            now - (sent if since == 'silence' else start),
            'of silence' if since == 'silence' else 'in all'))
        return 0
    print('all %d bytes sent, never cut off' % len(data))
    return 1


def slowloris(port, gap):
    s = connect(port)
    return drip(s, request(10), gap, time.monotonic(), 'silence')


def trickle(port, gap, part):
    body = b'{"x": 1}\n' * 20
    s = connect(port)
    start = time.monotonic()
    if part == 'body':
        s.sendall(request(len(body)))
        return drip(s, body, gap, start, 'start')
    return drip(s, request(len(body)) + body, gap, start, 'start')


def read_answer(s):
    """One HTTP answer with a Content-Length; its status line."""
    buf = b''
    while b'\r\n\r\n' not in buf:
        d = s.recv(4096)
        if not d:
            return 'closed'
        buf += d
    head, _, body = buf.partition(b'\r\n\r\n')
    length = 0
    for line in head.split(b'\r\n')[1:]:
        k, _, v = line.partition(b':')
        if k.strip().lower() == b'content-length':
            length = int(v)
    while len(body) < length:
        d = s.recv(4096)
        if not d:
            break
        body += d
    return head.split(b'\r\n')[0].decode() + ' ' + body.decode()


def hold(port, n, ready):
    socks, answers = [], []
    for _ in range(n):
        s = connect(port)
        s.sendall(b'POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n'
                  b'Content-Type: application/x-ndjson\r\n'
                  b'Content-Length: 1\r\n\r\n\n')
        answers.append(read_answer(s))
        socks.append(s)
    with open(ready + '.tmp', 'w') as f:
        f.write('\n'.join(answers) + '\n')
    os.rename(ready + '.tmp', ready)
    while True:
        time.sleep(60)


def silent(port, n, ready):
    socks = [connect(port) for _ in range(n)]
    open(ready, 'w').close()
    while True:
        time.sleep(60)


def many(port, n, gap, ready):
    data = b'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n' + b'X' * 4000
    socks = [connect(port) for _ in range(n)]
    for s in socks:
        s.setblocking(False)
    open(ready, 'w').close()
    start = time.monotonic()
    i = 0
    while socks and time.monotonic() - start < 60:
        left = []
        for s in socks:
            try:
                got = s.recv(4096)
                if got:
                    print('unexpected answer: %r' % got[:200])
                    return 1
                s.close()
                continue
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            try:
                s.send(data[i % len(data):i % len(data) + 1])
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            left.append(s)
        socks = left
        i += 1
        time.sleep(gap)
    if socks:
        print('%d of %d never cut off in 60 s' % (len(socks), n))
        return 1
    print('all %d cut off after %.1f s' % (n, time.monotonic() - start))
    return 0


def main():
    what, port = sys.argv[1], int(sys.argv[2])
    if what == 'slowloris':
        return slowloris(port, float(sys.argv[3]))
    if what == 'trickle':
        return trickle(port, float(sys.argv[3]), sys.argv[4])
    if what == 'hold':
        return hold(port, int(sys.argv[3]), sys.argv[4])
    if what == 'silent':
        return silent(port, int(sys.argv[3]), sys.argv[4])
    if what == 'many':
        return many(port, int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    return 2


sys.exit(main())
