"""The login-monitoring policy pack (Pulumi CrossGuard)."""
