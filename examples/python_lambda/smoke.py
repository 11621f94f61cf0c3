"""A smoke test of an installed fleetpath wheel with only the standard library: scripts/lambda-wheels.sh
runs it on the aarch64 wheel under qemu-aarch64-static with Debian's arm64 Python.

    python smoke.py examples/data/seed-ip-module.json
"""

import pathlib
import platform
import sys

import fleetpath


def main(manifest: str) -> None:
    print("machine", platform.machine(), "python", platform.python_version(), "module", fleetpath._native.__file__)
    print("buffer protocol", fleetpath.BUFFER_PROTOCOL)
    graph = fleetpath.UpgradeGraph.load(pathlib.Path(manifest))
    path = graph.resolve("5.6.14", "6.15.008", model="IPM-1")
    hops = [(str(h.from_), str(h.to)) if hasattr(h, "from_") else h.to_dict() for h in path.hops]
    print("path 5.6.14 -> 6.15.008:", hops)
    assert [str(h.to) for h in path.hops] == ["5.6.30", "6.15.008"], hops
    table = graph.route_table(graph.latest_for("IPM-1"), model="IPM-1")
    assert str(table.next_hop("v5.6.14").to) == "5.6.30"
    try:
        graph.resolve("5.6.14", "6.15.008", max_hops=1)
    except fleetpath.TooManyHopsError as e:
        assert e.code == "too_many_hops" and isinstance(e, fleetpath.FleetpathError), e
        print("refused:", e.code, e.fields["hops"])
    else:
        raise AssertionError("a one-hop jump must be refused")
    print("smoke ok")


if __name__ == "__main__":
    main(sys.argv[1])
