"""Render the performance baseline report from a results file, and nothing else."""
