#!/usr/bin/python3
"""A TCP proxy that loses answers, for tests/chaos/split-chaos.sh.

    flaky-proxy.py TARGET_PORT PORT_FILE STATS_FILE [DROP [RESET]]

Listens on a free port of 127.0.0.1 (written to PORT_FILE once it is
listening) and forwards every connection to 127.0.0.1:TARGET_PORT, but:
with probability DROP (default 0.03) the server's answer is thrown away
and both connections closed -- the request went in, the sender never
hears (a network that fails after the COMMIT); with probability RESET
(default 0.01) a request is cut off before it reaches the server.  On
SIGTERM it writes "answers N dropped N resets N" to STATS_FILE and exits.
"""
import asyncio
import os
import random
import signal
import sys

stats = {"answers": 0, "dropped": 0, "resets": 0}


async def pump(reader, writer, peer, chance, counter):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if random.random() < chance:
                stats[counter] += 1
                writer.transport.abort()
                peer.transport.abort()
                return
            if counter == "dropped":
                stats["answers"] += 1
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()


async def handle(creader, cwriter, target, drop, reset):
    try:
        sreader, swriter = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        cwriter.transport.abort()   # the receiver is down: say so at once
        return
    await asyncio.gather(
        pump(creader, swriter, cwriter, reset, "resets"),
        pump(sreader, cwriter, swriter, drop, "dropped"))


async def main():
    target, port_file, stats_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    drop = float(sys.argv[4]) if len(sys.argv) > 4 else 0.03
    reset = float(sys.argv[5]) if len(sys.argv) > 5 else 0.01
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, target, drop, reset), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(port_file + ".tmp", port_file)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    with open(stats_file, "w") as f:
        f.write("answers %(answers)d dropped %(dropped)d resets %(resets)d\n"
                % stats)


asyncio.run(main())
