"""Medical records and health data tied to a person: evidence lexicons, patterns, the detector."""

from scanner.detect.medical.detector import MedicalDetector

__all__ = ["MedicalDetector"]
