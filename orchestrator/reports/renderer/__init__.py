"""The report renderer: a long-lived subprocess that turns sandboxed Jinja2 layouts into PDFs.

``client`` runs in the Django process (web server, Celery worker) and talks to ``worker``, a
child started with ``python -m orchestrator.reports.renderer.worker``, over length-prefixed
messages (``protocol``). Only the child imports WeasyPrint (``engine``, ``fonts``, ``figures``).
"""
