"""``make e2e``: the service as a developer meets it, seen by a browser (not part of ``make test``).

Starts ``caliper-schema serve``, posts every ``examples/**/*.json`` envelope with a token (the valid ones
must be accepted, the invalid refused), then has headless Chromium (Debian's ``chromium``) save
screenshots of the page under ``build/``: the newest envelope opened, and the Timeback docs' example as
printed opened beside its marked payload. Run: ``python -m tests.e2e_page``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import EXAMPLES, ROOT
from tests.service_support import client, serve, token_for

BUILD = ROOT / "build"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]  # fmt: skip


def screenshot(browser: str, url: str, target: Path, size: str = "1440,1700") -> None:
    """A PNG of ``url`` as headless Chromium renders it, from a fresh profile."""
    with tempfile.TemporaryDirectory(prefix="caliper-e2e-chromium-") as profile:
        command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
                   f"--screenshot={target}", url]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    if not target.is_file() or target.stat().st_size < 10_000:
        raise SystemExit(f"no usable screenshot at {target}")


def main() -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("make e2e needs Debian's chromium: apt-get install chromium", file=sys.stderr)
        return 2
    BUILD.mkdir(exist_ok=True)
    posted: dict[str, str] = {}
    with serve("--job-delay", "0") as service, client(service.url, token_for(service.url)) as http:
        for path in sorted(EXAMPLES.rglob("*.json")):
            answer = http.post("/caliper/event", content=path.read_bytes())
            expected = 200 if path.parent.name == "valid" else 400
            if answer.status_code != expected:
                raise SystemExit(f"{path}: {answer.status_code}, expected {expected}: {answer.text}")
            posted[path.name] = answer.json()["message"]
            print(f"posted {path.relative_to(ROOT)}: {answer.status_code} {posted[path.name]}")
        envelopes = http.get("/_control/envelopes").json()["envelopes"]
        as_printed = next(e["id"] for e in envelopes if "<dynamic-timestamp>" in e["body"])
        shots = {
            "service-page.png": f"{service.url}/",
            "service-page-invalid.png": f"{service.url}/?verdict=invalid&open={as_printed}",
        }
        for name, url in shots.items():
            shown = http.get(url)
            if shown.status_code != 200 or "<details" not in shown.text:
                raise SystemExit(f"{url}: {shown.status_code}: {shown.text[:500]}")
            screenshot(browser, url, BUILD / name)
            print(f"saved {BUILD / name} ({url})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
