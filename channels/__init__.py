"""Channel connectors: verify and parse provider webhooks, send canonical messages.

Channels know nothing about dialogs or storage; see channels/base.py for the contracts.
"""
