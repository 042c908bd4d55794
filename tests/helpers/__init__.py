"""What several test modules share (harnesses, fixtures' building blocks, polling helpers), so that tests never
import other test modules. Importable as `helpers`: tests/ is on sys.path (tests/conftest.py)."""
