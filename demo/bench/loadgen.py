"""A small, bounded HTTP load generator for loopback: N clients, each one request at a time.

``run_load(url, cookie=..., concurrency=8, duration_s=15)`` returns a ``LoadResult``
(requests/s, p50/p95 latency in ms, errors). Each request opens a connection (gunicorn's
sync workers close it after the response anyway), sends a GET with the session cookie,
reads the whole response. Only loopback hosts are accepted, and every run stops by
itself after ``duration_s`` seconds or ``max_requests`` requests, whichever comes first.

When ``wrk`` is installed (Debian package ``wrk``) ``run_wrk`` uses it instead: it costs
far less CPU on the 2-core machine, where the load generator shares the cores with the
server; ``wrk_available()`` says whether it is there.
"""
from __future__ import annotations

import asyncio
import ipaddress
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

REQUEST_TIMEOUT_S = 10.0  # a request slower than this counts as failed (as wrk's --timeout 10s)


@dataclass
class LoadResult:
    """One load run: ``requests`` completed (2xx), ``errors`` (other statuses or failures), ``seconds``."""

    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    p50_ms: float | None = None
    p95_ms: float | None = None
    tool: str = "asyncio"
    statuses: dict = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def finish(self) -> "LoadResult":
        if self.latencies_ms and self.p95_ms is None:
            q = statistics.quantiles(self.latencies_ms, n=100, method="inclusive")
            self.p50_ms, self.p95_ms = statistics.median(self.latencies_ms), q[94]
        return self


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"The load generator only targets loopback addresses, not {host}.")


async def _one(host: str, port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        if match:
            await reader.readexactly(int(match.group(1)))
        else:
            await reader.read()
        return status
    finally:
        writer.close()


async def _run(url, cookie, concurrency, duration_s, max_requests, warmup_s) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    _check_loopback(host)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
        "Accept: text/html,application/json\r\nConnection: close\r\n\r\n"
    ).encode()
    result = LoadResult(requests=0, errors=0, seconds=0.0)
    start = time.perf_counter()
    measure_from = start + warmup_s
    stop_at = measure_from + duration_s
    sent = 0

    async def client():
        nonlocal sent
        while time.perf_counter() < stop_at and sent < max_requests:
            sent += 1
            t0 = time.perf_counter()
            try:
                status = await asyncio.wait_for(_one(host, port, request), REQUEST_TIMEOUT_S)
            except (OSError, asyncio.IncompleteReadError, ValueError, asyncio.TimeoutError):
                status = 0
            t1 = time.perf_counter()
            if t0 < measure_from or t1 > stop_at:
                continue
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                result.requests += 1
                result.latencies_ms.append((t1 - t0) * 1000)
            else:
                result.errors += 1

    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.seconds = min(time.perf_counter(), stop_at) - measure_from
    return result.finish()


def run_load(url: str, *, cookie: str, concurrency: int = 8, duration_s: float = 15.0,
             max_requests: int = 200_000, warmup_s: float = 2.0) -> LoadResult:
    """Load ``url`` (loopback only) with ``concurrency`` clients for ``duration_s`` s after ``warmup_s`` s.

    Raises ``ValueError`` for a host that is not loopback.
    """
    return asyncio.run(_run(url, cookie, concurrency, duration_s, max_requests, warmup_s))


def wrk_available() -> bool:
    """Return True when the ``wrk`` command is installed."""
    return shutil.which("wrk") is not None


WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("ACADEMY requests=%d errors=%d seconds=%f p50=%f p95=%f\\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""


def run_wrk(url: str, *, cookie: str, concurrency: int = 8, duration_s: float = 15.0,
            warmup_s: float = 2.0) -> LoadResult:
    """Load ``url`` with ``wrk`` (2 threads, ``concurrency`` connections); same bounds and result as ``run_load``."""
    _check_loopback(urlsplit(url).hostname)
    if warmup_s:
        run_load(url, cookie=cookie, concurrency=concurrency, duration_s=0.0, warmup_s=warmup_s)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        out = subprocess.run(
            ["wrk", "-t", "2", "-c", str(concurrency), "-d", f"{int(duration_s)}s", "-s", script.name,
             "-H", f"Cookie: {cookie}", "-H", "Connection: close", "--timeout", "10s", url],
            capture_output=True, text=True, timeout=duration_s + 60, check=True,
        ).stdout
    match = re.search(r"ACADEMY requests=(\d+) errors=(\d+) seconds=([\d.]+) p50=([\d.]+) p95=([\d.]+)", out)
    if not match:
        raise RuntimeError(f"Could not read wrk's output: {out[-500:]}")
    total, errors, seconds, p50, p95 = match.groups()
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(errors) + (int(non2xx.group(1)) if non2xx else 0)
    return LoadResult(requests=int(total) - errors, errors=errors, seconds=float(seconds), p50_ms=float(p50),
                      p95_ms=float(p95), tool="wrk")
