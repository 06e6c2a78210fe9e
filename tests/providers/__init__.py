"""Local stand-ins for the providers lapor-intake talks to, checked against ../shared/contracts."""
