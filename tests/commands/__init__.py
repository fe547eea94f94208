"""Tests of the cluster room (command policy, filters, jq, redaction, truncation, runner)."""
