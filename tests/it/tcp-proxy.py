# A plain TCP proxy for tests/it/tail-web.sh (not a test itself): the
# database "goes away" when it is killed and "comes back" when it is
# started again on the same port.
#
#   python3 tcp-proxy.py PORT TARGET_PORT PORT_FILE
#
# Listens on 127.0.0.1:PORT (0: a free one), writes the port to PORT_FILE
# once listening, and forwards every connection to 127.0.0.1:TARGET_PORT.
import asyncio
import os
import sys


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()


async def main():
    port, target, port_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

    async def serve(cr, cw):
        try:
            sr, sw = await asyncio.open_connection('127.0.0.1', target)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pump(cr, sw), pump(sr, cw))

    server = await asyncio.start_server(serve, '127.0.0.1', port,
                                        reuse_address=True)
    with open(port_file + '.tmp', 'w') as f:
        f.write('%d\n' % server.sockets[0].getsockname()[1])
    os.rename(port_file + '.tmp', port_file)
    async with server:
        await server.serve_forever()

asyncio.run(main())
