"""Micro-benchmarks (`--micro`): what the extension costs the user's kernel.

* `digest`: the kernel digest the server sends after executions (the same silent execute
  request, `jupyter_sleeptime.introspect.digest.execute_kwargs()`), on a namespace holding a
  1,000,000 × 50 float64 DataFrame and 1,000 small variables: kernel-side `took_ms` and the
  client round trip, p50/p95. The kernel is started with jupyter_client directly.
* `cell`: wall time of a trivial cell (`x = 1`) executed over the kernel websocket, with the
  extension enabled vs not loaded, alternating blocks on two servers (the enabled server's
  idle debounce is set out of reach so no thinking starts while the other one is measured).
* `cpu`: a CPU-bound pure-Python cell (~2 s) while a background thinking run is in flight
  vs while the extension is idle (before thinking starts and after it finished).
* `mcp`: every MCP tool through a real MCP client session (p95 per tool) and the characters
  of a prepared-state read vs the notebook read whole (`mcp_micro.py`).
* `redact`: redaction ms per 50,000 characters of the notebooks' sources and outputs
  (`redact_micro.py`).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from ..testing.harness import KernelSocket, ServerClient, ServerProcess
from .mcp_micro import brief as mcp_brief
from .mcp_micro import mcp_micro
from .progress import Progress
from .redact_micro import redact_micro
from .runner import wait_kernel_idle
from .summary import median, percentile

PARTS = ("digest", "cell", "cpu", "mcp", "redact")

DIGEST_SETUP = """\
import numpy as np, pandas as pd
big = pd.DataFrame(np.random.default_rng(0).random(({rows}, {cols})),
                   columns=[f"c{{i}}" for i in range({cols})])
for _i in range({small}):
    _k = _i % 5
    globals()[f"v{{_i}}"] = (_i if _k == 0 else _i * 0.5 if _k == 1 else f"s{{_i}}"
                            if _k == 2 else [_i, _i + 1] if _k == 3 else {{"k": _i}})
del _i, _k
"""

CPU_CELL = """\
import time as _bench_time
_bench_t0 = _bench_time.perf_counter()
_bench_s = 0
for _bench_i in range({n}):
    _bench_s += _bench_i * _bench_i
