"""Coverage-guided fuzzing of the validator with atheris, for runs longer than the test suite's.

    make fuzz                      # 10 minutes, corpus in .fuzz-corpus/
    .venv/bin/python fuzz/fuzz_validate.py -max_total_time=3600 .fuzz-corpus

Any exception escaping ``validate`` is a bug: the validator answers every input with a Report.
"""

import sys

import atheris

with atheris.instrument_imports():
    from caliper_schema import Report, validate


def test_one_input(data: bytes) -> None:
    """Bytes as a JSON document, and as JSON Lines: both must produce a Report."""
    for lines in (False, True):
        report = validate(data, lines=lines)
        if not isinstance(report, Report):
            raise TypeError(f"validate returned {type(report).__name__}")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
