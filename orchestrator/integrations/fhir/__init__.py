"""FHIR R4: DiagnosticReport + Observations for a report version (``resources.py``), the
read/search API (``api.py``) and the bundle the ``fhir_rest`` channel pushes."""
