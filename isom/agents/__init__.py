"""Agents: rule-based decision makers that turn demand into orders, each decision explained."""
