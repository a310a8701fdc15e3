"""Pay Spot: a self-service cash charge kiosk — every note in the cash box becomes exactly one
credit at the co-op's wallet, across crashes, power cuts and faults.

The kiosk's packages in layers, top to bottom. A module imports from its own package and from
the layers below it, never from a layer above; two packages on one line (``a | b``) do not
import each other:

    kiosk.app
    kiosk.sim | screens
    kiosk.staff
    kiosk.ops
    kiosk.engine
    kiosk.journal | kiosk.config
    kiosk.core
    kiosk.wallet

Beside the layers: ``hardware`` imports neither ``kiosk`` nor ``screens``; only the composition
root (``kiosk.app``) imports ``screens`` and the simulators (``kiosk.sim``, ``hardware.*.sim``);
``kiosk.core`` imports no I/O library. This docstring is the one place the order is written
(``docs/design.md`` quotes it, a test keeps the two equal); import-linter's contracts in
``setup.cfg`` check the code against it. Every module, one line each: ``docs/layout.md``.
"""

__version__ = "0.1.0"
