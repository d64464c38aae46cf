"""No scenarios: the project is seeded, never measured."""
