"""The side-by-side performance harness: ``make bench`` (``python -m benchmarks``).

Modules in the order a run uses them: ``data`` (the generated, verified documents), ``timing`` (clocks),
``library`` (``validate()`` and the floors), ``commands`` (the CLI, check-jsonschema, cold starts),
``models`` (the generated models' import and first use), ``baseline`` (plain jsonschema), ``report`` (the
tables and targets), ``run`` (one run end to end);
``profiling`` answers where the time goes (``python -m benchmarks --profile``).
"""
