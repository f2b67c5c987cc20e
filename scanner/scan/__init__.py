"""The scan runtime: micro-batcher on the event loop, a pool of worker processes that extract and detect."""
