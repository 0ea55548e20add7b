"""Running the command line as a user does: its own process, a limit on its address space, its peak memory.

The process runs under util-linux ``prlimit --as`` (a runaway allocation fails instead of swapping the
machine), and its peak resident memory is read from the kernel (``wait4``), so a test can bound it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class Run:
    status: int
    out: bytes
    err: str
    peak: int
    """Peak resident memory, in bytes."""

    @property
    def text(self) -> str:
        return self.out.decode("utf-8")

    def clean(self) -> bool:
        """No traceback and no interpreter complaint on standard error."""
        return "Traceback" not in self.err and "Exception ignored" not in self.err


def prlimit() -> str:
    found = shutil.which("prlimit")
    if found is None:
        pytest.skip("util-linux prlimit is not installed: the memory-bounded runs need it")
    return found


def without_privilege() -> list[str]:
    """A prefix that runs a command with file permissions enforced: as root, setpriv drops the
    capabilities that let root read anything; as anyone else, nothing is needed."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without util-linux setpriv: permissions cannot be enforced")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "caliper_schema", *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
with open(os.environ["CALIPER_PEAK_FILE"], "w") as peak:
    peak.write(str(usage.ru_maxrss * 1024))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_cli(
    *args: str,
    stdin: IO[bytes] | int | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    address_space: int = GIB,
    prefix: Sequence[str] = (),
    timeout: float = 120,
) -> Run:
    """``caliper-schema ARGS`` in its own process under ``prlimit --as=address_space``."""
    launcher = [sys.executable, "-S", "-c", LAUNCHER]
    command = [*prefix, prlimit(), f"--as={address_space}", *launcher, *args]
    with tempfile.TemporaryDirectory() as folder:
        peak = Path(folder) / "peak"
        environment = {**os.environ, **(env or {}), "CALIPER_PEAK_FILE": str(peak)}
        with (Path(folder) / "out").open("w+b") as out, (Path(folder) / "err").open("w+b") as err:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL if stdin is None else stdin,
                stdout=out,
                stderr=err,
                env=environment,
                cwd=cwd,
            )
            timer = threading.Timer(timeout, process.kill)
            timer.start()
            try:
                process.wait()
            finally:
                timer.cancel()
            out.seek(0)
            err.seek(0)
            errors = err.read().decode("utf-8", "replace")
            return Run(process.returncode, out.read(), errors, int(peak.read_text()))


def run_shell(
    script: str, *, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A bash pipeline with ``pipefail``, ``$CS`` standing for the command line."""
    command = f"{sys.executable} -m caliper_schema"
    environment = {**os.environ, "CS": command, **(env or {})}
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", script],
        capture_output=True, text=True, cwd=cwd, env=environment, timeout=120, check=False,
    )  # fmt: skip
