"""The base class of the generated models (``caliper_schema.models``), written by hand.

Pydantic builds a model's validator when the class is created; for ~100 models with unions of up to 70
entity types that took seconds at import. ``defer_build`` postpones it to a model's first use, so importing
one model, or the package, stays cheap.
"""

from pydantic import BaseModel, ConfigDict


class CaliperModel(BaseModel):
    """Base of every generated model."""

    model_config = ConfigDict(defer_build=True)
