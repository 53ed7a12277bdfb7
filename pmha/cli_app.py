"""What every `pmha` command module shares: the app built from the environment, the person at
the terminal as the acting user, and a service's refusal as a command-line error in words.

Its own module so that the command modules (pmha/cli.py and each domain's cli.py) use it
without importing pmha/cli.py, which imports them to register their commands.
"""

from __future__ import annotations

import getpass

import click
from flask import Flask

from pmha.config import Config, ConfigError
from pmha.core.auth import Actor
from pmha.core.errors import AppError


def app_from_env() -> Flask:
    """The app as the environment configures it; a configuration problem is said in words."""
    from pmha.app import create_app  # the whole app, built only when a command needs it

    try:
        return create_app(Config.from_env())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def fail(exc: AppError) -> click.ClickException:
    """A service's refusal as the command's error: its detail, then each field's messages."""
    fields = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in (exc.errors or {}).items())
    return click.ClickException(f"{exc.detail}{' (' + fields + ')' if fields else ''}")


def operator() -> Actor:
    """The person at the terminal, as the audit trail names them."""
    return Actor.system(f"cli:{getpass.getuser()}")
