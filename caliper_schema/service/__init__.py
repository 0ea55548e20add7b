"""The local Timeback Caliper service."""
