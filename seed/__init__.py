"""Fill the project's tables with deterministic, realistically skewed data, loaded with COPY."""
