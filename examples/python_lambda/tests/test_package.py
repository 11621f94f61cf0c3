"""package.py picks the wheel the function's architecture and runtime load, and refuses to guess."""

import importlib.util
import pathlib
import zipfile

import pytest

HERE = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("package", HERE / "package.py")
package = importlib.util.module_from_spec(spec)
spec.loader.exec_module(package)

WHEELS = [
    f"fleetpath-0.1.0-{abi}-abi3-manylinux2014_{machine}.manylinux_2_17_{machine}.whl"
    for abi in ("cp39", "cp311")
    for machine in ("x86_64", "aarch64")
]


def test_the_runtime_chooses_the_stable_abi():
    assert [package.abi_for(r) for r in package.RUNTIMES] == ["cp39", "cp39", "cp311", "cp311", "cp311"]


@pytest.mark.parametrize(
    ("arch", "runtime", "wheel"),
    [
        ("arm64", "python3.12", "cp311-abi3-manylinux2014_aarch64"),
        ("arm64", "python3.9", "cp39-abi3-manylinux2014_aarch64"),
        ("x86_64", "python3.11", "cp311-abi3-manylinux2014_x86_64"),
        ("x86_64", "python3.10", "cp39-abi3-manylinux2014_x86_64"),
    ],
)
def test_the_wheel_for_each_function(tmp_path, arch, runtime, wheel):
    for name in WHEELS:
        (tmp_path / name).touch()
    assert wheel in package.wheel_for(arch, runtime, tmp_path).name


def test_a_missing_wheel_stops_the_build(tmp_path):
    (tmp_path / WHEELS[0]).touch()  # cp39 x86_64 only
    with pytest.raises(SystemExit, match="expected one cp311-abi3 manylinux2014 x86_64 wheel"):
        package.wheel_for("x86_64", "python3.12", tmp_path)


def test_a_module_of_the_wrong_architecture_is_refused(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    # An aarch64-named wheel whose module is an x86_64 ELF file (e_machine 62).
    header = b"\x7fELF" + bytes(14) + (62).to_bytes(2, "little")
    with zipfile.ZipFile(wheels / WHEELS[1], "w") as z:
        z.writestr("fleetpath/_native.abi3.so", header)
    with pytest.raises(SystemExit, match="is not built for arm64"):
        package.build("arm64", "python3.9", wheels, tmp_path / "out")
