"""Keep presidio off the network: tldextract must use its bundled public-suffix snapshot.

presidio's EmailRecognizer calls ``tldextract.extract``, whose default extractor downloads the
Public Suffix List on first use (and caches it under the home directory). sendguard runs where
outbound connections are forbidden, so the module-level extractor is replaced by one that never
fetches. Idempotent; called by `build_engine` (and by the benchmark before building presidio).
"""

from __future__ import annotations

import tldextract
import tldextract.tldextract as _impl

_OFFLINE = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def disable_network_lookups() -> None:
    """Point every module-level tldextract entry point at the offline extractor."""
    _impl.TLD_EXTRACTOR = _OFFLINE
    tldextract.extract = _OFFLINE  # type: ignore[assignment]
    _impl.extract = _OFFLINE  # type: ignore[assignment]
