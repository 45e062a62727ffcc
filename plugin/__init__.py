"""LoginMonitoring as a Pulumi package that programs in any language add with `pulumi package add`."""
