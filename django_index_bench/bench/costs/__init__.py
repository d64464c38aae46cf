"""What an index costs: migration time and locks, write stalls, index sizes and slower writes.

The seed counted only the benefit of its indexes; these measurements are the other side of the ledger.
They run on a disposable copy of the seeded database, because they insert rows and move migrations.
"""
