"""The distribution centre: despatch advice and receipt by SSCC, value-added service jobs
(kitting, repacking) and wave picking with an outbound despatch advice."""
