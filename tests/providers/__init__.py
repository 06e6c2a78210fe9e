"""Local stand-ins for the providers lapor-intake talks to, checked against the providers' published
specs in ``tests/providers/contracts`` (kept in the repository, with their licences)."""
