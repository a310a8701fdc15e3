"""The touch screen (Kivy): the member's screens and the staff menu, presentation only.

A screen renders the view it is given (``kiosk.core.view.SessionView``,
``kiosk.staff.view.StaffView``) and turns touches into intents; it decides nothing about money.
Only the composition root (``kiosk.app``) imports this package (see the layer order in
``kiosk/__init__.py``). Screens are Python classes; there are no ``.kv`` files."""
