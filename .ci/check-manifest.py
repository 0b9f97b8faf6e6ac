#!/usr/bin/env python3
"""Checks what the package promises beyond its code (run by .ci/run):

- the minimum supported Rust version: `rust-version` in Cargo.toml is the one README.md states,
  and no package that Cargo.lock builds on this platform (library, tests, examples, benches, every
  feature) declares a newer one;
- the licence: every file the `license` expression needs is there and ships in the package;
- the metadata crates.io and docs.rs show: repository, documentation.

Exits non-zero with one line per problem.
"""
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

root = Path(__file__).resolve().parent.parent
problems = []


def version(text):
    """'1.88' or '1.88.0' as a comparable tuple."""
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


manifest = tomllib.loads((root / "Cargo.toml").read_text())
package = manifest["package"]
ours = package.get("rust-version")
if not ours:
    problems.append("Cargo.toml: no rust-version")
else:
    readme = (root / "README.md").read_text()
    stated = re.search(r"Rust toolchain \((\d+\.\d+) or later\)", readme)
    if not stated:
        problems.append("README.md: the quick start does not state the minimum Rust version")
    elif version(stated.group(1)) != version(ours):
        problems.append(f"README.md states Rust {stated.group(1)}, Cargo.toml rust-version {ours}")

    host = re.search(
        r"^host: (\S+)$",
        subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout,
        re.M,
    ).group(1)
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--all-features",
             "--filter-platform", host],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout
    )
    used = {node["id"] for node in metadata["resolve"]["nodes"]}
    for dep in metadata["packages"]:
        needs = dep.get("rust_version")
        if dep["id"] in used and needs and version(needs) > version(ours):
            problems.append(
                f"Cargo.lock: {dep['name']} {dep['version']} needs Rust {needs}, "
                f"above the crate's rust-version {ours} (cargo update --precise an older one, "
                f"or raise rust-version and README.md)"
            )

license_files = {"MIT": "LICENSE-MIT", "Apache-2.0": "LICENSE-APACHE"}
expression = package.get("license", "")
shipped = subprocess.run(
    ["cargo", "package", "--list", "--allow-dirty", "--offline"],
    cwd=root, capture_output=True, text=True,
)
for name in re.findall(r"[A-Za-z0-9.\-]+", expression):
    if name in ("OR", "AND", "WITH"):
        continue
    file = license_files.get(name)
    if file is None:
        problems.append(f"Cargo.toml: licence {name} has no known file name here")
    elif not (root / file).is_file():
        problems.append(f"{file} is missing (Cargo.toml's license names {name})")
    elif shipped.returncode == 0 and file not in shipped.stdout.split():
        problems.append(f"{file} is not in the package (cargo package --list)")

for key in ("repository", "documentation"):
    if not package.get(key):
        problems.append(f"Cargo.toml: no {key}")

for problem in problems:
    print(f"check-manifest: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
