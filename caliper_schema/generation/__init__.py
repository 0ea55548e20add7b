"""The generation wing: realistic documents, valid or with one labelled mistake, from the same schemas.

Its modules, in the order a fixture is made:

- :mod:`~caliper_schema.generation.planning`: each schema compiled once into a plan of what to generate;
- :mod:`~caliper_schema.generation.drawing`: every choice, from ``random.Random(seed)`` or from Hypothesis;
- :mod:`~caliper_schema.generation.faking`: realistic leaf values (ids, IRIs, names, times);
- :mod:`~caliper_schema.generation.building`: the one walk from a plan to a valid document;
- :mod:`~caliper_schema.generation.conventions`: what the rule layer asks beyond the schemas (metrics that
  add up, profiles), applied while building;
- :mod:`~caliper_schema.generation.mutating`: exactly one labelled mistake in a valid document;
- :mod:`~caliper_schema.generation.generating`: the seeded command behind ``caliper-schema generate``.
- :mod:`~caliper_schema.generation.sessions`: whole runs as the Timeback SDK sends them (heartbeats, then
  the completion), valid or with one labelled mistake between their events.

The Hypothesis strategies over the same walk are public at the package root,
:mod:`caliper_schema.strategies`. This wing may use the validation wing (to label what a mutation
breaks), never the command line.
"""
