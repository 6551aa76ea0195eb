"""wrk, the load generator of the HTTP benchmarks: one run and its figures, and the CPU a process
spent per request over it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def wrk(url: str, seconds: int, concurrency: int, headers: dict[str, str] | None = None, *,
        script: Path | None = None, timeout_seconds: int | None = None) -> dict[str, float]:
    """req/s, p50 and p99 in ms, and the answers that were not 2xx/3xx plus socket errors, of
    `seconds` of wrk at `concurrency` (`script`: a Lua script that makes the requests). With
    `timeout_seconds`, requests slower than wrk's own 2 s stay in the figures (the slowest are
    what some benchmarks look for). NaN latencies when no request completed."""
    cmd = ["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{seconds}s", "--latency"]
    if timeout_seconds is not None:
        cmd += ["--timeout", f"{timeout_seconds}s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)] if found else float("nan")

    done = re.search(r"(\d+) requests in", out)
    if not done or int(done.group(1)) == 0:
        return {"rps": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"), "errors": 0}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50_ms": ms("50%"), "p99_ms": ms("99%"),
            "errors": (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)}


def cpu_per_request(cpu_seconds: float, result: dict[str, float], seconds: int) -> float:
    """µs of CPU per request over a wrk run (its requests ≈ req/s × its seconds)."""
    return cpu_seconds / max(1.0, result["rps"] * seconds) * 1e6
