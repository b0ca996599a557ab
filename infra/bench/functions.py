#!/usr/bin/env python3
"""Lambda figures of every function of template.yaml: deployed binary size, cold-start init
duration and warm invocation duration. Run through `infra/dev bench`, which builds first:

    functions.py --lambda-dir target/lambda --bin-dir target/release \
                 --local-host target/debug/local-host [--cold 10] [--warm 50]

- Size: `<lambda-dir>/<binary>/bootstrap`, as `cargo lambda build --release --arm64` (and so
  `sam build`) builds it: aarch64, release profile, stripped.
- Init and durations: the arm64 binaries cannot run on an x86_64 machine, so the same code built
  `--release` for this host (`<bin-dir>/<binary>`) runs in the local host, against moto with
  template.yaml deployed and the demo data seeded. The figures are the host's `REPORT` figures
  (`GET /invocations` of its control endpoint): init = process start to its first `next`;
  duration = `next` handed out to `response` received.
- Each function gets the event it gets in production: an HTTP API route (web, intake, callback
  (an unsigned verification, refused), judgment with an officer's access token from the auth
  function), an object stored in the bucket (attachments: S3 notification
  through the queue), a message on the notice queue (notify), its schedule fired (deadline-sweep).
  A cold start is forced by stopping the function's process (`POST /functions/{id}/stop`).
"""

import argparse
import json
import math
import os
import socket
import statistics
import struct
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable

SIZE_TARGET = 8_000_000  # bytes: "≤ 8 MB" read strictly (8 MiB would be 8,388,608)
INIT_TARGET_MS = 10.0  # for functions that create AWS clients


class BenchError(Exception):
    pass


# ------------------------------------------------------------------------------------- sizes


def elf_facts(path: Path) -> tuple[str, bool]:
    """(machine, stripped) of an ELF64 little-endian file: stripped = no SHT_SYMTAB section."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise BenchError(f"{path} is not a 64-bit little-endian ELF file")
    machine = {0xB7: "aarch64", 0x3E: "x86_64"}.get(struct.unpack_from("<H", data, 18)[0], "other")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    symtab = any(struct.unpack_from("<I", data, shoff + i * shentsize + 4)[0] == 2 for i in range(shnum))
    return machine, not symtab


def creates_aws_clients(binary: str) -> bool:
    """Whether the function's crate depends on an AWS SDK service crate (clients at start-up)."""
    manifest = tomllib.loads((ROOT / "functions" / binary / "Cargo.toml").read_text(encoding="utf-8"))
    return any(dep.startswith("aws-sdk-") for dep in manifest.get("dependencies", {}))


# ------------------------------------------------------------------------------------ the stack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{what} did not listen on port {port} within {timeout:.0f} s")


def http(method: str, url: str, headers: dict | None = None, body: bytes | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Host:
    """The local host's control endpoint."""

    def __init__(self, api: str, control: str):
        self.api = api
        self.control = control

    def stop(self, logical: str) -> None:
        status, body = http("POST", f"{self.control}/functions/{logical}/stop")
        if status != 204:
            raise BenchError(f"stop {logical}: {status} {body[:200]!r}")

    def invocations(self, logical: str) -> list[dict]:
        _, body = http("GET", f"{self.control}/invocations?function={logical}")
        return json.loads(body)

    def find(self, logical: str, match, timeout: float = 60) -> dict:
        """The invocation of `logical` whose event satisfies `match` (waits for queued events)."""
        started = time.monotonic()
        while True:
            for inv in reversed(self.invocations(logical)):
                if match(inv["event"]):
                    return inv
            if time.monotonic() - started > timeout:
                raise BenchError(f"{logical}: the bench event never arrived within {timeout:.0f} s")
            time.sleep(0.02)


# ----------------------------------------------------------------------------------- drivers
# Each driver sends one representative event with a unique marker and returns the host's record
# of the invocation it caused: outcome, duration_ms, init_duration_ms (cold start), max_memory_mb.


def http_driver(host: Host, logical: str, method: str, path: str, want: int, token: str | None = None):
    def drive() -> dict:
        marker = uuid.uuid4().hex
        headers = {"x-bench-id": marker}
        if token:
            headers["authorization"] = f"Bearer {token}"
        status, body = http(method, host.api + path, headers)
        if status != want:
            raise BenchError(f"{logical}: {method} {path} answered {status}, expected {want}: {body[:200]!r}")
        return host.find(logical, lambda ev: (ev.get("headers") or {}).get("x-bench-id") == marker, timeout=5)

    return drive, f"HTTP {method} {path}" + (" (officer access token)" if token else "")


def notice_driver(host: Host, logical: str, sqs, queue_url: str):
    def drive() -> dict:
        marker = uuid.uuid4().hex
        body = json.dumps({"notice_id": f"bench-{marker}", "clue_id": "bench"})
        sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageGroupId="bench", MessageDeduplicationId=marker)
        return host.find(logical, lambda ev: marker in json.dumps(ev.get("Records", [])))

    return drive, "SQS message on the notice queue"


