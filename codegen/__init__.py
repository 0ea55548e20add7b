"""Drives datamodel-code-generator over ``schemas/`` to produce ``caliper_schema/models/``."""
