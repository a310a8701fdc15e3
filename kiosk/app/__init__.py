"""The composition root: the command line, the runner that wires the kiosk, its fronts and the demo.

The only package that imports the screens and the simulators."""
