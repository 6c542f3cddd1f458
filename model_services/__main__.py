"""Allow ``python -m model_services serve ...``."""

from model_services.cli import main

raise SystemExit(main())
