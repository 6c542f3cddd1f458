import os

from django.core.wsgi import get_wsgi_application

from orchestrator.chunked import ChunkedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator.settings")
application = ChunkedBodies(get_wsgi_application())
