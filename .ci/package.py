"""Build what a Spark cluster needs to run sparklr (``make package`` calls this).

    python .ci/package.py [--dist dist] [--no-env] [--python PYTHON] [--python-prefix PREFIX]

Writes into ``--dist`` (default ``dist/``):

* ``sparklr-<version>-py3-none-any.whl`` — the package, for ``pip install`` on an edge node or
  into a cluster image;
* ``sparklr.zip`` — the pure-Python package alone, for ``spark-submit --py-files`` when the
  cluster's Python already has numpy, pyarrow and pandas (sparklr has no native code of its own);
* ``sparklr-env.tar.gz`` (skipped with ``--no-env``) — a virtualenv packed with venv-pack holding
  sparklr and its dependencies EXCEPT pyspark (the cluster's Spark puts its own pyspark and py4j
  on the workers' path, and a second, possibly different, copy would only be shipped for
  nothing), for ``--archives dist/sparklr-env.tar.gz#environment`` with
  ``spark.pyspark.python=./environment/bin/python``.

venv-pack does not copy the Python interpreter: the packed ``bin/python`` is a link to the
interpreter the venv was made from, so the nodes need that Python version at that path —
choose it with ``--python`` (e.g. ``/usr/bin/python3.11``) or rewrite the link's prefix with
``--python-prefix`` (e.g. ``/usr``) for nodes whose interpreter lives elsewhere.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lib" / "sparklr"
#: Fixed timestamp for zip entries, so the same sources give the same sparklr.zip bytes.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def build_zip(dist: Path) -> Path:
    """``sparklr/`` at the archive root, sources only (no __pycache__), deterministic."""
    target = dist / "sparklr.zip"
    tmp = target.with_suffix(".zip.tmp")
    files = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(str(path.relative_to(PACKAGE.parent)), ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    os.replace(tmp, target)
    return target


def build_wheel(dist: Path) -> Path:
    for old in dist.glob("sparklr-*.whl"):
        old.unlink()
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)])
    (wheel,) = dist.glob("sparklr-*.whl")
    return wheel


def runtime_requirements() -> list[str]:
    """[project].dependencies without pyspark (the cluster provides it)."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return [d for d in deps if re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower() != "pyspark"]


def build_env(dist: Path, wheel: Path, python: str, python_prefix: str | None) -> Path:
    try:
        import venv_pack  # noqa: F401
    except ImportError:
        sys.exit(
            "package: venv-pack is not installed; run `make package` (it installs it) or "
            "`pip install venv-pack`"
        )
    target = dist / "sparklr-env.tar.gz"
    with tempfile.TemporaryDirectory(prefix="sparklr-env-") as tmp:
        env = Path(tmp) / "env"
        run([python, "-m", "venv", str(env)])
        pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        run([*pip, *runtime_requirements()])
        run([*pip, "--no-deps", str(wheel)])
        # The packed env needs no installer; dropping pip keeps the archive smaller.
        run([str(env / "bin" / "python"), "-m", "pip", "uninstall", "--quiet", "-y", "pip"])
        with tempfile.TemporaryDirectory(prefix=".partial-", dir=dist) as out:
            partial = Path(out) / target.name  # published by a rename once complete
            cmd = [sys.executable, "-m", "venv_pack", "-p", str(env), "-o", str(partial), "-q"]
            if python_prefix:
                cmd += ["--python-prefix", python_prefix]
            run(cmd)
            os.replace(partial, target)
    return target


def run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="output directory")
    parser.add_argument("--no-env", action="store_true", help="skip the packed environment")
    parser.add_argument(
        "--zip-only", action="store_true", help="build only sparklr.zip (no wheel, no env)"
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter the packed environment is made from (the nodes need the same one); "
        "default: this one (a venv's python means its base interpreter)",
    )
    parser.add_argument(
        "--python-prefix", help="rewrite the packed env's interpreter prefix (venv-pack option)"
    )
    args = parser.parse_args(argv)
    dist = Path(args.dist)
    dist.mkdir(parents=True, exist_ok=True)
    if args.zip_only:
        built = [build_zip(dist)]
    else:
        built = [build_wheel(dist), build_zip(dist)]
    if not (args.no_env or args.zip_only):
        built.append(build_env(dist, built[0], args.python, args.python_prefix))
    for path in built:
        path.chmod(0o644)
        print(f"package: {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
