"""The service wing: a local stand-in for the Timeback Caliper service (``caliper-schema serve``).

Its modules, in the order a request meets them:

- :mod:`~caliper_schema.service.settings`: what a running service is told (policy, credentials, faults,
  job timing, storage), and whether the optional ``service`` extra is installed;
- :mod:`~caliper_schema.service.auth`: the token endpoint's client credentials and the bearer check;
- :mod:`~caliper_schema.service.faults`: injected failures, forced or at a rate, and latency;
- :mod:`~caliper_schema.service.receiving`: a posted body, read within the size limit, to the
  validator's verdict (:func:`caliper_schema.validate`; the service never decides validity itself);
- :mod:`~caliper_schema.service.jobs`: the job an accepted envelope becomes;
- :mod:`~caliper_schema.service.storage`: envelopes, jobs and events in SQLite;
- :mod:`~caliper_schema.service.page`: the developer's page at ``/`` (Jinja2 templates in ``templates/``);
- :mod:`~caliper_schema.service.app`: the Starlette application that routes requests through the above;
- :mod:`~caliper_schema.service.serving`: uvicorn, in the foreground or in a thread;
- :mod:`~caliper_schema.service.plugin`: the pytest plugin and its ``caliper_service`` fixture.

It uses the validation wing and the shared core, never the command line (which imports it lazily).
Starlette, uvicorn and Jinja2 come with the ``service`` extra (``pip install "caliper-schema[service]"``);
``settings`` and ``plugin`` import none of them, so they load without it.

>>> from caliper_schema.service.settings import INSTALL
>>> INSTALL
'pip install "caliper-schema[service]"'
"""