def export_driver(host: Host, logical: str, sqs, queue_url: str):
    def drive() -> dict:
        marker = uuid.uuid4().hex
        # A job id no job has: the worker looks it up (one GetItem) and reports the failure.
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"job": f"ex-bench-{marker}"}))
        return host.find(logical, lambda ev: marker in json.dumps(ev.get("Records", [])))

    return drive, "SQS message on the export queue (unknown job)"


def object_driver(host: Host, logical: str, s3, bucket: str):
    def drive() -> dict:
        marker = uuid.uuid4().hex  # the key arrives URL-encoded; the marker reads the same
        key = f"incoming/bench-{marker}.jpg"
        s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xff\xe0" + bytes(2044), ContentType="image/jpeg")
        return host.find(logical, lambda ev: marker in json.dumps(ev.get("Records", [])))

    return drive, "object stored in the bucket (S3 notification via SQS)"


def schedule_driver(host: Host, logical: str, schedule: str):
    def drive() -> dict:
        status, body = http("POST", f"{host.control}/schedules/{schedule}/fire?at=2026-10-08T01:00:00Z")
        if status != 200:
            raise BenchError(f"{logical}: fire {schedule} answered {status}: {body[:200]!r}")
        return json.loads(body)

    return drive, "its schedule fired (control endpoint)"


# -------------------------------------------------------------------------------- measuring


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def checked(logical: str, inv: dict) -> dict:
    if inv.get("outcome") != "ok":
        raise BenchError(f"{logical}: invocation failed: {inv.get('outcome')} {json.dumps(inv.get('response'))[:300]}")
    return inv


def measure(host: Host, logical: str, drive, cold: int, warm: int) -> dict:
    inits, firsts, warms, memory = [], [], [], []
    for _ in range(cold):
        for _attempt in range(3):
            host.stop(logical)
            inv = checked(logical, drive())
            if inv.get("init_duration_ms") is not None:
                break
            # another event (an S3 test event, say) took the cold start: stop and try again
        else:
            raise BenchError(f"{logical}: could not observe a cold start")
        inits.append(inv["init_duration_ms"])
        firsts.append(inv["duration_ms"])
    for _ in range(warm):
        inv = checked(logical, drive())
        if inv.get("init_duration_ms") is not None:
            raise BenchError(f"{logical}: a warm invocation was a cold start (the process died?)")
        warms.append(inv["duration_ms"])
        memory.append(inv.get("max_memory_mb") or 0)
    return {
        "init_ms": {"median": statistics.median(inits), "p95": p95(inits), "n": len(inits)},
        "first_ms": {"median": statistics.median(firsts), "p95": p95(firsts), "n": len(firsts)},
        "warm_ms": {"median": statistics.median(warms), "p95": p95(warms), "n": len(warms)},
        "max_memory_mb": max(memory, default=0),
    }


# ------------------------------------------------------------------------------------ main


