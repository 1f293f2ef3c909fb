"""The whole HTTP API against its own /openapi.json, the way `st run --checks all` tests it.

schemathesis generates requests from the schema (its examples, boundary values, random valid and
deliberately invalid ones, and sequences of calls) and runs every check it has: no 500, every status
and content type documented, every answer matching its schema, schema-valid bodies accepted and
schema-invalid ones refused, auth not ignored, 405s with a true Allow header. It runs its own engine
over the ASGI app (its pytest plugin does not load under pytest 9), with a fixed seed and a bounded
number of examples per operation so it stays at tens of seconds.
"""
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from bot.app import create_app
from bot.settings import load_settings
from catalog.demo import load_demo
from helpers import ADMIN_AUTH, ADMIN_TOKEN, T0

EXAMPLES_PER_OPERATION = 10
MAIN_CHECKS = {
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
    "positive_data_acceptance", "negative_data_rejection", "ignored_auth", "unsupported_method",
}


def run_schemathesis(app) -> tuple[int, set[str], list[str]]:
    """(cases run, names of the checks that ran, one line per failure)."""
    config = SchemathesisConfig.from_dict({
        "headers": ADMIN_AUTH, "checks": {"enabled": True}, "seed": 1,
        "generation": {"max-examples": EXAMPLES_PER_OPERATION},
    })
    # GET /chat/events is a Server-Sent Events stream that ends only when the page goes away: here every
    # generated call to it would wait out a timeout, most of this run's time. It is tested in
    # test_web_chat.py (history, reconnecting, a bad `after`) and by the browser tests.
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config).exclude(path="/chat/events")
    cases, ran, failures = 0, set(), []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            for case_id, results in event.recorder.checks.items():
                for check in results:
                    ran.add(check.name)
                    if check.status == Status.FAILURE:
                        info = check.failure_info.failure if check.failure_info else None
                        case = event.recorder.cases[case_id].value if case_id in event.recorder.cases else None
                        failures.append(f"{event.label}: {check.name}: {info.title if info else ''}: "
                                        f"{info.message if info else ''} body={getattr(case, 'body', None)!r}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            failures.append(f"schemathesis error: {event}")
    return cases, ran, failures


def test_the_api_conforms_to_its_openapi_schema_under_every_schemathesis_check(sqlite_db, clock):
    load_demo(sqlite_db, T0)  # real products, a group and a deal for the generated calls to find
    settings = load_settings(  # every channel on, so every route is in the schema
        database_url=sqlite_db.url, admin_token=ADMIN_TOKEN, bridge_secret="s", wechat_token="w",
        wecom_token="w", wecom_aes_key="a" * 43, wecom_corpid="c", aibot_token="w", aibot_aes_key="b" * 43,
        web_chat=True,
    )
    cases, ran, failures = run_schemathesis(create_app(settings, db=sqlite_db, clock=clock))
    assert failures == [], "\n".join(failures)
    assert cases > 500
    assert MAIN_CHECKS <= ran
