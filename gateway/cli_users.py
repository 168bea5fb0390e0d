"""``gateway users create``: bootstrap a web console account (the password is read from a
prompt or stdin, never from the command line, where other users and the shell history see it)."""

from __future__ import annotations

import getpass
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def cmd_users_create(args) -> int:
    from gateway.cli import cli_runtime
    from gateway.web.users import UserError, create_user

    try:
        password = _password(args.password_stdin)
        user = create_user(cli_runtime(), args.username, password, args.role, args.partner,  # onboarded partners too
                           email=args.email)
    except (UserError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"created {user.role} user {user.username!r}" + (f" for partner {user.partner_id}" if user.partner_id else ""))
    return EXIT_OK


def register(sub) -> None:
    users = sub.add_parser("users", help="web console accounts").add_subparsers(dest="users_command", required=True)
    uc = users.add_parser("create", help="create a console user (password prompted, or --password-stdin)")
    uc.add_argument("username")
    uc.add_argument("--role", required=True, choices=["admin", "support", "buyer", "viewer", "partner"])
    uc.add_argument("--partner", help="the partner a partner-role user belongs to")
    uc.add_argument("--email", help="where the alerts this user's role subscribes to are sent (docs/alerts.md)")
    uc.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    uc.set_defaults(func=cmd_users_create)
