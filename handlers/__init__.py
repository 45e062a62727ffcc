"""Lambda code of the sign-in notifier. Standard library and boto3 only."""
