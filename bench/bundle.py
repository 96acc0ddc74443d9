"""Bundle sizes as a browser downloads them (./x bench): each file compressed on its own.

python3 bench/bundle.py PKG prints "raw gzip brotli largest-page largest-brotli": the first
three for what every page loads (the main wasm and js and the split loader, so the login
page), the last two for the page whose lazy route adds the most (main plus its chunks, from
cargo-leptos's __wasm_split_manifest.json).
"""

import gzip
import json
import re
import pathlib
import subprocess
import sys

pkg = pathlib.Path(sys.argv[1])


def sizes(path):
    data = path.read_bytes()
    brotli = subprocess.run(["brotli", "-q", "11", "-c"], input=data, capture_output=True, check=True).stdout
    return len(data), len(gzip.compress(data, 9)), len(brotli)


main = [pkg / "ote-portal.wasm", pkg / "ote-portal.js", *pkg.glob("__wasm_split*.js")]
raw, gz, br = (sum(column) for column in zip(*(sizes(f) for f in main)))
manifest = pkg / "__wasm_split_manifest.json"
routes = json.loads(manifest.read_text()) if manifest.exists() else {}
largest, largest_br = "-", br
for name, chunks in routes.items():
    total = br + sum(sizes(pkg / f"{chunk}.wasm")[2] for chunk in chunks)
    if total > largest_br:
        largest, largest_br = re.sub(r"_\d+$", "", name.strip("_")), total
print(raw, gz, br, largest, largest_br)