print("BENCH_ELAPSED", _bench_time.perf_counter() - _bench_t0)
"""

CPU_SETUP = [
    "import pandas as pd\nimport numpy as np\nrng = np.random.default_rng(0)\n"
    "orders = pd.DataFrame({'region': rng.choice(['north', 'south', 'east'], 1000),\n"
    "                       'units': rng.integers(1, 20, 1000),\n"
    "                       'price': rng.uniform(5, 50, 1000).round(2)})\norders.head()",
    "orders['revenue'] = orders.units * orders.price\n"
    "by_region = orders.groupby('region')['revenue'].sum().round(1)\nby_region",
    "top = by_region.idxmax()\nprint('top region:', top)",
]


def _stats(values: list[float]) -> dict[str, float | None]:
    return {
        "n": len(values),
        "p50": median(values),
        "p95": percentile(values, 95),
        "min": min(values, default=None),
        "max": max(values, default=None),
    }


# -- (a) digest ------------------------------------------------------------------------------------
def _shell_reply(kc: Any, msg_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def digest_micro(
    progress: Progress,
    runs: int = 50,
    budget_ms: float = 15.0,
    rows: int = 1_000_000,
    cols: int = 50,
    small: int = 1000,
) -> dict[str, Any]:
    from jupyter_client.manager import start_new_kernel

    from ..introspect.digest import execute_kwargs, parse_reply

    progress.phase("digest: starting a kernel")
    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=120)
    try:
        progress.phase(f"digest: building a {rows:,}×{cols} DataFrame and {small:,} variables")
        setup = _shell_reply(
            kc, kc.execute(DIGEST_SETUP.format(rows=rows, cols=cols, small=small)), 600
        )
        if setup.get("status") != "ok":
            raise RuntimeError(f"digest setup failed: {setup.get('ename')}: {setup.get('evalue')}")
        kwargs = execute_kwargs(budget_ms=budget_ms)
        took: list[float] = []
        trip: list[float] = []
        truncated = 0
        variables: list[int] = []
        first: dict[str, Any] = {}
        for index in range(runs + 1):
            progress.phase(f"digest {index}/{runs}", key="digest")
            started = time.perf_counter()
            reply = _shell_reply(kc, kc.execute(**kwargs), 60)
            elapsed = (time.perf_counter() - started) * 1000
            digest = parse_reply(reply.get("user_expressions") or {})
            if index == 0:  # the first request also unpacks the digest code: reported apart
                first = {"took_ms": digest.get("took_ms"), "round_trip_ms": elapsed}
                continue
            took.append(float(digest.get("took_ms") or 0.0))
            trip.append(elapsed)
            truncated += bool(digest.get("truncated"))
            variables.append(len(digest.get("variables") or []))
        return {
            "runs": runs,
            "budget_ms": budget_ms,
            "namespace": f"{rows:,}×{cols} float64 DataFrame + {small:,} small variables",
            "p50_took_ms": median(took),
            "p95_took_ms": percentile(took, 95),
            "p50_round_trip_ms": median(trip),
            "p95_round_trip_ms": percentile(trip, 95),
            "took_ms": _stats(took),
            "round_trip_ms": _stats(trip),
            "first": first,
            "truncated_runs": truncated,
            "variables_reported": median(variables),
            "total_variables": digest.get("total"),
        }
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


# -- (b) trivial cell ---------------------------------------------------------------------------------
async def _kernel_on(
    server: ServerProcess, name: str, extension: bool
) -> tuple[KernelSocket, ServerClient, str]:
    client = ServerClient(server.url, server.token)
    nbformat.write(nbformat.v4.new_notebook(), server.root_dir / name)
    kernel_id = await client.open_notebook(name)
    kernel = KernelSocket(server.url, server.token, kernel_id)
    await kernel.connect()
    if extension:
        await wait_kernel_idle(client, kernel, kernel_id)
    return kernel, client, kernel_id


async def cell_micro(
    progress: Progress,
    traits: dict[str, Any],
    logs: Path | None,
    runs: int = 200,
    block: int = 25,
    warmup: int = 10,
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="sleeptime-micro-"))
    servers = _on_off_servers(work, traits, logs)
    kernels: dict[bool, KernelSocket] = {}
    try:
        progress.phase("cell: starting two servers (extension on / off)")
        for server in servers.values():
            await asyncio.to_thread(server.start)
        await _check_not_loaded(servers[False])
        for on, server in servers.items():
            kernels[on], _, _ = await _kernel_on(server, "trivial.ipynb", on)
        times = await _time_trivial_cell(kernels, progress, runs, block, warmup)
        on_s, off_s = _stats(times[True]), _stats(times[False])
        return {
            "runs": runs,
            "block": block,
            "cell": "x = 1",
            "enabled_ms": on_s,
            "disabled_ms": off_s,
            "p50_difference_ms": (on_s["p50"] or 0) - (off_s["p50"] or 0),
            "p95_difference_ms": (on_s["p95"] or 0) - (off_s["p95"] or 0),
        }
    finally:
        for kernel in kernels.values():
            kernel.close()
        for server in servers.values():
            await asyncio.to_thread(server.stop)
        shutil.rmtree(work, ignore_errors=True)


def _on_off_servers(
    work: Path, traits: dict[str, Any], logs: Path | None
) -> dict[bool, ServerProcess]:
    """Two servers (not started): with the extension (`True`) and without it (`False`)."""
    (work / "on").mkdir()
    (work / "off").mkdir()
    on_traits = {**traits, "idle_seconds": 3600}  # observing, but no thinking mid-measurement
    return {
        True: ServerProcess(
            work / "on",
            work / "on.db",
            on_traits,
            extension=True,
            log_path=(logs / "micro-cell-on.server.log") if logs else None,
        ),
        False: ServerProcess(
            work / "off",
            work / "off.db",
            {},
            extension=False,
            log_path=(logs / "micro-cell-off.server.log") if logs else None,
        ),
    }


async def _check_not_loaded(server: ServerProcess) -> None:
    probe = ServerClient(server.url, server.token)
    try:
        await probe.status()
        loaded = True
    except Exception:
        loaded = False
    if loaded:
        raise RuntimeError("the extension answered on the server started without it")


async def _time_trivial_cell(
    kernels: dict[bool, KernelSocket], progress: Progress, runs: int, block: int, warmup: int
) -> dict[bool, list[float]]:
    """Milliseconds per `x = 1` on each kernel, in alternating blocks after a warm-up."""
    times: dict[bool, list[float]] = {True: [], False: []}
    for on in (True, False):
        for _ in range(warmup):
            await kernels[on].execute("x = 1")
    done = 0
    while done < runs:
        for on in (True, False):
            for _ in range(min(block, runs - done)):
                started = time.perf_counter()
                result = await kernels[on].execute("x = 1")
                times[on].append((time.perf_counter() - started) * 1000)
                if (result["reply"] or {}).get("status") != "ok":
                    raise RuntimeError("the trivial cell failed")
            progress.phase(
                f"cell: {len(times[True])}/{runs} with the extension, "
                f"{len(times[False])}/{runs} without",
                key="cell",
            )
        done += min(block, runs - done)
    return times


# -- (c) CPU-bound cell while thinking --------------------------------------------------------------
ELAPSED = re.compile(r"BENCH_ELAPSED ([0-9.eE+-]+)")


async def _cpu_sample(server: ServerProcess, kernel_id: str, n: int) -> dict[str, float]:
    # A fresh websocket per sample: tornado stops reading frames (pings included) while its
    # one-message queue is full, so a socket left unread during a long wait gets dropped by
    # the server's ping timeout.
    kernel = KernelSocket(server.url, server.token, kernel_id)
    await kernel.connect()
    try:
        started = time.perf_counter()
        result = await kernel.execute(CPU_CELL.format(n=n))
        wall = time.perf_counter() - started
    finally:
        kernel.close()
    text = "".join(o.get("text", "") for o in result["outputs"] if o["type"] == "stream")
    found = ELAPSED.search(text)
    if not found:
        raise RuntimeError(f"the CPU-bound cell printed no timing: {text[:200]!r}")
    return {"kernel_s": float(found.group(1)), "wall_s": wall}


async def cpu_micro(
    progress: Progress,
    traits: dict[str, Any],
    logs: Path | None,
    samples: int = 3,
    target_s: float = 2.0,
    in_flight_s: float = 3.0,
    wait_s: float = 600.0,
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="sleeptime-micro-"))
    server = ServerProcess(
        work,
        work / "sleeptime.db",
        {**traits, "max_tokens_per_hour": 0},
        log_path=(logs / "micro-cpu.server.log") if logs else None,
    )
    kernel: KernelSocket | None = None
    try:
        progress.phase("cpu: starting a server")
        await asyncio.to_thread(server.start)
        kernel, client, kernel_id = await _kernel_on(server, "cpu.ipynb", True)
        status = await client.status()
        for source in CPU_SETUP:
            await kernel.execute(source)
        kernel.close()
        kernel = None
        # Calibrate and measure back to back: the idle debounce never fires in between.
        probe = await _cpu_sample(server, kernel_id, 2_000_000)
        n = max(100_000, int(2_000_000 * target_s / max(probe["kernel_s"], 1e-3)))
        sampler = _CpuSampler(server, client, kernel_id, n, samples, progress)
        before = await sampler.idle_before()
        during, note = await sampler.during_thinking(in_flight_s)
        after: list[dict[str, float]] = []
        if during:
            after, late = await sampler.idle_after(wait_s)
            note = late or note
        state = await client.kernel(kernel_id)
        return {
            "model": status.get("sleep_model"),
            "loop_iterations": n,
            "target_s": target_s,
            **_cpu_medians(before, during, after),
            "note": note,
            "sleep_usage": state["usage"]["sleep"],
        }
    finally:
        if kernel is not None:
            kernel.close()
        await asyncio.to_thread(server.stop)
        shutil.rmtree(work, ignore_errors=True)


class _CpuSampler:
    """Samples of the CPU-bound cell (`n` iterations) in the three situations compared."""

    def __init__(
        self,
        server: ServerProcess,
        client: ServerClient,
        kernel_id: str,
        n: int,
        samples: int,
        progress: Progress,
    ) -> None:
        self.server = server
        self.client = client
        self.kernel_id = kernel_id
        self.n = n
        self.samples = samples
        self.progress = progress

    async def thinking(self) -> bool:
        return bool((await self.client.kernel(self.kernel_id))["thinking"])

    async def sample(self) -> dict[str, float]:
        return await _cpu_sample(self.server, self.kernel_id, self.n)

    async def idle_before(self) -> list[dict[str, float]]:
        """Before thinking starts; a sample that ended with thinking in flight is dropped."""
        before: list[dict[str, float]] = []
        for i in range(self.samples):
            self.progress.phase(
                f"cpu: idle sample {i + 1}/{self.samples} (before thinking)", key="cpu"
            )
            sample = await self.sample()
            if not await self.thinking():
                before.append(sample)
        return before

    async def during_thinking(self, in_flight_s: float) -> tuple[list[dict[str, float]], str]:
        """Each sample starts once thinking has been in flight for `in_flight_s`."""
        during: list[dict[str, float]] = []
        for i in range(self.samples):
            self.progress.phase(
                f"cpu: waiting for thinking to be in flight ({i + 1}/{self.samples})", key="cpu"
            )
            if not await self._in_flight_for(in_flight_s, timeout=120):
                return during, (
                    "thinking was never in flight for long enough to measure "
                    "(a fast remote or scripted model?)"
                )
            self.progress.phase(f"cpu: sample {i + 1}/{self.samples} while thinking", key="cpu")
            during.append(await self.sample())
        return during, ""

    async def idle_after(self, wait_s: float) -> tuple[list[dict[str, float]], str]:
        """After thinking finished (waiting at most `wait_s`); a note when it did not."""
        after: list[dict[str, float]] = []
        self.progress.phase("cpu: waiting for thinking to finish", key="cpu-wait")
        try:
            await self.client.wait_idle_thinking(self.kernel_id, timeout=wait_s)
            for i in range(self.samples):
                self.progress.phase(
                    f"cpu: idle sample {i + 1}/{self.samples} (after thinking)", key="cpu"
                )
                after.append(await self.sample())
        except TimeoutError:
            return after, f"thinking did not finish within {wait_s:.0f} s: no 'after' samples"
        return after, ""

    async def _in_flight_for(self, seconds: float, timeout: float) -> bool:
        since: float | None = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.thinking():
                since = since or time.monotonic()
                if time.monotonic() - since >= seconds:
                    return True
            else:
                since = None
            await asyncio.sleep(0.2)
        return False


def _cpu_medians(
    before: list[dict[str, float]], during: list[dict[str, float]], after: list[dict[str, float]]
) -> dict[str, Any]:
    idle = before + after
    idle_med = median(s["kernel_s"] for s in idle)
    during_med = median(s["kernel_s"] for s in during)
    return {
        "idle_before": before,
        "during_thinking": during,
        "idle_after": after,
        "median_idle_s": idle_med,
        "median_during_s": during_med,
        "median_idle_wall_s": median(s["wall_s"] for s in idle),
        "median_during_wall_s": median(s["wall_s"] for s in during),
        "overhead": (during_med / idle_med - 1) if idle_med and during_med else None,
    }


async def run_micro(
    parts: list[str],
    traits: dict[str, Any],
    progress: Progress,
    logs: Path | None,
    cell_runs: int = 200,
    digest_runs: int = 50,
    cpu_samples: int = 3,
    notebooks: list[Path] | None = None,  # for `mcp`; default: the quickstart notebook
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        progress.at(f"micro {part}")
        try:
            if part == "digest":
                out["digest"] = await asyncio.to_thread(digest_micro, progress, digest_runs)
            elif part == "cell":
                out["cell"] = await cell_micro(progress, traits, logs, runs=cell_runs)
            elif part == "cpu":
                out["cpu"] = await cpu_micro(progress, traits, logs, samples=cpu_samples)
            elif part == "mcp":
                out["mcp"] = await mcp_micro(progress, traits, logs, notebooks)
            elif part == "redact":
                paths = notebooks or [_quickstart_notebook()]
                out["redact"] = await asyncio.to_thread(redact_micro, paths)
        except Exception as exc:
            out[part] = {"error": f"{type(exc).__name__}: {exc}"}
            progress.note(f"micro {part} failed: {out[part]['error']}")
        progress.note(f"micro {part}: {json.dumps(_brief(part, out[part]))}")
    return out


def _brief(part: str, result: dict[str, Any]) -> dict[str, Any]:
    if "error" in result:
        return result
    if part == "mcp":
        return mcp_brief(result)
    keys = {
        "redact": ("chars", "median_ms_per_50k", "p95_ms_per_50k"),
        "digest": ("p50_took_ms", "p95_took_ms", "p50_round_trip_ms", "p95_round_trip_ms"),
        "cell": ("p50_difference_ms", "p95_difference_ms"),
        "cpu": ("median_idle_s", "median_during_s", "overhead"),
    }[part]
    return {
        k: (round(result[k], 3) if isinstance(result.get(k), float) else result.get(k))
        for k in keys
    }


def _quickstart_notebook() -> Path:
    from ..cli import _quickstart

    return _quickstart()