def run(args: argparse.Namespace, work: Path) -> int:
    procs: list[subprocess.Popen] = []
    try:
        moto_port = free_port()
        moto_log = (work / "moto.log").open("w")
        procs.append(
            subprocess.Popen(
                [PY, str(ROOT / "infra/stack/moto_server.py"), "-H", "127.0.0.1", "-p", str(moto_port)],
                stdout=moto_log,
                stderr=subprocess.STDOUT,
            )
        )
        wait_port(moto_port, procs[-1], "moto server")
        endpoint = f"http://127.0.0.1:{moto_port}"
        stack_path = work / "stack.json"
        print(f"==> deploy template.yaml to moto ({endpoint})", file=sys.stderr)
        subprocess.run(
            [PY, str(ROOT / "infra/stack/deploy.py"), "deploy", "--endpoint", endpoint, "--out", str(stack_path),
             "--param", "PublicOrigin=https://12336.bench.test"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [PY, str(ROOT / "infra/stack/seed.py"), "--stack", str(stack_path), "--data", str(ROOT / "infra/seed/demo.json")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        stack = json.loads(stack_path.read_text(encoding="utf-8"))
        resources = stack["resources"]

        host_log_path = work / "local-host.log"
        host_log = host_log_path.open("w")
        procs.append(
            subprocess.Popen(
                [str(args.local_host), "--stack", str(stack_path), "--target-dir", str(args.bin_dir),
                 "--api", "127.0.0.1:0", "--control", "127.0.0.1:0", "--no-schedule-timers"],
                stdout=host_log,
                stderr=subprocess.STDOUT,
            )
        )
        started = time.monotonic()
        while True:
            line = next((ln for ln in host_log_path.read_text().splitlines() if ln.startswith("api=")), None)
            if line:
                break
            if procs[-1].poll() is not None or time.monotonic() - started > 30:
                raise BenchError(f"local host did not start; see {host_log_path}")
            time.sleep(0.1)
        api, control = (part.split("=", 1)[1] for part in line.split())
        host = Host(f"http://{api}", f"http://{control}")
        print(f"==> local host (API {api}, control {control}; log {host_log_path})", file=sys.stderr)
        # an officer's access token, signed in through the auth function (password + TOTP)
        token = subprocess.run(
            [PY, str(ROOT / "infra/stack/officer_token.py"), "--stack", str(stack_path), "--user", "xh-handler",
             "--api", host.api],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

        kw = dict(endpoint_url=endpoint, region_name=stack["region"], aws_access_key_id="test",
                  aws_secret_access_key="test")
        sqs = boto3.client("sqs", **kw)
        s3 = boto3.client("s3", **kw)
        schedules = [k for k, v in resources.items() if v["type"] == "AWS::Scheduler::Schedule"]
        sweep_schedule = next(resources[k]["ref"] for k in schedules if k.startswith("DeadlineSweepFunction"))
        drivers = {
            "WebFunction": http_driver(host, "WebFunction", "GET", "/h5/index.html", 200),
            "IntakeFunction": http_driver(host, "IntakeFunction", "GET", "/api/reporter/health", 200),
            # an unsigned verification: refused (400 bad_param) before any table access
            "CallbackFunction": http_driver(host, "CallbackFunction", "GET", "/wechat/callback", 400),
            "JudgmentFunction": http_driver(host, "JudgmentFunction", "GET", "/api/officer/me", 200, token),
            "AuthFunction": http_driver(host, "AuthFunction", "GET", "/.well-known/jwks.json", 200),
            "AttachmentsFunction": object_driver(host, "AttachmentsFunction", s3, resources["AttachmentBucket"]["ref"]),
            "NotifyFunction": notice_driver(host, "NotifyFunction", sqs, resources["NoticeQueue"]["ref"]),
            "ExportFunction": export_driver(host, "ExportFunction", sqs, resources["ExportQueue"]["ref"]),
            "DeadlineSweepFunction": schedule_driver(host, "DeadlineSweepFunction", sweep_schedule),
        }
        _, body = http("GET", f"{host.control}/functions")
        functions = json.loads(body)
        missing = sorted(set(functions) - set(drivers))
        if missing:
            raise BenchError(f"no bench event for {', '.join(missing)}: add a driver in {Path(__file__).name}")

        rows = []
        for logical, info in functions.items():
            binary = Path(info["binary"]).name
            bootstrap = args.lambda_dir / binary / "bootstrap"
            if not bootstrap.exists():
                raise BenchError(f"{bootstrap} is missing: cargo lambda build --release --arm64 first")
            machine, stripped = elf_facts(bootstrap)
            host_machine, _ = elf_facts(args.bin_dir / binary)
            drive, event = drivers[logical]
            print(f"==> {binary}: {args.cold} cold starts, {args.warm} warm invocations ({event})", file=sys.stderr)
            figures = measure(host, logical, drive, args.cold, args.warm)
            rows.append({
                "function": binary,
                "logical_id": logical,
                "event": event,
                "size_bytes": bootstrap.stat().st_size,
                "size_arch": machine,
                "stripped": stripped,
                "timed_arch": host_machine,
                "aws_clients": creates_aws_clients(binary),
                **figures,
            })
        report(rows, args)
        (work / "functions.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
        print(f"\n(raw figures: {work / 'functions.json'})")
        ok = all(r["size_bytes"] <= SIZE_TARGET for r in rows) and all(
            r["init_ms"]["median"] <= INIT_TARGET_MS for r in rows if r["aws_clients"]
        )
        return 0 if ok or not args.fail_on_target else 1
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def yes(b: bool) -> str:
    return "yes" if b else "NO"


def report(rows: list[dict], args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    archs = sorted({r["timed_arch"] for r in rows})
    print()
    print("Sizes: `cargo lambda build --release --arm64` (what `sam build` deploys): "
          f"{', '.join(sorted({r['size_arch'] for r in rows}))}, release profile, "
          f"{'stripped' if all(r['stripped'] for r in rows) else 'NOT all stripped'}.")
    print(f"Init / durations: the same code built `--release` for this host ({', '.join(archs)}), because the "
          "arm64 binaries cannot run here; in the local host against moto. Not Lambda's figures: "
          f"this machine has {os.cpu_count()} cores, load average {load} at the end of the run.")
    print(f"{args.cold} cold starts (process stopped before each) and {args.warm} warm invocations per function; "
          "ms as median / p95. `first` is the invocation right after init.")
    print()
    print("| function | event | arm64 size | ≤ 8 MB | init ms | init ≤ 10 ms (median) | first ms | warm ms | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        init, first, warm = r["init_ms"], r["first_ms"], r["warm_ms"]
        target = yes(init["median"] <= INIT_TARGET_MS) if r["aws_clients"] else "n/a (no AWS client)"
        print(
            f"| {r['function']} | {r['event']} | {r['size_bytes'] / 1e6:.2f} MB | {yes(r['size_bytes'] <= SIZE_TARGET)} "
            f"| {init['median']:.1f} / {init['p95']:.1f} | {target} | {first['median']:.2f} / {first['p95']:.2f} "
            f"| {warm['median']:.2f} / {warm['p95']:.2f} | {r['max_memory_mb']} MB |"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lambda-dir", type=Path, default=ROOT / "target/lambda", help="cargo lambda's output")
    ap.add_argument("--bin-dir", type=Path, default=ROOT / "target/release", help="the host-arch release binaries")
    ap.add_argument("--local-host", type=Path, default=ROOT / "target/debug/local-host")
    ap.add_argument("--cold", type=int, default=20, help="cold starts per function")
    ap.add_argument("--warm", type=int, default=50, help="warm invocations per function (at least 20)")
    ap.add_argument("--work", type=Path, default=ROOT / ".dev/bench", help="logs, stack.json, functions.json")
    ap.add_argument("--fail-on-target", action="store_true", help="exit 1 when a size or init target is missed")
    args = ap.parse_args(argv)
    if args.warm < 20 or args.cold < 1:
        ap.error("--warm must be at least 20 and --cold at least 1")
    args.work.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, args.work)
    except (BenchError, subprocess.CalledProcessError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
