"""Operating ISOM: health and readiness probes, Prometheus metrics, backup and restore."""
