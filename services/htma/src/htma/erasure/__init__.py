"""Erasure of a clinic (tenant) or of a user, as a job whose status can be polled."""
