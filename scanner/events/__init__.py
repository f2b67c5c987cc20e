"""Events the platform can wire up, and the mail sendguard sends itself, through one durable outbox.

    gateway / reviewers --(same transaction as the decision)--> quarantine_outbox
    Dispatcher (background task) --claim (lease)--> webhook POST (Standard Webhooks signature)
                                                  | report mail via the relay
                                  --> delivered | retry (exponential backoff + jitter) | dead

Nothing here runs on the SMTP hot path except the one INSERT made in the decision's transaction.
"""
