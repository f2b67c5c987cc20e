"""Detection: identifiers (government IDs, payment cards, bank accounts) and medical records.

Pure and synchronous: `build_engine` loads the assets once per process, then
`DetectionEngine.detect` / `detect_batch` turn segments into masked findings with no I/O.
"""

from scanner.detect.engine import DetectionEngine, build_engine

__all__ = ["DetectionEngine", "build_engine"]
