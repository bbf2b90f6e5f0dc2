"""``python -m mailtrap_lite`` runs the CLI."""

from mailtrap_lite.cli import main

raise SystemExit(main())
