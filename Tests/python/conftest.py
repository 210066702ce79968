"""Puts every Sources/*/Scripts folder on sys.path, so the embedded helper modules
(_polybridge_files, _polybridge_groups, polybridge_engine, _polybridge_pipeline,
_polybridge_arrow, python_run) import by name, as the binary's embedded Python imports them."""
import glob
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

for folder in sorted(glob.glob(os.path.join(ROOT, "Sources", "*", "Scripts"))):
    if folder not in sys.path:
        sys.path.insert(0, folder)
