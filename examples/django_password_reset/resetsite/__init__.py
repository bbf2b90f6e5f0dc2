"""A minimal Django project whose only feature is Django's own password-reset flow, mailed over SMTP."""
