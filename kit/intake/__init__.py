"""Order intake: readers that turn seller-backend exports into input rows, and the import
that accounts for every row (new, updated, unchanged duplicate or quarantined)."""
