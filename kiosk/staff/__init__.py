"""The staff side of the kiosk: who may enter (PINs, staff cards, lockout), the cash box and
its collections, staff cases. Shared by ``paykiosk staff …`` and the service menu."""
