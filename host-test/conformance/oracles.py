"""The two independent TOTP oracles the conformance cases and the
differential test are checked against: pyotp, and OATH Toolkit's oathtool.
Neither shares any code with the component.

As a script it is the differential test's batch oracle: it reads one JSON
array of cases on stdin, each
`{"key": HEX, "algorithm": "SHA1"|"SHA256"|"SHA512", "digits": N, "period": N,
"time": N, "oathtool": BOOL}`, and prints one JSON array of
`{"pyotp": CODE, "oathtool": CODE|null}`, in order. `oathtool: true` cases
are computed by oathtool too (one process per case, so keep them few).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys

import pyotp

DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def base32(key: bytes) -> str:
    """Canonical RFC 4648 base32, without padding."""
    return base64.b32encode(key).decode("ascii").rstrip("=")


class AnyLengthTOTP(pyotp.TOTP):
    """pyotp refuses keys under 112 bits (NIST SP 800-63B); the component
    accepts them with a warning, so the oracle must compute them too. The
    class attribute is pyotp's documented knob for this."""

    min_secret_length_bits = 8


class AnyLengthHOTP(pyotp.HOTP):
    min_secret_length_bits = 8


def pyotp_code(key: bytes, algorithm: str, digits: int, period: int, time: int) -> str:
    if period <= 120:
        totp = AnyLengthTOTP(base32(key), digits=digits, digest=DIGESTS[algorithm], interval=period)
        return totp.at(time)
    # pyotp's TOTP refuses periods over 120 s; its HOTP at the RFC 6238
    # counter (T0 = 0) is the same computation (oathtool checks the TOTP path).
    hotp = AnyLengthHOTP(base32(key), digits=digits, digest=DIGESTS[algorithm])
    return hotp.at(time // period)


def oathtool_path() -> str:
    path = shutil.which("oathtool")
    if path is None:
        sys.exit(
            "oathtool is not installed: `apt-get install oathtool` (Debian/Ubuntu) "
            "or `brew install oath-toolkit` (macOS)"
        )
    return path


def oathtool_code(key: bytes, algorithm: str, digits: int, period: int, time: int) -> str:
    command = [
        oathtool_path(),
        f"--totp={algorithm}",
        "--base32",
        f"--digits={digits}",
        f"--time-step-size={period}s",
        f"--now=@{time}",
        base32(key),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return output.stdout.strip()


def both(key: bytes, algorithm: str, digits: int, period: int, time: int) -> str:
    """The code both oracles agree on; exits loudly if they do not."""
    by_pyotp = pyotp_code(key, algorithm, digits, period, time)
    by_oathtool = oathtool_code(key, algorithm, digits, period, time)
    if by_pyotp != by_oathtool:
        sys.exit(
            f"oracles disagree for key {key.hex()} {algorithm}/{digits}/{period} at {time}: "
            f"pyotp {by_pyotp}, oathtool {by_oathtool}"
        )
    return by_pyotp


def main() -> None:
    cases = json.load(sys.stdin)
    out = []
    for case in cases:
        key = bytes.fromhex(case["key"])
        args = (key, case["algorithm"], case["digits"], case["period"], case["time"])
        out.append(
            {
                "pyotp": pyotp_code(*args),
                "oathtool": oathtool_code(*args) if case.get("oathtool") else None,
            }
        )
    json.dump(out, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
