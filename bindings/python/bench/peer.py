"""A fleet's decisions from Python, beside a fair pure-Python peer, in the same run (these
machines are noisy: read the ratios). A script, not a test: nothing here asserts a time. The
peer's answers are checked equal to fleetpath's on every device before anything is timed.

    python bindings/python/bench/peer.py [--releases 10000] [--devices 100000]

Measure the wheel Python 3.11+ installs: `maturin develop --release --no-default-features
--features abi3-py311` (the default 3.9 ABI copies each str argument twice).

The graph: `releases` vendor-style versions (`4.2.017`), about ten explicit upgrade edges out
of each (one to the next release, the rest up to 50 releases newer), two hardware models (every
third release supports only m0), 1% of releases blocked. The fleet: devices of m0, m1 and m2 (a
model no release supports) on random releases, 0.5% on a version the manifest does not know.
Each device is steered to its model's newest release. The same inputs as
bindings/node/bench/bench.js.

The peer (plain Python, as a careful engineer would write it without fleetpath): vendor version
parsing by hand, memoised per spelling (edges' and devices' alike); one breadth-first route
table per model toward its newest release, with fleetpath's tie-break (the newest successor one
step closer); then two dict lookups per device. It pauses the cyclic garbage collector while it
builds its tables and records, as fleetpath's `decide_fleet` does for its records (the
collector would otherwise scan its millions of objects again and again: about a sixth of its
time from nothing).
"""

import argparse
import gc
import io
import json
import time
from collections import deque
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor

import fleetpath


