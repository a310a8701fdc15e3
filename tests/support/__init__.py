"""What test modules and benchmarks share: rigs, helpers, fixtures (registered once by
``tests/conftest.py``) and the money model. A test module never imports another test module."""
