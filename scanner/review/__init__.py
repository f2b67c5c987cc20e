"""The review console: web UI and JSON API over the quarantine store (Starlette + Jinja2).

`create_app` builds the ASGI app; `serve_review` runs it with uvicorn inside the caller's loop.
"""

from scanner.quarantine.decisions import Decisions, ReleaseOutcome
from scanner.review.app import ReviewServer, create_app, serve_review
from scanner.review.auth import hash_password, issue_api_token

__all__ = [
    "Decisions",
    "ReleaseOutcome",
    "ReviewServer",
    "create_app",
    "hash_password",
    "issue_api_token",
    "serve_review",
]
