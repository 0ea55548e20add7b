"""``python -m benchmarks`` (``make bench``): the side-by-side table; ``--profile``: where the time goes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from benchmarks.run import Options, run, run_library, run_models


def main(argv: Sequence[str] | None = None) -> int:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--count", type=int, default=defaults.count, help="envelopes generated (one event each)"
    )
    parser.add_argument("--files", type=int, default=defaults.files, help="files given to the CLIs")
    parser.add_argument("--passes", type=int, default=defaults.passes, help="timed passes (the best is kept)")
    parser.add_argument(
        "--cap",
        type=float,
        default=defaults.cap,
        help="seconds allowed per event type for the jsonschema and check-jsonschema baselines",
    )
    parser.add_argument(
        "--per-kind",
        type=int,
        default=defaults.per_kind,
        help="baseline documents per event type, within the cap",
    )
    parser.add_argument("--repeat", type=int, default=defaults.repeat, help="fresh processes per cold start")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--lines", type=int, default=defaults.lines, help="Timeback envelopes in the CLI's JSON Lines file"
    )
    parser.add_argument("--profile", action="store_true", help="profile the library instead of benchmarking")
    parser.add_argument("--models", action="store_true", help="only the models' import and first use")
    parser.add_argument(
        "--library", action="store_true", help="only validate() in this process and its first calls"
    )
    args = parser.parse_args(argv)
    if args.profile:
        from benchmarks.profiling import profile

        print(profile(args.count, args.seed))
        return 0
    options = Options(
        args.count, args.files, args.passes, args.cap, args.per_kind, args.repeat, args.seed, args.lines
    )
    if args.models:
        print(run_models(options))
        return 0
    if args.library:
        print(run_library(options))
        return 0
    print(run(options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
