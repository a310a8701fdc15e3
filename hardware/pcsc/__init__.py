"""PC/SC FeliCa readers (the Sony RC-S300 and other CCID readers) through pcscd and pyscard."""
