"""Session Store domain package: models, key scheme, data access and logic shared by every function."""
