"""The service: settings, channel adapters, router, admin API, scheduler, CLI."""
