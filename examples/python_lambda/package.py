"""Builds the Lambda deployment package: the fleetpath wheel for the function's architecture and
runtime (manylinux2014; cp311-abi3, which reads numpy columns in place, on python3.11 and later,
cp39-abi3 on python3.9 and 3.10) unpacked beside orchestrator.py, zipped as template.yaml's CodeUri
expects, and checked against Lambda's limits (250 MB unzipped, 50 MB zipped for a direct upload).
boto3 is not packaged: the runtime has it.

    python package.py --arch arm64 --runtime python3.12 --codeuri   # build/lambda-arm64.zip, copied to build/lambda.zip
"""

import argparse
import glob
import pathlib
import shutil
import sys
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda: deployment package and layers, unzipped
ZIPPED_LIMIT = 50 * 1024 * 1024  # Lambda: a .zip uploaded directly
MACHINES = {"x86_64": ("x86_64", 62), "arm64": ("aarch64", 183)}  # Lambda name -> wheel name, ELF e_machine
RUNTIMES = ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13"]  # template.yaml's PythonRuntime


def abi_for(runtime: str) -> str:
    """The newest stable ABI the runtime's CPython offers: cp311 from Python 3.11 on."""
    minor = int(runtime.removeprefix("python3."))
    return "cp311" if minor >= 11 else "cp39"


def wheel_for(arch: str, runtime: str, wheels: pathlib.Path) -> pathlib.Path:
    machine = MACHINES[arch][0]
    abi = abi_for(runtime)
    found = sorted(glob.glob(str(wheels / f"fleetpath-*-{abi}-abi3-manylinux2014_{machine}.*.whl")))
    if len(found) != 1:
        sys.exit(f"package.py: expected one {abi}-abi3 manylinux2014 {machine} wheel in {wheels}, found {found}")
    return pathlib.Path(found[0])


def elf_machine(path: pathlib.Path) -> int:
    head = path.read_bytes()[:20]
    assert head[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(head[18:20], "little")


def build(arch: str, runtime: str, wheels: pathlib.Path, out: pathlib.Path) -> pathlib.Path:
    wheel = wheel_for(arch, runtime, wheels)
    stage = out / arch
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    with zipfile.ZipFile(wheel) as whl:
        whl.extractall(stage)
    shutil.copy2(HERE / "orchestrator.py", stage / "orchestrator.py")
    modules = list(stage.glob("fleetpath/_native*.so"))
    assert len(modules) == 1, modules
    if elf_machine(modules[0]) != MACHINES[arch][1]:
        sys.exit(f"package.py: {modules[0].name} is not built for {arch}")
    archive = out / f"lambda-{arch}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for path in sorted(stage.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo.from_file(path, path.relative_to(stage).as_posix())
                info.external_attr = 0o644 << 16  # Lambda reads files as another user
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, path.read_bytes())
    with zipfile.ZipFile(archive) as z:
        unzipped = sum(i.file_size for i in z.infolist())
    zipped = archive.stat().st_size
    print(f"{archive.name}: {wheel.name} + orchestrator.py, {zipped / 1e6:.2f} MB zipped (limit 50 MB), "
          f"{unzipped / 1e6:.2f} MB unzipped (limit 250 MB), module {modules[0].stat().st_size / 1e6:.2f} MB")
    if unzipped > UNZIPPED_LIMIT or zipped > ZIPPED_LIMIT:
        sys.exit(f"package.py: {archive} is over Lambda's limits")
    return archive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=sorted(MACHINES), required=True, help="the function's Architecture")
    parser.add_argument("--runtime", choices=RUNTIMES, default="python3.11", help="the function's PythonRuntime")
    parser.add_argument("--wheels", type=pathlib.Path, default=HERE.parents[1] / "target" / "lambda-wheels")
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "build")
    parser.add_argument("--codeuri", action="store_true", help="also copy it to build/lambda.zip (template.yaml's CodeUri)")
    args = parser.parse_args()
    archive = build(args.arch, args.runtime, args.wheels, args.out)
    if args.codeuri:
        (HERE / "build").mkdir(exist_ok=True)
        shutil.copy2(archive, HERE / "build" / "lambda.zip")
        print(f"build/lambda.zip: {args.arch}, {args.runtime}")


if __name__ == "__main__":
    main()
