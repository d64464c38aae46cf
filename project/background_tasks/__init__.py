"""Background jobs of the project under test."""
