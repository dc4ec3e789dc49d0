#!/usr/bin/env python3
"""Feed a file's lines into a FIFO the way a producer that must lose
nothing does: the FIFO stays open across its readers' deaths, and a write
that fails with EPIPE (no reader) is tried again until a reader is back.
Each write is whole lines of at most PIPE_BUF bytes, so it is atomic: in
the pipe entirely or not at all.

usage: fifo-feeder.py RECORDS FIFO RATE FED CLOSE
  RATE  lines a second; FED is created once every line is written; the
  FIFO is closed (the reader sees the end) once the file CLOSE exists.
"""
import errno
import os
import sys
import time

PIPE_BUF = 4096


def main():
    records, fifo, rate, fed, close = sys.argv[1:6]
    rate = float(rate)
    with open(records, "rb") as f:
        lines = f.readlines()
    fd = os.open(fifo, os.O_WRONLY)
    start = time.monotonic()
    i = 0
    retries = 0
    while i < len(lines):
        chunk = b""
        n = 0
        while i + n < len(lines) and n < 10 and \
                len(chunk) + len(lines[i + n]) <= PIPE_BUF:
            chunk += lines[i + n]
            n += 1
        while True:
            try:
                os.write(fd, chunk)
                break
            except OSError as e:
                if e.errno != errno.EPIPE:
                    raise
                retries += 1
                time.sleep(0.01)
        i += n
        ahead = start + i / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    with open(fed, "w") as f:
        f.write("%d lines, %d writes retried on EPIPE\n" % (i, retries))
    while not os.path.exists(close):
        time.sleep(0.05)
    os.close(fd)


if __name__ == "__main__":
    main()
