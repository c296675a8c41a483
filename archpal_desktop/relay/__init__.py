"""The coach relay: the server side that holds ArchPal's coaching rules (docs/ADMIN.md, "Coach relay").

Plain Python, no Qt; it uses the core's prompt, token verification and Bedrock provider, and
nothing of the window, the CLI or the local backend. ``app`` is the HTTP application,
``service`` the per-request rules, ``quota`` the DynamoDB counters, ``config`` its settings.
"""
