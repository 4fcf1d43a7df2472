import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories hash a password per user; PBKDF2 would make purge tests with many users slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
