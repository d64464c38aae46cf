"""The apps of the project under test, as the write-up names them."""
