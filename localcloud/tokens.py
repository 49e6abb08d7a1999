"""``make token ROLE=…``: a bearer token for the running local cloud, printed alone on stdout.

``make run`` writes the local user pool's signing key to
``build/localcloud-signing-key.pem``; this command signs a token with it, with
the claims a Cognito user pool gives (``cognito:groups`` for the role,
``custom:agency`` for an agency head)::

    python -m localcloud.tokens --role OPERATOR
    python -m localcloud.tokens --role AGENCY_HEAD --agency DISDIK
    curl -H "Authorization: Bearer $(python -m localcloud.tokens --role OPERATOR)" …

The key changes at every start of the local cloud, so a token outlives
neither the cloud that accepted it nor its hour.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chalicelib.access.roles import AGENCY_CODE, Role
from chalicelib.access.tokens import TokenIssuer
from localcloud.cloud import TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_TTL_S, default_subject

DEFAULT_KEY_FILE = Path("build/localcloud-signing-key.pem")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="print a bearer token for the running local cloud")
    parser.add_argument("--role", action="append", required=True, choices=[role.value for role in Role],
                        help="a role the token holds (repeat for several)")
    parser.add_argument("--agency", help="the agency an AGENCY_HEAD answers for, e.g. DISDIK or DINSOS")
    parser.add_argument("--subject", help="the caller's id (sub); a readable one by default")
    parser.add_argument("--minutes", type=int, default=TOKEN_TTL_S // 60, help="how long the token is valid")
    parser.add_argument("--key-file", type=Path, default=DEFAULT_KEY_FILE,
                        help="the signing key the running local cloud wrote")
    args = parser.parse_args(argv)

    roles = [Role(name) for name in dict.fromkeys(args.role)]
    if Role.AGENCY_HEAD in roles and not args.agency:
        parser.error("an AGENCY_HEAD token names its agency: --agency DISDIK (education) or DINSOS (social affairs)")
    if args.agency and not AGENCY_CODE.match(args.agency):
        parser.error("an agency code is 2 to 16 capital letters or digits, e.g. DISDIK")
    if not 0 < args.minutes <= 24 * 60:
        parser.error("--minutes is from 1 to 1440")
    if not args.key_file.is_file():
        print(f"no local cloud's signing key at {args.key_file}: start one with `make run`", file=sys.stderr)
        return 2

    issuer = TokenIssuer.from_pem(args.key_file.read_bytes(), TOKEN_ISSUER, TOKEN_AUDIENCE)
    print(issuer.mint(roles, agency=args.agency, ttl_s=args.minutes * 60,
                      subject=args.subject or default_subject(roles, args.agency)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
