"""lapor-intake service: app, intake orchestration, delivery, registry clients, admin, CLI."""
