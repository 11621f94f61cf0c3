"""Per-call overhead and batch throughput of the Python package, each beside the same work
done in plain Python in the same run (these machines are noisy: read the ratios).

    python bindings/python/bench/bench.py [--devices 100000]

- next_hop: `RouteTable.next_hop(version)` per call, beside a plain-Python table lookup
  (parse the version string into a tuple of ints, look it up in a dict of next hops).
- decide: `Decider.decide(request)` per call, beside plain Python answering the same request
  (parse, look up, build the answer dict).
- decide_fleet: a whole fleet in one call, beside the plain-Python loop over it.
- health ingest: a week of per-minute samples of 17 devices (3 metrics) into a HealthState,
  from lists and from numpy arrays (read in place by the Python 3.11+ build), beside plain
  Python computing each device's mean and variance per window (far less than fleetpath's
  summaries: sketches, counters, trends).

It is a script, not a test: nothing here asserts a time.
"""

import argparse
import datetime as dt
import pathlib
import time

import fleetpath

ROOT = pathlib.Path(__file__).resolve().parents[3]


def best(f, repeat=5):
    """The best of `repeat` runs of f(), in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def parse(version):
    """Plain Python: a vendor version as a tuple of ints (`v5.6.014` -> (5, 6, 14))."""
    return tuple(int(p) for p in version.lstrip("vV").split("-")[0].split("+")[0].split("."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=100_000)
    ap.add_argument("--calls", type=int, default=20_000)
    args = ap.parse_args()

    graph = fleetpath.UpgradeGraph.load(ROOT / "examples/data/seed-ip-module.json")
    target = graph.latest_for("IPM-1")
    table = graph.route_table(target, model="IPM-1")
    # The plain baseline's table, from the same route table.
    plain = {parse(e.from_): {"to": e.next, "hops": e.hops} for e in table.entries()}
    versions = ["5.6.14", "v5.6.30", "6.15.008"]
    n = args.calls

    def native_next_hop():
        for i in range(n):
            table.next_hop(versions[i % 3])

    def plain_next_hop():
        for i in range(n):
            plain.get(parse(versions[i % 3]))

    decider = fleetpath.Decider(graph)
    at = "2026-11-23T08:00:00Z"
    requests = [{"device": f"d{i}", "model": "IPM-1", "version": versions[i % 3], "at": at} for i in range(n)]
    artifacts = {str(r.version): r.artifact.to_dict() for r in graph.releases() if r.artifact is not None}
    steps = {parse(e.from_): e for e in table.entries()}
    target_key = parse(str(target))

    def plain_decide(request):
        key = parse(request["version"])
        if key == target_key:
            return {"decision": "up_to_date", "reason": "at_target"}
        entry = steps[key]
        return {
            "decision": "download",
            "step": {"from": request["version"], "to": entry.next, "artifact": artifacts[entry.next],
                     "target": str(target), "hops_left": entry.hops - 1},
            "url_lifetime_seconds": 900,
        }

    def native_decide():
        for r in requests:
            decider.decide(r)

    def plain_decide_loop():
        for r in requests:
            plain_decide(r)

    csv = "id,model,line,site,version\n" + "".join(
        f"d{i},IPM-1,line-{i % 17},plant-a,{versions[i % 3]}\n" for i in range(args.devices)
    )
    fleet = fleetpath.Fleet.from_csv(csv)
    devices = [{"device": d.id, "version": d.version} for d in fleet.devices()]

    def native_fleet():
        decider.decide_fleet(fleet, dt.datetime(2026, 11, 23, 8, tzinfo=dt.timezone.utc))

    def plain_fleet():
        for d in devices:
            plain_decide(d)

    # Health: 17 devices, 7 days before and 1 day after their update, one sample a minute.
    t0 = 1_795_000_000
    minutes = range(-7 * 24 * 60, 24 * 60)
    names = [f"press-{k:02d}" for k in range(17)]
    device = [k for k in range(17) for _ in minutes]
    times = [t0 + 60 * m for _ in range(17) for m in minutes]
    cycle = [800.0 + (m % 7) for _ in range(17) for m in minutes]
    memory = [300.0 + (m % 5) for _ in range(17) for m in minutes]
    errors = [float(m // 60 + 10_000) for _ in range(17) for m in minutes]
    batch = {"devices": names, "device": device, "time": times,
             "metrics": {"cycle_time_ms": cycle, "memory_mb": memory, "error_count": errors}}
    policy = fleetpath.HealthPolicy()

    def fresh_state():
        s = fleetpath.HealthState(policy)
        for name in names:
            s.add_device(name, "line-1", "2026-11-18T11:06:40Z")
        return s

    def native_ingest_lists():
        fresh_state().ingest(batch)

    arrays = None
    try:
        import numpy as np

        arrays = {"devices": names, "device": np.array(device, dtype=np.uint32), "time": np.array(times, dtype=np.int64),
                  "metrics": {k: np.array(v, dtype=np.float64) for k, v in batch["metrics"].items()}}
    except ImportError:
        pass

    def native_ingest_numpy():
        fresh_state().ingest(arrays)

    def plain_ingest():
        sums = {}
        for i in range(len(times)):
            key = (device[i], times[i] >= t0)
            for name, column in batch["metrics"].items():
                acc = sums.setdefault((key, name), [0, 0.0, 0.0])
                v = column[i]
                acc[0] += 1
                acc[1] += v
                acc[2] += v * v
        return {k: (s / c, q / c - (s / c) ** 2) for k, (c, s, q) in sums.items()}

    rows = [
        ("next_hop, per call", native_next_hop, plain_next_hop, n),
        ("decide, per call", native_decide, plain_decide_loop, n),
        (f"decide_fleet, {args.devices} devices", native_fleet, plain_fleet, args.devices),
        ("health ingest, lists, per sample", native_ingest_lists, plain_ingest, len(times) * 3),
    ]
    if arrays is not None:
        mode = "in place" if fleetpath.BUFFER_PROTOCOL else "copied once"
        rows.append((f"health ingest, numpy ({mode}), per sample", native_ingest_numpy, plain_ingest, len(times) * 3))
    print(f"fleetpath {fleetpath.__version__}, seed manifest, best of 5")
    print(f"{'what':44} {'fleetpath':>14} {'plain Python':>14} {'ratio':>7}")
    for name, native, baseline, count in rows:
        a, b = best(native), best(baseline)
        print(f"{name:44} {a / count * 1e6:11.3f} us {b / count * 1e6:11.3f} us {a / b:6.2f}x")


if __name__ == "__main__":
    main()
