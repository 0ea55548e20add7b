"""caliper-schema: know offline whether a Caliper 1.2 / Timeback payload is right, why not, how to fix it.

>>> from caliper_schema import validate
>>> report = validate({
...     "id": "urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594", "type": "Event",
...     "actor": "https://example.edu/users/554433", "action": "Created",
...     "object": "https://example.edu/terms/201801/courses/7/sections/1/assignments/1",
...     "eventTime": "2023-08-15T14:12:00.000Z",
... })
>>> report.status, [issue.rule for issue in report.warnings]
('success', ['caliper.context-missing'])

The modules, in the order a payload flows through them: ``registry`` (the bundled schemas), ``parsing``,
``dispatching``, ``checking``, ``linting``, ``rules``, ``reporting``; ``validation`` runs them in turn.
"""

from caliper_schema.policy import Limits, Policy
from caliper_schema.reporting import Issue, Report
from caliper_schema.validation import validate, validate_file

__all__ = ["Issue", "Limits", "Policy", "Report", "validate", "validate_file"]
__version__ = "0.1.0"
