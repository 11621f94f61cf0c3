"""Cold-start budget of the handlers: each figure is the median of fresh `python -c` processes.

- `import boto3`, `import fleetpath`, `import orchestrator` (boto3 + fleetpath + the handlers):
  the import time measured inside the process (perf_counter around the import statement).
- first invocation, in a fresh process after the imports: the update-check handler's first
  request (clients created, the signed manifest fetched, verified and parsed, the fleet and the
  device record read, the decision, a presigned URL) beside a handler that imports only boto3
  and makes the same first reads (GET of the manifest, a DynamoDB GetItem). S3 and DynamoDB
  are moto in the same process (set up by tests/test_orchestrator.py's fixture before the clock
  starts), so this is the CPU part fleetpath controls, not network latency.

    python coldstart.py [--runs 7]      # with fleetpath, boto3 and moto installed
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent

IMPORT = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"

FIRST_CALL = r"""
import os, sys, time, json
sys.path[:0] = [{here!r}, {tests!r}]
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-central-1")
import boto3
import test_orchestrator as t

class Env:
    def setenv(self, k, v):
        os.environ[k] = v

if True:
    gen = t.aws._get_wrapped_function()(Env())
    next(gen)
    t.orchestrator.create_rollout(t.CFG, "6.15.008", t.START)
    t.gate(t.at("2026-11-23T13:00:00Z"))  # the canary's window opens
    first = json.loads(t.orchestrator.load_item(t.CFG)["state"])["stages"][0]["devices"][0]
    device = first["id"]
    t.cold_start()
    when = t.at("2026-11-23T15:00:00Z")
    if {which!r} == "fleetpath":
        clock = time.perf_counter()
        status, body, _ = t.api("update-check", {{"model": "IPM-1", "version": first["version"]}}, when, device=device)
        took = time.perf_counter() - clock
        assert status in (200, 503), (status, body)
        print(status, body.get("action") or body.get("code"), file=sys.stderr)
    else:
        def handler(event, context):  # a handler that imports only boto3
            s3, table = boto3.client("s3"), boto3.resource("dynamodb").Table(t.TABLE)
            doc = s3.get_object(Bucket=t.BUCKET, Key="fleetpath/manifest.json")["Body"].read()
            item = table.get_item(Key={{"pk": "device#" + device}}, ConsistentRead=True)
            return {{"statusCode": 200, "body": json.dumps({{"bytes": len(doc), "found": "Item" in item}})}}
        clock = time.perf_counter()
        handler({{}}, None)
        took = time.perf_counter() - clock
    print(took)
    next(gen, None)  # the fixture's teardown (moto stopped)
"""


def run(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=HERE)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    import fleetpath  # noqa: F401  (which build is measured)
    print(f"python {sys.version.split()[0]}, fleetpath from {fleetpath.__file__}, median of {args.runs} fresh processes")
    results = {}
    for module in ("boto3", "fleetpath", "orchestrator"):
        results[f"import {module}"] = run(IMPORT.format(module=module), args.runs)
    for which in ("boto3", "fleetpath"):
        code = FIRST_CALL.format(here=str(HERE), tests=str(HERE / "tests"), which=which)
        results[f"first invocation ({which} handler)"] = run(code, args.runs)
    for name, seconds in results.items():
        print(f"{name:36} {seconds * 1000:8.1f} ms")
    print(json.dumps({k: round(v * 1000, 1) for k, v in results.items()}))


if __name__ == "__main__":
    main()
