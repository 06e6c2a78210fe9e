"""The admin side: accounts now; the /admin blueprint (scripts, complaints, deliveries) next."""
