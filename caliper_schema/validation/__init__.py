"""The validation wing: one payload from bytes to issues.

Its modules, in the order a payload flows through them (the shared core at the package root loads the
schemas, :mod:`~caliper_schema.registry`, and holds the issues, :mod:`~caliper_schema.reporting`):

- :mod:`~caliper_schema.validation.reading`: a file, device, pipe or standard input to bytes, never more
  than the size limit (+ 1 byte) whatever the file system says, JSON Lines a bounded line at a time;
- :mod:`~caliper_schema.validation.parsing`: bytes or text to JSON documents, strictly, within limits;
- :mod:`~caliper_schema.validation.dispatching`: what each document is (envelope, event, entity) and the
  one schema that checks each unit;
- :mod:`~caliper_schema.validation.checking`: each unit against its schema, asking the
  :mod:`~caliper_schema.validation.fastpath` (jsonschema-rs) first, and explaining what it rejects from
  its errors, which :mod:`~caliper_schema.validation.tracing` turns into those the
  :mod:`~caliper_schema.validation.authority` (jsonschema) raises (the authority itself is the reference
  the tests hold them to, and the fallback);
- :mod:`~caliper_schema.validation.linting`: the soft constraints the schemas carry as ``x-lint``;
- :mod:`~caliper_schema.validation.rules`: what JSON Schema cannot say, each rule small and named (and,
  when the policy asks, the best-practice tier: the spec's SHOULDs);
- :mod:`~caliper_schema.validation.pipeline`: :func:`validate` and :func:`validate_file`, which run
  them in turn and return a :class:`~caliper_schema.reporting.Report` (every item judged; what it shows
  capped, the rest counted, by :class:`~caliper_schema.reporting.Cap`);
- :mod:`~caliper_schema.validation.statistics`: what a set of documents covers (event types, actions,
  profiles, Timeback subjects and metrics) and breaks (issues by rule);
- :mod:`~caliper_schema.validation.streams`: the documents of one app's stream, each through the pipeline
  and all of them through the stream rules (``stream.*``: ids, heartbeat windows, XP, runs), in memory
  bounded by the runs open at once;
- :mod:`~caliper_schema.validation.distributing`: an archive of JSON Lines shards, validated on a Dask
  cluster (the optional ``dask`` extra, imported only when used).

It uses only the shared core: never the generation wing, never the command line.

>>> validate('{"type": "Event"}').errors[0].rule
'schema.required'
"""

from caliper_schema.validation.pipeline import validate, validate_file

__all__ = ["validate", "validate_file"]
