"""`flask --app app users ...`: manage accounts from the shell."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.errors import DomainError
from app.models.users import ROLES
from app.services import accounts, sign_ins

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option("--display-name", default="", help="Name shown in the app and the history.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
def create_user_command(name: str, role: str, display_name: str, password_stdin: bool) -> None:
    """Create user NAME; the password is prompted for, or read from stdin."""
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(name, password, role, display_name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {user.role} '{user.username}'.")


@users_cli.command("set-password")
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
def set_password_command(name: str, password_stdin: bool) -> None:
    """Set user NAME's password; every sign-in of NAME ends."""
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.find_user(name)
        ended = accounts.set_password(user, password)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Password of '{user.username}' changed; {ended} sign-in(s) ended.")


@users_cli.command("sign-out")
@click.argument("name")
def sign_out_command(name: str) -> None:
    """Sign user NAME out everywhere: every session and remember cookie stops working."""
    try:
        user = accounts.find_user(name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    ended = sign_ins.end_all(user.id)
    click.echo(f"Signed '{user.username}' out everywhere; {ended} sign-in(s) ended.")
