"""Pathflow's workflow engine: graph spec, node types, validation, expressions and executor.

Pure Python with no Django imports: the Django project calls the engine and hands it the
services it needs (endpoint catalog, tiles, report rendering, checkpoints) through
``workflows.context``.
"""
