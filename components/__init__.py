"""Pulumi components of login-monitoring."""
