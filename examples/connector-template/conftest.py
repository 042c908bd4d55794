"""Makes `connector_template` importable by the tests without installing it (pytest puts this directory first on
sys.path). After `pip install -e .` this file is not needed."""
