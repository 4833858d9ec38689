"""ISOM: an Intelligent System for Operations Management."""
