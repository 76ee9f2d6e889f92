"""Slack: Block Kit digests (blocks), posting and updating (delivery), and interactions.

`blocks` is pure; `delivery` wraps `slack_sdk.WebClient`; `interactions`, `server` and `socket`
receive clicks. Import the submodules directly; this package imports nothing on purpose, so
loading `arxivwatch.slack.blocks` never pulls in the network stack.
"""
