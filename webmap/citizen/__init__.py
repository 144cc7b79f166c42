"""Citizen channel: the report form, receipts and the submission service."""
