"""``python -m benchmarks.service`` (a step of ``make bench``): a load test of ``caliper-schema serve``.

16 concurrent clients (asyncio, one HTTP connection and one bearer token each) post 100 envelopes each
(the benchmark's generated valid envelopes, one event each, all distinct) to ``POST /caliper/event`` of
a ``caliper-schema serve`` process (in-memory store, jobs completing at once, its access log on, as a
developer runs it). Then every accepted event must be stored and listed: the ``externalId`` of each 200
answer is looked for in ``GET /caliper/events`` (all pages) and its job must have completed with it.
Prints requests/s, latency percentiles, and the count of events lost, which must be 0 (exit status 1
otherwise). The clients share the machine's cores with the server, so the rate is a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from benchmarks import data

ROOT = Path(__file__).resolve().parent.parent


def _start(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    command = [sys.executable, "-m", "caliper_schema", "serve", "--port", "0", "--job-delay", "0"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        first = log.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
        if " at http://" in first:
            return process, first.split(" at ", 1)[1].strip()
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"caliper-schema serve did not start:\n{log.read_text(errors='replace')}")


async def _client(url: str, envelopes: Sequence[bytes], latencies: list[float]) -> list[tuple[int, str]]:
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=60) as http:
        grant = await http.post(
            "/oauth2/token", data={"grant_type": "client_credentials", "client_id": "bench"}
        )
        http.headers["Authorization"] = f"Bearer {grant.json()['access_token']}"
        answers = []
        for body in envelopes:
            started = time.perf_counter()
            answer = await http.post(
                "/caliper/event", content=body, headers={"Content-Type": "application/json"}
            )
            latencies.append(time.perf_counter() - started)
            answers.append((answer.status_code, answer.json().get("jobId", "")))
        return answers


async def _load(
    url: str, batches: list[list[bytes]]
) -> tuple[list[list[tuple[int, str]]], list[float], float]:
    latencies: list[float] = []
    started = time.perf_counter()
    results = await asyncio.gather(*(_client(url, batch, latencies) for batch in batches))
    return list(results), latencies, time.perf_counter() - started


def _listed(http: httpx.Client) -> list[str]:
    ids: list[str] = []
    offset = 0
    while True:
        page = http.get("/caliper/events", params={"limit": 1000, "offset": offset}).json()
        ids += [event["externalId"] for event in page["events"]]
        offset += 1000
        if offset >= page["pagination"]["total"]:
            return ids


def _cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of a process: this one, or another read from /proc (Linux)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[round(share * 1000) - 1]


def run(clients: int, per_client: int, seed: int) -> tuple[str, int]:
    """The load test's report, and its exit status (1 when an accepted event was lost)."""
    dataset = data.generate(clients * per_client, seed)
    data.verify(dataset)
    samples = dataset.valid[: clients * per_client]
    batches = [[sample.raw for sample in samples[i::clients]] for i in range(clients)]
    with tempfile.TemporaryDirectory(prefix="caliper-bench-serve-") as scratch:
        process, url = _start(Path(scratch) / "serve.log")
        try:
            with httpx.Client(base_url=url, trust_env=False, timeout=60) as http:
                token = http.post(
                    "/oauth2/token", data={"grant_type": "client_credentials", "client_id": "b"}
                )
                http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
                # Warm-up, not timed: the validator compiles its schemas on first use (valid and invalid).
                http.post("/caliper/event/validate", content=dataset.invalid[0].raw)
                http.post("/caliper/event/validate", content=samples[0].raw)
                server_cpu, client_cpu = _cpu_seconds(process.pid), _cpu_seconds()
                answers, latencies, elapsed = asyncio.run(_load(url, batches))
                server_cpu = _cpu_seconds(process.pid) - server_cpu
                client_cpu = _cpu_seconds() - client_cpu
                accepted: dict[str, str] = {}
                statuses: dict[int, int] = {}
                for batch, batch_answers in zip(batches, answers, strict=True):
                    for body, (status, job_id) in zip(batch, batch_answers, strict=True):
                        statuses[status] = statuses.get(status, 0) + 1
                        if status == 200:
                            accepted[job_id] = data.json.loads(body)["data"][0]["id"]
                listed = _listed(http)
                completed = 0
                for job_id, external_id in accepted.items():
                    job = http.get(f"/jobs/{job_id}/status").json()["job"]
                    results = (job.get("returnValue") or {}).get("results", [])
                    completed += job["state"] == "completed" and [r["externalId"] for r in results] == [
                        external_id
                    ]
        finally:
            process.terminate()
            process.wait(timeout=30)
    lost = set(accepted.values()) - set(listed)
    requests = clients * per_client
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())

    def ms(share: float) -> float:
        return _percentile(latencies, share) * 1000

    lines = [
        f"## Load test: `caliper-schema serve`, {clients} concurrent clients x {per_client} envelopes",
        "",
        f"- machine: {os.cpu_count()} cores, load average at the end {load}",
        f"- requests: {requests} in {elapsed:.2f} s: **{requests / elapsed:,.0f} requests/s**"
        " (one event each)",
        f"- latency: p50 {ms(0.5):.1f} ms, p90 {ms(0.9):.1f} ms, p99 {ms(0.99):.1f} ms,"
        f" max {max(latencies) * 1000:.1f} ms",
        f"- CPU a request: server {server_cpu / requests * 1000:.2f} ms,"
        f" clients {client_cpu / requests * 1000:.2f} ms"
        f" (the server alone could answer about {requests / server_cpu:,.0f} requests/s on one core)",
        f"- answers: {', '.join(f'{count} x {status}' for status, count in sorted(statuses.items()))}",
        f"- accepted {len(accepted)}, listed {len(listed)} ({len(set(listed))} distinct),"
        f" jobs completed with their event {completed}: **{len(lost)} lost**",
    ]
    ok = (
        not lost and len(accepted) == requests and completed == len(accepted) and len(listed) == len(accepted)
    )
    return "\n".join(lines), 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.service", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, default=100)
    parser.add_argument("--seed", type=int, default=data.SEED)
    args = parser.parse_args(argv)
    report, status = run(args.clients, args.per_client, args.seed)
    print(report)
    return status


if __name__ == "__main__":
    sys.exit(main())
