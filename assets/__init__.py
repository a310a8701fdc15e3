"""The UI's data files (translations, sounds), installed with the package: see README.md here."""
