"""A password hasher for the local server only: PBKDF2 of 1,000 iterations, not 1,000,000.

Why: see ``PASSWORD_HASHERS`` in :mod:`alyx_local_settings` (a login cost ~0.5 s of the
server's CPU; this server holds only the seed's published passwords, on 127.0.0.1).
The canonical server keeps Django's default; nothing the plugin does depends on it.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 of 1,000 iterations, under its own algorithm name."""

    algorithm = "pbkdf2_sha256_quick"
    iterations = 1_000
