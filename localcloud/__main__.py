"""``make run``: serve the local cloud on loopback until stopped.

Starts emulated AWS (moto), the emulated Dukcapil and Bank DKI, deploys the
stage and serves the API. The emulated registry is seeded with the synthetic
population of the demo batch, and that batch is written as an agency's CSV,
so the API can be tried at once with curl. The URLs are printed and also
written to ``build/localcloud.json`` for tools that drive the cloud. The
token-signing key of this run is written to ``build/localcloud-signing-key.pem``
(owner-only) for ``make token``, and removed when the cloud stops.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import date
from pathlib import Path

from localcloud.cloud import LocalCloud, PortInUse
from localcloud.tokens import DEFAULT_KEY_FILE

SECONDS_PER_DAY = 60.0
"""A day lasts a minute: an issuance arrives within minutes, the 7-day deadline passes in 7."""
SAMPLE_ROWS = 200
"""The sample upload stays well under the API's per-call row limit."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="serve the Jakarta One local cloud until Ctrl-C")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--aws-port", type=int, default=5000)
    parser.add_argument("--seconds-per-day", type=float, default=SECONDS_PER_DAY,
                        help="how long a day lasts for the bank's delays and the Art. 20 deadline")
    parser.add_argument("--applicants", type=int, default=1200,
                        help="size of the synthetic population the emulated Dukcapil knows")
    parser.add_argument("--state-file", type=Path, default=Path("build/localcloud.json"))
    parser.add_argument("--signing-key-file", type=Path, default=DEFAULT_KEY_FILE,
                        help="where `make token` finds the key that signs this run's bearer tokens")
    args = parser.parse_args(argv)

    from demo.batch import build_batch, write_csv

    cloud = LocalCloud(seconds_per_day=args.seconds_per_day, api_port=args.api_port,
                       moto_port=args.aws_port, quiet=True, signing_key_file=args.signing_key_file)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGHUP, lambda *_: stopped.set())
    try:
        cloud.start()
    except PortInUse as error:
        print(f"cannot start the local cloud: {error}", file=sys.stderr)
        cloud.stop()
        return 1
    try:
        plan = build_batch(n=args.applicants, today=date.today())
        cloud.registry.seed({"nik": r.nik, "fullName": r.full_name, "birthDate": r.birth_date.isoformat()}
                            for r in plan.population)
        batch_file = write_csv(plan.rows[:SAMPLE_ROWS], Path("build/localcloud-batch.csv"))
        args.state_file.parent.mkdir(parents=True, exist_ok=True)
        args.state_file.write_text(json.dumps({"urls": cloud.urls, "secondsPerDay": args.seconds_per_day,
                                               "batch": str(batch_file),
                                               "signingKeyFile": str(args.signing_key_file)}, indent=2))
        print(_banner(cloud, batch_file, args.seconds_per_day, args.signing_key_file), flush=True)
        stopped.wait()
    finally:
        print("stopping the local cloud", flush=True)
        cloud.stop()
    return 0


def _banner(cloud: LocalCloud, batch_file: Path, seconds_per_day: float, key_file: Path) -> str:
    urls = cloud.urls
    if key_file == DEFAULT_KEY_FILE:
        operator_token, agency_token = "make -s token ROLE=OPERATOR", "make -s token ROLE=AGENCY_HEAD AGENCY=DISDIK"
    else:
        mint = f"{sys.executable} -m localcloud.tokens --key-file {key_file}"
        operator_token, agency_token = f"{mint} --role OPERATOR", f"{mint} --role AGENCY_HEAD --agency DISDIK"
    return f"""
Jakarta One local cloud
  API                      {urls['api']}
  AWS (moto)               {urls['aws']}   (AWS_ENDPOINT_URL for boto3 and the AWS CLI)
  Dukcapil (emulated)      {urls['population_registry']}/_emulator/stats
  Bank DKI (emulated)      {urls['bank']}/_emulator/stats
  A day lasts {seconds_per_day:g} s; the Art. 20 deadline is {cloud.timings['IssuanceTimeoutSeconds']} s.

Bearer tokens (an hour each) for DISKOMINFOTIK_ADMIN, AGENCY_HEAD (with AGENCY=…), OPERATOR,
BANK_PARTNER or RESIDENT, signed with this run's key ({key_file}):
  {operator_token.replace("make -s", "make")}
  {agency_token.replace("make -s", "make")}

Try:
  AGENCY_TOKEN=$({agency_token})
  curl -s -X POST -H "Authorization: Bearer $AGENCY_TOKEN" -H 'Content-Type: text/csv' \\
       --data-binary @{batch_file} {urls['api']}/enrolment/uploads
  OPERATOR_TOKEN=$({operator_token})
  curl -s -H "Authorization: Bearer $OPERATOR_TOKEN" '{urls['api']}/operator/applications?state=CARD_ACTIVE&limit=5'

Ready. Ctrl-C stops.
"""


if __name__ == "__main__":
    sys.exit(main())
