"""Generates host-test/conformance/cases.json, the conformance suite that the
Rust, Python and Node hosts all run.

Every expected `totp_code` is computed here by pyotp and cross-checked with
oathtool (see oracles.py), never by this project's code; the RFC 6238 cases
also check the oracles against the published table
(`rfc6238_appendix_b.json`). The output is
deterministic (no wall clock; fixed keys and a seeded PRNG), so CI re-runs
this script and fails when the committed file differs:

    python host-test/conformance/generate.py            # rewrite cases.json
    python host-test/conformance/generate.py --check    # exit 1 if stale

Case format (hosts compare generically, so new fields need no host change):

- `name`: unique; `covers`: the README behaviour or secret shape.
- `store`: the tables of `host-test/schema.sql` with its column names:
  `users` [{username, is_agent, totp_secret}], `workflows` [{id, slug}],
  `workflow_edges` [{workflow_id, source_node_id, target_node_id,
  edge_label}] (the Node host's JSON store has this shape too).
- `node`: the calling tool node {workflow_id, node_id}, or null.
- `time`: the Unix seconds the wall-clock import returns.
- `call`: "get-totp-code" with `username`, or "invoke" with `arguments`
  (raw LLM argument text).
- `host_failure` (optional): an import the host makes fail, overriding the
  store: {"import": "find-user", "kind": "denied"}, {"import": "find-user" |
  "workflow-slug" | "edge-targets", "kind": "unavailable", "message": TEXT},
  or {"import": "find-user", "kind": "other-user", "username": NAME} (the host
  answers with the stored row of the requested user, renamed NAME).
- `expected`: every key given must be in the result with this value.
- `present`: keys that must be in the result, whatever their value (the
  short-secret `warning`, whose text is the guest's).
- `absent`: keys that must not be in the result.
- `error_contains`: substrings of the result's `error`.
- `error_excludes`: substrings that must appear nowhere in the result text
  (secret material).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oracles import base32, both  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "cases.json"
RFC6238 = json.loads((HERE / "rfc6238_appendix_b.json").read_text())

RFC_KEY_20, RFC_KEY_32, RFC_KEY_64 = (
    RFC6238["keys"][algorithm].encode() for algorithm in ("SHA1", "SHA256", "SHA512")
)
RFC_TIMES = [vector["time"] for vector in RFC6238["vectors"]]
PARAM_KEYS = ("digits", "period", "algorithm")
AGENT = "agent_wf_n1"

rng = random.Random(0x70_7470)  # seeded: the file must be reproducible


def random_key(length: int) -> bytes:
    return bytes(rng.randrange(256) for _ in range(length))


def store(users=(), workflows=(), edges=()):
    return {
        "users": [
            {"username": u, "is_agent": agent, "totp_secret": secret}
            for (u, agent, secret) in users
        ],
        "workflows": [{"id": w, "slug": slug} for (w, slug) in workflows],
        "workflow_edges": [
            {"workflow_id": w, "source_node_id": s, "target_node_id": t, "edge_label": label}
            for (w, s, t, label) in edges
        ],
    }


cases: list[dict] = []


def add(name, covers, *, store, expected, time=59, node=None, username=None,
        arguments=None, host_failure=None, present=None, absent=None, error_contains=None,
        error_excludes=None):
    case = {"name": name, "covers": covers, "store": store,
            "node": None if node is None else {"workflow_id": node[0], "node_id": node[1]},
            "time": time}
    if arguments is not None:
        case["call"] = "invoke"
        case["arguments"] = arguments
    else:
        case["call"] = "get-totp-code"
        case["username"] = username if username is not None else ""
    if host_failure is not None:
        case["host_failure"] = host_failure
    case["expected"] = expected
    for key, value in (("present", present), ("absent", absent),
                       ("error_contains", error_contains), ("error_excludes", error_excludes)):
        if value:
            case[key] = value
    assert all(c["name"] != name for c in cases), name
    cases.append(case)


def success(username, key, time, algorithm="SHA1", digits=6, period=30):
    """The expected success result: the code from both oracles, and the
    extra fields the README promises exactly when they apply."""
    expected = {
        "success": True,
        "username": username,
        "totp_code": both(key, algorithm, digits, period, time),
        "expires_in": period - time % period,
    }
    absent = ["error", "error_code"]
    if (algorithm, digits, period) != ("SHA1", 6, 30):
        expected.update(digits=digits, period=period, algorithm=algorithm)
    else:
        absent += list(PARAM_KEYS)
    # RFC 4226 section 4's minimum: shorter keys carry the guest's warning.
    if len(key) >= 16:
        absent.append("warning")
    return expected, absent


def code_case(name, covers, stored, key, time=59, algorithm="SHA1", digits=6, period=30,
              username=AGENT):
    expected, absent = success(username, key, time, algorithm, digits, period)
    present = ["warning"] if len(key) < 16 else None
    add(name, covers, store=store(users=[(username, True, stored)]), time=time,
        username=username, expected=expected, present=present, absent=absent)


def failure(code, error=None):
    expected = {"success": False, "error_code": code}
    if error is not None:
        expected["error"] = error
    return expected


FAILURE_ABSENT = ["totp_code", "username", "expires_in"]


def error_case(name, covers, code, *, error=None, **kwargs):
    add(name, covers, expected=failure(code, error), absent=FAILURE_ABSENT, **kwargs)


def uri(key: bytes, label="ACME:agent", **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"secret": base32(key), **params}.items())
    return f"otpauth://totp/{quote(label, safe=':@')}?{query}"


def generate() -> dict:
    cases.clear()
    rfc = base32(RFC_KEY_20)

    # --- code issued: RFC 6238 Appendix B times, and expires_in ------------
    for vector in RFC6238["vectors"]:
        t = vector["time"]
        code_case(f"rfc6238_sha1_t{t}", "code issued (RFC 6238 Appendix B key, base32)",
                  rfc, RFC_KEY_20, time=t)
        # The oracles agree with the published table, at 6 and 8 digits.
        assert cases[-1]["expected"]["totp_code"] == vector["SHA1"][2:], t
    for t in (0, 1, 29, 30, 60, 2**31 - 1, 2**32, 2**35 - 1, 2**35):
        code_case(f"expires_in_t{t}", "code issued: expires_in counts down to the boundary",
                  rfc, RFC_KEY_20, time=t)

    # --- base32 secret shapes -------------------------------------------------
    key20 = random_key(20)
    b = base32(key20)
    grouped = " ".join(b[i:i + 4] for i in range(0, len(b), 4))
    for shape, stored in [
        ("upper", b),
        ("lower", b.lower()),
        ("grouped_spaces", grouped),
        ("grouped_lower", grouped.lower()),
        ("surrounding_whitespace", f"  {b}\n"),
        ("tabs_and_newlines", b[:16] + "\t" + b[16:] + "\r\n"),
    ]:
        code_case(f"base32_{shape}", f"secret shape: base32, {shape.replace('_', ' ')}",
                  stored, key20, time=1_700_000_000)
    for length in (1, 5, 10, 11, 15, 16, 19, 21, 32, 33, 64):
        key = random_key(length)
        padded = base64.b32encode(key).decode()
        code_case(f"base32_{length}_bytes_unpadded", f"secret shape: base32, {length}-byte key",
                  base32(key), key, time=1_000_000_000 + length)
        if padded != base32(key):
            code_case(f"base32_{length}_bytes_padded",
                      f"secret shape: base32 with '=' padding, {length}-byte key",
                      padded, key, time=1_000_000_000 + length)

    # --- otpauth:// secret shapes --------------------------------------------
    code_case("otpauth_defaults", "secret shape: otpauth URI, default parameters",
              uri(key20), key20, time=1_700_000_000)
    code_case("otpauth_explicit_defaults", "secret shape: otpauth URI, SHA1/6/30 spelled out",
              uri(key20, issuer="ACME", algorithm="SHA1", digits=6, period=30), key20,
              time=1_700_000_000)
    for vector in RFC6238["vectors"]:
        t = vector["time"]
        for algorithm, key in (("SHA1", RFC_KEY_20), ("SHA256", RFC_KEY_32),
                               ("SHA512", RFC_KEY_64)):
            params = {"algorithm": algorithm} if algorithm != "SHA1" else {}
            name = "sha1_8_digits" if algorithm == "SHA1" else algorithm.lower()
            code_case(f"otpauth_rfc6238_{name}_t{t}", f"otpauth: RFC 6238 {algorithm} vector",
                      uri(key, digits=8, **params), key, time=t, algorithm=algorithm, digits=8)
            assert cases[-1]["expected"]["totp_code"] == vector[algorithm], (algorithm, t)
    for algorithm in ("SHA1", "SHA256", "SHA512"):
        for digits in (6, 7, 8):
            for period in (15, 30, 60):
                key = random_key(rng.choice((16, 20, 32, 64)))
                t = rng.randrange(2**35)
                code_case(f"otpauth_{algorithm.lower()}_{digits}_digits_{period}s",
                          "otpauth: every algorithm, digit count and a few periods",
                          uri(key, issuer="ACME", algorithm=algorithm, digits=digits,
                              period=period),
                          key, time=t, algorithm=algorithm, digits=digits, period=period)
    for period, t in ((1, 1_700_000_000), (60, 59), (60, 60), (60, 119), (90, 1_700_000_000),
                      (86400, 1_700_000_000), (3600, 2**35)):
        code_case(f"otpauth_period_{period}_t{t}", "otpauth: custom period, at its boundaries",
                  uri(key20, period=period), key20, time=t, period=period)
    short = random_key(10)
    code_case("otpauth_short_secret_sha256", "otpauth: short key warns, with parameters",
              uri(short, algorithm="SHA256", digits=7), short, time=1_700_000_000,
              algorithm="SHA256", digits=7)
    code_case("otpauth_short_secret_defaults", "otpauth: short key warns, default parameters",
              uri(short), short, time=1_700_000_000)
    b20 = base32(key20)
    for shape, stored, params in [
        ("lowercase_algorithm", f"otpauth://totp/a?secret={b20}&algorithm=sha512",
         ("SHA512", 6, 30)),
        ("uppercase_names", f"OTPAUTH://TOTP/a?SECRET={b20}&ALGORITHM=SHA256&DIGITS=8&PERIOD=60",
         ("SHA256", 8, 60)),
        ("issuer_in_label_and_parameter",
         f"otpauth://totp/ACME%20Co:john@example.com?secret={b20}&issuer=ACME%20Co",
         ("SHA1", 6, 30)),
        ("issuer_plus_encoded", f"otpauth://totp/ACME%20Co:john?secret={b20}&issuer=ACME+Co",
         ("SHA1", 6, 30)),
        ("encoded_label_colon", f"otpauth://totp/ACME%3Ajohn?secret={b20}&issuer=ACME",
         ("SHA1", 6, 30)),
        ("no_label", f"otpauth://totp?secret={b20}&digits=7", ("SHA1", 7, 30)),
        ("lowercase_secret", f"otpauth://totp/a?secret={b20.lower()}", ("SHA1", 6, 30)),
        ("percent_encoded_padding", f"otpauth://totp/a?secret={base32(key20[:16])}%3D%3D%3D%3D"
         f"%3D%3D&period=45", ("SHA1", 6, 45)),
        ("plus_spaced_secret", f"otpauth://totp/a?secret={b20[:8]}+{b20[8:16]}%20{b20[16:]}",
         ("SHA1", 6, 30)),
        ("unknown_parameters_ignored",
         f"otpauth://totp/a?image=https%3A%2F%2Fx%2Fy.png&secret={b20}&counter=9&digits=8",
         ("SHA1", 8, 30)),
        ("fragment_dropped", f"otpauth://totp/a?secret={b20}&algorithm=SHA256#digits=8",
         ("SHA256", 6, 30)),
        ("surrounding_whitespace", f"  otpauth://totp/a?secret={b20}&period=20 \n",
         ("SHA1", 6, 20)),
    ]:
        key = key20[:16] if shape == "percent_encoded_padding" else key20
        algorithm, digits, period = params
        code_case(f"otpauth_{shape}", f"secret shape: otpauth URI, {shape.replace('_', ' ')}",
                  stored, key, time=1_700_000_000, algorithm=algorithm, digits=digits,
                  period=period)

    # --- user not found -----------------------------------------------------
    error_case("unknown_user", "user missing", "user_not_found", error="Agent user not found",
               store=store(users=[(AGENT, True, rfc)]), username="agent_wf_n2")
    error_case("human_user", "user not an agent user", "user_not_found",
               error="Agent user not found", store=store(users=[("alice", False, rfc)]),
               username="alice", error_excludes=[rfc[:8]])
    error_case("human_user_without_secret", "user not an agent user", "user_not_found",
               error="Agent user not found", store=store(users=[("bob", False, None)]),
               username="bob")
    error_case("resolved_agent_without_user", "user missing (resolved through the tool edge)",
               "user_not_found", error="Agent user not found",
               store=store(workflows=[("wf-1", "my-workflow")],
                           edges=[("wf-1", "tool_totp", "agent_abc123", "tool")]),
               node=("wf-1", "tool_totp"))
    error_case("resolved_name_is_a_human", "user not an agent user (resolved)",
               "user_not_found", error="Agent user not found",
               store=store(users=[("agent_my-workflow_agent_abc123", False, rfc)],
                           workflows=[("wf-1", "my-workflow")],
                           edges=[("wf-1", "tool_totp", "agent_abc123", "tool")]),
               node=("wf-1", "tool_totp"))
    error_case("username_is_case_sensitive", "user missing", "user_not_found",
               store=store(users=[(AGENT, True, rfc)]), username=AGENT.upper())

    # --- resolution of the calling agent -----------------------------------
    linked = "agent_my-workflow_agent_abc123"
    expected, absent = success(linked, RFC_KEY_20, 59)
    add("resolve_through_tool_edge", "empty username: the single tool edge, with slug",
        store=store(users=[(linked, True, rfc), ("agent_my-workflow_agent_zzz", True, rfc)],
                    workflows=[("wf-1", "my-workflow")],
                    edges=[("wf-1", "tool_totp", "agent_abc123", "tool"),
                           ("wf-1", "tool_totp", "other_node", "data"),
                           ("wf-1", "tool_other", "agent_zzz", "tool"),
                           ("wf-2", "tool_totp", "agent_zzz", "tool")]),
        node=("wf-1", "tool_totp"), expected=expected, absent=absent)
    for name, slug in (("no_slug", None), ("empty_slug", ""), ("unknown_workflow", "-")):
        expected, absent = success("agent_wf-1_agent_abc123", RFC_KEY_20, 59)
        workflows = [] if slug == "-" else [("wf-1", slug)]
        add(f"resolve_{name}_uses_workflow_id", "empty username: workflow id stands in for slug",
            store=store(users=[("agent_wf-1_agent_abc123", True, rfc)], workflows=workflows,
                        edges=[("wf-1", "tool_totp", "agent_abc123", "tool")]),
            node=("wf-1", "tool_totp"), expected=expected, absent=absent)
    expected, absent = success("agent_wf-1_tool_totp", RFC_KEY_20, 59)
    add("resolve_without_edge_falls_back", "empty username: tool node without a tool edge",
        store=store(users=[("agent_wf-1_tool_totp", True, rfc)],
                    workflows=[("wf-1", "my-workflow")]),
        node=("wf-1", "tool_totp"), expected=expected, absent=absent)
    expected, absent = success("agent_my-workflow_agent_a", RFC_KEY_20, 59)
    add("parallel_edges_are_one_agent", "empty username: duplicate tool edges to one agent",
        store=store(users=[("agent_my-workflow_agent_a", True, rfc)],
                    workflows=[("wf-1", "my-workflow")],
                    edges=[("wf-1", "tool_totp", "agent_a", "tool")] * 2),
        node=("wf-1", "tool_totp"), expected=expected, absent=absent)
    expected, absent = success("agent_other_n9", RFC_KEY_20, 59)
    add("explicit_username_wins_over_context", "explicit username with a node context",
        store=store(users=[("agent_other_n9", True, rfc), (linked, True, rfc)],
                    workflows=[("wf-1", "my-workflow")],
                    edges=[("wf-1", "tool_totp", "agent_abc123", "tool")]),
        node=("wf-1", "tool_totp"), username="agent_other_n9", expected=expected, absent=absent)

    # --- ambiguous agent, no context -----------------------------------------
    for count in (2, 3):
        agents = [f"agent_{i}" for i in range(count)]
        error_case(f"ambiguous_{count}_agents", "empty username, several tool edges",
                   "ambiguous_agent", error_contains=[str(count), "username"],
                   store=store(users=[(f"agent_my-workflow_{a}", True, rfc) for a in agents],
                               workflows=[("wf-1", "my-workflow")],
                               edges=[("wf-1", "tool_totp", a, "tool") for a in agents]),
                   node=("wf-1", "tool_totp"))
    error_case("no_context", "empty username, no workflow context", "no_context",
               error_contains=["username"], store=store(users=[(AGENT, True, rfc)]))

    # --- no secret, invalid secret, unsupported secret ---------------------
    for name, secret in (("null", None), ("empty", ""), ("blank", "   "), ("newline", "\n")):
        error_case(f"no_totp_secret_{name}", "no secret stored", "no_totp_secret",
                   error="No TOTP secret configured for this user",
                   store=store(users=[(AGENT, True, secret)]), username=AGENT)
    # What a bad Key URI's message names (the part that is wrong).
    URI_ERROR_PARTS = {
        "uri_bad_base32": "base32", "uri_missing_secret": "secret", "uri_empty_secret": "empty",
        "uri_digits_5": "digits", "uri_digits_9": "digits", "uri_digits_empty": "digits",
        "uri_digits_word": "digits", "uri_period_0": "period", "uri_period_negative": "period",
        "uri_period_fraction": "period", "uri_algorithm_md5": "algorithm",
        "uri_algorithm_sha224": "algorithm", "uri_duplicate_secret": "more than one 'secret'",
        "uri_duplicate_digits": "more than one 'digits'", "uri_issuer_mismatch": "issuer",
        "uri_bad_percent_encoding": "percent-encoding", "uri_bad_label_encoding": "label",
        "uri_unknown_type": "type",
    }
    for name, secret in [
        ("bad_character", "MFRGGZDFMZTWQ2LK!"),
        ("digit_one", "SECRETSECRET1SECRET"),
        ("misplaced_padding", "MFRGG=ZDFMZTWQ2LK"),
        ("partial_byte_9_symbols", "MFRGGZDFM"),
        ("partial_byte_1_symbol", "M"),
        ("only_padding", "========"),
        ("hex_key", "3132333435363738393031323334353637383930"),
        ("not_a_uri_scheme", "otpauth:/totp/a?secret=JBSWY3DPEHPK3PXP"),
        ("uri_bad_base32", "otpauth://totp/a?secret=JBSWY3DP1HPK3PXP"),
        ("uri_missing_secret", "otpauth://totp/ACME:agent?issuer=ACME"),
        ("uri_empty_secret", "otpauth://totp/a?secret=&digits=6"),
        ("uri_digits_5", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=5"),
        ("uri_digits_9", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=9"),
        ("uri_digits_empty", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits="),
        ("uri_digits_word", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=six"),
        ("uri_period_0", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0"),
        ("uri_period_negative", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=-30"),
        ("uri_period_fraction", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=30.5"),
        ("uri_algorithm_md5", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5"),
        ("uri_algorithm_sha224", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=SHA224"),
        ("uri_duplicate_secret", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP"),
        ("uri_duplicate_digits", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=6&Digits=6"),
        ("uri_issuer_mismatch", "otpauth://totp/ACME:john?secret=JBSWY3DPEHPK3PXP&issuer=Other"),
        ("uri_bad_percent_encoding", "otpauth://totp/a?secret=JBSWY3DP%FFHPK3PXP"),
        ("uri_bad_label_encoding", "otpauth://totp/%FF?secret=JBSWY3DPEHPK3PXP"),
        ("uri_unknown_type", "otpauth://motp/a?secret=JBSWY3DPEHPK3PXP"),
    ]:
        if secret.startswith("otpauth:"):
            body = secret.split("secret=")[1].split("&")[0] if "secret=" in secret else ""
        else:
            body = secret
        excludes = [body[i:i + 8] for i in range(0, max(len(body) - 7, 1), 4) if len(body) >= 8]
        part = URI_ERROR_PARTS.get(name)
        error_case(f"invalid_secret_{name}", "secret not decodable", "invalid_secret",
                   store=store(users=[(AGENT, True, secret)]), username=AGENT,
                   error_contains=[part] if part else None, error_excludes=excludes)
    for name, secret in [
        ("hotp", "otpauth://hotp/ACME:agent?secret=JBSWY3DPEHPK3PXP&counter=1&issuer=ACME"),
        ("hotp_uppercase", "OTPAUTH://HOTP/a?secret=JBSWY3DPEHPK3PXP"),
    ]:
        error_case(f"unsupported_secret_{name}", "HOTP secret: unsupported",
                   "unsupported_secret", store=store(users=[(AGENT, True, secret)]),
                   username=AGENT, error_excludes=["JBSWY3DP", "EHPK3PXP"])

    # --- host behaviour -------------------------------------------------------
    error_case("host_denies_lookup", "host refuses the lookup", "access_denied",
               store=store(users=[(AGENT, True, rfc)]), username=AGENT,
               host_failure={"import": "find-user", "kind": "denied"})
    error_case("host_denies_missing_user", "host refuses the lookup (whether or not it exists)",
               "access_denied", store=store(), username="agent_nobody",
               host_failure={"import": "find-user", "kind": "denied"})
    error_case("host_denies_resolved_agent", "host refuses the lookup of the resolved agent",
               "access_denied",
               store=store(users=[(linked, True, rfc)], workflows=[("wf-1", "my-workflow")],
                           edges=[("wf-1", "tool_totp", "agent_abc123", "tool")]),
               node=("wf-1", "tool_totp"),
               host_failure={"import": "find-user", "kind": "denied"})
    for name, imp in [("edge_targets", "edge-targets"), ("workflow_slug", "workflow-slug")]:
        error_case(f"host_denies_{name}", f"host refuses the graph lookup {imp}",
                   "access_denied",
                   store=store(users=[(linked, True, rfc)], workflows=[("wf-1", "my-workflow")],
                               edges=[("wf-1", "tool_totp", "agent_abc123", "tool")]),
                   node=("wf-1", "tool_totp"),
                   host_failure={"import": imp, "kind": "denied"})
    for name, imp, username, node in [
        ("find_user", "find-user", AGENT, None),
        ("edge_targets", "edge-targets", "", ("wf-1", "tool_totp")),
        ("workflow_slug", "workflow-slug", "", ("wf-1", "tool_totp")),
    ]:
        message = f"{imp} store offline: database is locked"
        error_case(f"host_failure_{name}", f"host failure in {imp}", "host_error",
                   error_contains=[message],
                   store=store(users=[(AGENT, True, rfc), (linked, True, rfc)],
                               workflows=[("wf-1", "my-workflow")],
                               edges=[("wf-1", "tool_totp", "agent_abc123", "tool")]),
                   username=username, node=node,
                   host_failure={"import": imp, "kind": "unavailable", "message": message})
    error_case("host_answers_with_another_user", "host failure: a different user answered",
               "host_error", store=store(users=[(AGENT, True, rfc)]), username=AGENT,
               host_failure={"import": "find-user", "kind": "other-user",
                             "username": "agent_someone_else"})

    # --- invoke: LLM arguments -------------------------------------------------
    both_users = store(users=[(AGENT, True, rfc), (linked, True, rfc)],
                       workflows=[("wf-1", "my-workflow")],
                       edges=[("wf-1", "tool_totp", "agent_abc123", "tool")])
    expected, absent = success(AGENT, RFC_KEY_20, 59)
    add("invoke_with_username", "invoke: {\"username\": ...}", store=both_users,
        node=("wf-1", "tool_totp"), arguments=json.dumps({"username": AGENT}),
        expected=expected, absent=absent)
    for name, arguments in (("empty_object", "{}"), ("empty_text", ""),
                            ("null_username", '{"username": null}'),
                            ("empty_username", '{"username": ""}'),
                            ("whitespace", " \n{ } ")):
        expected, absent = success(linked, RFC_KEY_20, 59)
        add(f"invoke_{name}_resolves_caller", "invoke without a username", store=both_users,
            node=("wf-1", "tool_totp"), arguments=arguments, expected=expected, absent=absent)
    for name, arguments in [
        ("truncated", "{"),
        ("not_json", "not json"),
        ("array", f'["{AGENT}"]'),
        ("string", f'"{AGENT}"'),
        ("number_username", '{"username": 42}'),
        ("object_username", '{"username": {"name": "agent_wf_n1"}}'),
        ("wrong_key", '{"user": "agent_wf_n1"}'),
        ("deep_nesting", "[" * 5000),
    ]:
        error_case(f"invalid_arguments_{name}",
                   "invoke arguments not a JSON object with a string username",
                   "invalid_arguments", error_contains=["Invalid arguments"],
                   store=both_users, arguments=arguments)
    error_case("invalid_arguments_username_too_long", "username longer than 512 bytes",
               "invalid_arguments", store=store(users=[(AGENT, True, rfc)]),
               username="a" * 513)

    names = [c["name"] for c in cases]
    assert len(names) == len(set(names))
    return {
        "about": "get_totp_code conformance cases; generated by "
                 "host-test/conformance/generate.py (codes by pyotp, cross-checked with "
                 "oathtool); do not edit by hand",
        "cases": cases,
    }


def render() -> str:
    return json.dumps(generate(), indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 when cases.json is not up to date")
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args()
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {len(cases)} cases to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
