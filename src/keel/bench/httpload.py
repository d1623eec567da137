"""A small keep-alive HTTP/1.1 load generator on asyncio streams.

General-purpose Python HTTP clients spend more CPU per request than the server under test, which would make
the client the bottleneck on a 2-core machine; this one only writes a GET and reads Content-Length bytes.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _worker(
    host: str, port: int, paths: list[str], deadline: float, seed: int, out: list[int], auth: str
) -> None:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection(host, port)
    ok = bad = 0
    try:
        while time.perf_counter() < deadline:
            path = paths[rng.randrange(len(paths))]
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if status == 200:
                ok += 1
            else:
                bad += 1
    finally:
        writer.close()
        out.extend((ok, bad))


def run_load(
    host: str, port: int, paths: list[str], seconds: float, connections: int = 16, token: str | None = None
) -> LoadResult:
    """GET random ``paths`` over ``connections`` keep-alive connections for ``seconds`` (with ``token`` as
    the bearer token when given)."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""

    async def main() -> LoadResult:
        deadline = time.perf_counter() + seconds
        outs: list[list[int]] = [[] for _ in range(connections)]
        start = time.perf_counter()
        await asyncio.gather(*(_worker(host, port, paths, deadline, i, outs[i], auth) for i in range(connections)))
        elapsed = time.perf_counter() - start
        return LoadResult(sum(o[0] for o in outs), sum(o[1] for o in outs), elapsed)

    return asyncio.run(main())
