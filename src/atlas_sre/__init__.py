"""atlas-sre: teacher-coached Kubernetes root-cause analysis on a simulated (or real) cluster."""

__version__ = "0.1.0"
