"""Test doubles for the stack's functions, served by the local runtime from local_fixture/template.json."""