def lcg(seed):
    state = [seed]

    def below(n):
        state[0] = (state[0] * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return (state[0] >> 33) % n

    return below


def version(i):
    return f"{i // 1000}.{(i // 100) % 10}.{i % 100:03d}"


def manifest_text(n):
    rng = lcg(42)
    releases = []
    for i in range(n):
        r = {"version": version(i), "models": ["m0"] if i % 3 == 0 else ["m0", "m1"],
             "artifact": {"key": f"fw/{i}.bin", "sha256": "ab" * 32, "size": 1_000_000 + i}}
        if i % 100 == 50:
            r.update(status="blocked", reason="recalled")
        releases.append(r)
    edges = []
    for i in range(n - 1):
        targets = [i + 1]
        for _ in range(1, 10):
            t = min(i + 1 + rng(50), n - 1)
            if t not in targets:
                targets.append(t)
        edges.extend({"from": version(i), "to": version(t)} for t in targets)
    return json.dumps({"format_version": 1, "name": "synthetic", "releases": releases, "edges": edges})


def fleet_csv(n, releases):
    rng = lcg(7)
    rows = ["id,model,line,version"]
    for i in range(n):
        r = rng(1000)
        model = "m2" if r < 5 else ("m1" if r % 2 else "m0")
        v = "99.9.999" if 5 <= r < 10 else version(rng(releases))
        rows.append(f"d{i},{model},line-{i % 17},{v}")
    return "\n".join(rows)


def parse(text):
    """A vendor version's numbers, trailing zeros dropped (`v5.6.014` -> (5, 6, 14))."""
    core = text.lstrip("vV").split("-")[0].split("+")[0]
    parts = [int(p) for p in core.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


class Peer:
    def __init__(self, text):
        m = json.loads(text)
        self.releases = m["releases"]
        self.index = {parse(r["version"]): i for i, r in enumerate(self.releases)}
        self.parsed = {}
        n = len(self.releases)
        self.forward = [[] for _ in range(n)]
        node = self.node
        for e in m["edges"]:
            self.forward[node(e["from"])].append(node(e["to"]))
        self.reverse = [[] for _ in range(n)]
        for u, out in enumerate(self.forward):
            for v in out:
                self.reverse[v].append(u)
        self.tables = {}

    def supports(self, i, model):
        models = self.releases[i].get("models")
        return models is None or model in models

    def blocked(self, i):
        return self.releases[i].get("status") == "blocked"

    def table(self, model):
        if model in self.tables:
            return self.tables[model]
        n = len(self.releases)
        target = next((i for i in range(n - 1, -1, -1) if self.supports(i, model) and not self.blocked(i)), -1)
        dist = [-1] * n
        nxt = [-1] * n
        if target >= 0:
            dist[target] = 0
            queue = deque([target])
            while queue:
                v = queue.popleft()
                for u in self.reverse[v]:
                    if dist[u] != -1 or not self.supports(u, model):
                        continue
                    dist[u] = dist[v] + 1
                    if not self.blocked(u):  # a blocked release may be left, never passed through
                        queue.append(u)
            for u in range(n):
                if dist[u] > 0:
                    nxt[u] = max((w for w in self.forward[u] if dist[w] == dist[u] - 1 and (w == target or not self.blocked(w))), default=-1)
        self.tables[model] = nxt
        return nxt

    def node(self, spelling):
        """The index of the release `spelling` names (-1: none), each spelling parsed once
        (edges' and devices' alike: most name a release as the release spells itself)."""
        i = self.parsed.get(spelling)
        if i is None:
            i = self.parsed[spelling] = self.index.get(parse(spelling), -1)
        return i

    def next_for(self, model, spelling):
        i = self.node(spelling)
        if i < 0:
            return None
        j = self.table(model)[i]
        return self.releases[j]["version"] if j >= 0 else None


@contextmanager
def gc_paused():
    """The peer's bulk building without the cyclic garbage collector (its objects hold no
    cycles), as fleetpath.decision builds its records."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def turns(repeat, *fs):
    """Each function's fastest of `repeat` runs and its last result (batches best of 21, setup
    and end to end best of 9, as bench.js in the Node package: with fewer, one run's slow spell
    on this shared machine still moved a ratio by a fifth between runs), the functions taking turns
    (a slow spell of this shared machine falls on every side rather than on one side's block of
    runs; each run also starts with caches the others filled, as a batch in a service does
    between other work; the first runs of a batch also fault in fresh memory)."""
    best, outs = [float("inf")] * len(fs), [None] * len(fs)
    for _ in range(repeat):
        for k, f in enumerate(fs):
            # The last run's result is freed here, not inside the next run's time (every side).
            outs[k] = None
            t0 = time.perf_counter()
            outs[k] = f()
            best[k] = min(best[k], time.perf_counter() - t0)
    return list(zip(best, outs))


def back_to_back(repeat, *fs):
    """As `turns`, but each function's runs one after the other (each run finding its own data
    in the caches, as a loop of batches does)."""
    return [turns(repeat, f)[0] for f in fs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--releases", type=int, default=10_000)
    ap.add_argument("--devices", type=int, default=100_000)
    args = ap.parse_args()
    text, csv = manifest_text(args.releases), fleet_csv(args.devices, args.releases)
    at = "2026-11-23T08:00:00Z"
    print(f"graph: {args.releases} releases, {len(text) / 1e6:.1f} MB manifest; fleet: {args.devices} devices")
    # The wheel pip installs on Python 3.11+ is cp311-abi3, which reads a str's text in place;
    # the 3.9 ABI (a source build's default) copies it twice first.
    abi = "cp311-abi3" if fleetpath.BUFFER_PROTOCOL else "cp39-abi3 (str copied: build with --features abi3-py311)"
    print(f"fleetpath built for the stable ABI {abi}")

    def ours_setup():
        graph = fleetpath.UpgradeGraph.load(text)
        return fleetpath.Fleet.from_csv(csv), fleetpath.Decider(graph)

    def peer_setup():
        with gc_paused():
            # The peer reads its fleet too (a bare split: no quoting, trimming or checks).
            devices = [line.split(",") for line in csv.split("\n")[1:]]
            p = Peer(text)
            for m in ("m0", "m1", "m2"):
                p.table(m)
            return p, devices

    (t_setup_ours, (fleet, decider)), (t_setup_peer, (peer, devices)) = turns(9, ours_setup, peer_setup)
    rows = decider.decide_fleet(fleet, at)
    stuck = 0
    for (_, model, _, v), d in zip(devices, rows):
        mine = d.step.to if d.kind == "download" else None
        if mine != peer.next_for(model, v):
            raise SystemExit(f"answers differ for {model} on {v}: fleetpath {d.to_dict()}, peer {peer.next_for(model, v)}")
        stuck += mine is None and d.kind != "up_to_date"
    print(f"answers equal on all {len(rows)} devices ({stuck} without a download)\n")

    def peer_batch(peer=peer, devices=devices):
        out = []
        with gc_paused():
            for device, model, _, v in devices:
                to = peer.next_for(model, v)
                out.append({"device": device, "decision": "download", "to": to} if to else {"device": device, "decision": "none"})
        return out

    batches = [peer_batch, lambda: decider.decide_fleet(fleet, at), lambda: decider.decide_fleet_table(fleet, at)]
    try:
        import pyarrow
        batches.append(lambda: pyarrow.table(decider.decide_fleet_table(fleet, at)))
    except ImportError:
        pyarrow = None
    (t_peer, _), (t_rows, _), (t_table, _), *arrow = turns(21, *batches)
    (t_table_warm, _), (t_peer_warm, _) = back_to_back(21, batches[2], peer_batch)
    # Rows as [what, ours, peer, per]: the peer's setup and end to end are settled at the end.
    setup_row = ["setup (load manifest + fleet, route tables)", t_setup_ours, t_setup_peer, 1]
    rows_fmt = [setup_row,
                ("decide_fleet as records, per device", t_rows, t_peer, len(devices)),
                ("decide_fleet_table (Arrow), per device", t_table, t_peer, len(devices)),
                ("  the same, each side back to back", t_table_warm, t_peer_warm, len(devices))]
    if pyarrow is not None:
        rows_fmt.append(("decide_fleet_table into a pyarrow.Table, per device", arrow[0][0], t_peer, len(devices)))
        # Cold, as a Lambda runs it: nothing built before (the decider explains each release
        # without a path when a device first runs it, so the first batch pays for those).
        def ours_cold():
            fleet, decider = ours_setup()
            return pyarrow.table(decider.decide_fleet_table(fleet, at))

        def peer_cold():
            return peer_batch(*peer_setup())

        (t_cold_ours, _), (t_cold_peer, _) = turns(9, ours_cold, peer_cold)
        cold_row = ["end to end, cold: setup + batch into pyarrow", t_cold_ours, t_cold_peer, 1]
        rows_fmt.append(cold_row)

        # The fleet given as a pyarrow table (as read from Parquet or a database), each side
        # reading it its own way: fleetpath through the Arrow PyCapsule interface, the peer by
        # `to_pylist` (its fastest way to Python values here: 30 ms against 40 ms for splitting
        # the CSV and 49 ms for `Table.to_pylist`'s dicts, the collector paused in each).
        import pyarrow.csv

        columns = ("id", "model", "line", "version")
        convert = pyarrow.csv.ConvertOptions(column_types={c: pyarrow.string() for c in columns})
        fleet_table = pyarrow.csv.read_csv(io.BytesIO(csv.encode()), convert_options=convert)
        if fleetpath.Fleet.from_arrow(fleet_table).ids() != fleet.ids():
            raise SystemExit("the fleet read from Arrow differs from the fleet read from CSV")

        def ours_arrow():
            decider = fleetpath.Decider(fleetpath.UpgradeGraph.load(text))
            return pyarrow.table(decider.decide_fleet_table(fleetpath.Fleet.from_arrow(fleet_table), at))

        def peer_arrow():
            with gc_paused():
                p = Peer(text)
                for m in ("m0", "m1", "m2"):
                    p.table(m)
                devices = list(zip(*(fleet_table.column(c).to_pylist() for c in columns)))
            return peer_batch(p, devices)

        (t_arrow_ours, _), (t_arrow_peer, _) = turns(9, ours_arrow, peer_arrow)
        rows_fmt.append(("end to end, cold, the fleet as a pyarrow table", t_arrow_ours, t_arrow_peer, 1))

        # As a service with a thread pool would: the fleet read in a second thread while the
        # manifest loads and its decider is built (each releases the GIL while the core reads).
        with ThreadPoolExecutor(1) as pool:
            def ours_threads():
                fleet = pool.submit(fleetpath.Fleet.from_csv, csv)
                decider = fleetpath.Decider(fleetpath.UpgradeGraph.load(text))
                return fleet.result(), decider

            def ours_cold_threads():
                fleet, decider = ours_threads()
                return pyarrow.table(decider.decide_fleet_table(fleet, at))

            (t_threads, _), (t_threads_peer, _) = turns(9, ours_threads, peer_setup)
            (t_cold_threads, _), (t_cold_threads_peer, _) = turns(9, ours_cold_threads, peer_cold)
        # The peer does the same work in both sections (it has no thread to use): its best
        # time of the two is its time in both rows, so a slow spell of the peer in one section
        # flatters neither of ours.
        threads_row = ["setup, the fleet read in a second thread", t_threads, t_threads_peer, 1]
        cold_threads_row = ["end to end, cold, the fleet read in a second thread", t_cold_threads, t_cold_threads_peer, 1]
        for plain, threaded in ((setup_row, threads_row), (cold_row, cold_threads_row)):
            plain[2] = threaded[2] = min(plain[2], threaded[2])
        rows_fmt.insert(1, threads_row)
        rows_fmt.append(cold_threads_row)
    for what, ours, theirs, per in rows_fmt:
        print(f"{what:52s} fleetpath {ours / per * 1e6:10.2f} us   peer {theirs / per * 1e6:10.2f} us   "
              f"fleetpath is {theirs / ours:5.2f}x the peer's speed")


if __name__ == "__main__":
    main()
