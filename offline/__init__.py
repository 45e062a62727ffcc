"""Run the real program without AWS credentials or the Pulumi CLI."""
