"""ERP integration: the outbound feed (pull, webhooks, NATS), EPCIS 2.0, B2MML and CSV exports."""
