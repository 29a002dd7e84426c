"""A Modbus TCP server for ParkOps' tests: Debian's python3-pymodbus 3.0, not code ParkOps wrote.

    /usr/bin/python3 modbus-server.py --port 15020 --units 1,2

Binds 127.0.0.1 only. Every unit has all four tables (coils, discrete inputs, input and holding
registers), addresses 0..9999, all zero, addressed from 0 as on the wire (zero_mode). Requests to a
unit not listed get no answer at all (pymodbus 3.0 drops them), as many gateways do for a dead unit;
an address outside 0..9999 gets exception 2 (illegal data address).

The test drives it over stdin, one JSON object a line, and gets one JSON line back on stdout:
    {"op": "set", "unit": 1, "table": "hr", "address": 0, "values": [1, 2]}   -> {"ok": true}
    {"op": "get", "unit": 1, "table": "co", "address": 0, "count": 2}         -> {"ok": true, "values": [...]}
Tables: "co" coils, "di" discrete inputs, "ir" input registers, "hr" holding registers.
Once listening it prints {"ready": true, "port": N}. A bind failure exits with status 3.
"""
import argparse
import asyncio
import json
import logging
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartAsyncTcpServer

SIZE = 10000
FUNCTION = {"co": 1, "di": 2, "hr": 3, "ir": 4}


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def handle(context, line):
    try:
        cmd = json.loads(line)
        op = cmd["op"]
        slave = context[int(cmd["unit"])]
        fc = FUNCTION[cmd["table"]]
        address = int(cmd["address"])
        if op == "set":
            values = cmd["values"]
            if fc in (1, 2):
                values = [bool(v) for v in values]
            else:
                values = [int(v) & 0xFFFF for v in values]
            if address < 0 or address + len(values) > SIZE:
                raise ValueError(f"address {address}+{len(values)} outside 0..{SIZE - 1}")
            slave.setValues(fc, address, values)
            return {"ok": True}
        if op == "get":
            return {"ok": True, "values": slave.getValues(fc, address, int(cmd.get("count", 1)))}
        raise ValueError(f"unknown op {op!r}")
    except Exception as exc:  # a bad command is reported to the test, never fatal
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--units", default="1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

    def unit():
        block = lambda: ModbusSequentialDataBlock(0, [0] * SIZE)
        return ModbusSlaveContext(di=block(), co=block(), hr=block(), ir=block(), zero_mode=True)

    slaves = {int(u): unit() for u in args.units.split(",") if u.strip()}
    context = ModbusServerContext(slaves=slaves, single=False)
    # Reuse the address: a restart on the same port must not fail on the killed server's TIME_WAIT sockets.
    server = await StartAsyncTcpServer(context=context, address=("127.0.0.1", args.port), defer_start=True, allow_reuse_address=True)
    serving = asyncio.create_task(server.serve_forever())
    done, _ = await asyncio.wait({serving, server.serving}, return_when=asyncio.FIRST_COMPLETED)
    if serving in done:
        exc = serving.exception()
        sys.stderr.write(f"cannot listen on 127.0.0.1:{args.port}: {exc}\n")
        sys.exit(3)
    reply({"ready": True, "port": args.port})

    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line == "":  # the test process went away: stop with it
            break
        if line.strip():
            reply(handle(context, line))
    await server.server_close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except OSError as exc:
        sys.stderr.write(f"modbus-server: {exc}\n")
        sys.exit(3)
