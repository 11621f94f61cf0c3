"""The SAM template's role grants exactly the README's IAM policy, which is exactly what the
handlers call (tests/test_iam.py reads the boto3 calls in orchestrator.py): the README's policy is
the source of truth, and the template's `fleetpath` policy must equal it statement by statement
(actions, resources, conditions), with the bucket and table ARNs taken from the template's own
resources. The only other grant is writing the two functions' own log groups."""

import json
import pathlib

import yaml

from test_iam import code_actions, policy_actions, readme_section

HERE = pathlib.Path(__file__).resolve().parents[1]


class _Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def _loader():
    class Loader(yaml.SafeLoader):
        pass

    def construct(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return _Tag(suffix, value)

    Loader.add_multi_constructor("!", construct)
    return Loader


def template():
    return yaml.load((HERE / "template.yaml").read_text(), Loader=_loader())


# The template's ARN expressions, spelled as the README's placeholders.
ARNS = {
    ("GetAtt", "FirmwareBucket.Arn"): "arn:aws:s3:::BUCKET",
    ("GetAtt", "RolloutTable.Arn"): "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
}


def _arn(value):
    if isinstance(value, _Tag) and value.tag == "GetAtt":
        return ARNS[("GetAtt", value.value)]
    if isinstance(value, _Tag) and value.tag == "Sub" and value.value.startswith("${FirmwareBucket.Arn}/"):
        return "arn:aws:s3:::BUCKET/" + value.value[len("${FirmwareBucket.Arn}/"):]
    raise AssertionError(f"unexpected resource expression {value!r}")


def _list(value):
    return value if isinstance(value, list) else [value]


def _normal(statement, resolve):
    return {
        "Sid": statement["Sid"],
        "Effect": statement["Effect"],
        "Action": sorted(_list(statement["Action"])),
        "Resource": sorted(resolve(r) for r in _list(statement["Resource"])),
        "Condition": statement.get("Condition"),
    }


def role_policies():
    role = template()["Resources"]["OrchestratorRole"]
    return {p["PolicyName"]: p["PolicyDocument"] for p in role["Properties"]["Policies"]}


def readme_policy():
    import re
    return json.loads(re.search(r"```json\n(.*?)```", readme_section(), re.S).group(1))


def test_the_role_is_the_readme_policy_statement_by_statement():
    policies = role_policies()
    assert set(policies) == {"fleetpath", "logs"}
    ours = [_normal(s, _arn) for s in policies["fleetpath"]["Statement"]]
    theirs = [_normal(s, lambda r: r) for s in readme_policy()["Statement"]]
    assert ours == theirs


def test_the_role_grants_exactly_what_the_handlers_call():
    policies = role_policies()
    granted = {a for s in policies["fleetpath"]["Statement"] for a in _list(s["Action"])}
    assert granted == code_actions((HERE / "orchestrator.py").read_text()) == policy_actions(readme_section())
    # Besides: only writing the functions' own log groups (the Lambda service's logging).
    logs = policies["logs"]["Statement"]
    assert [sorted(_list(s["Action"])) for s in logs] == [["logs:CreateLogStream", "logs:PutLogEvents"]]
    assert sorted(r.value for r in logs[0]["Resource"]) == ["${HealthGateLogs.Arn}", "${UpdateCheckLogs.Arn}"]
    # No other role, no managed policy, no wildcard action anywhere.
    resources = template()["Resources"]
    assert [k for k, v in resources.items() if v["Type"] == "AWS::IAM::Role"] == ["OrchestratorRole"]
    assert "ManagedPolicyArns" not in resources["OrchestratorRole"]["Properties"]
    assert all("*" not in a for p in policies.values() for s in p["Statement"] for a in _list(s["Action"]))


def test_the_functions_the_api_and_the_schedule():
    t = template()
    resources = t["Resources"]
    functions = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert {p["Handler"] for p in functions.values()} == {"orchestrator.update_check", "orchestrator.health_gate"}
    for props in functions.values():
        assert props["Role"].tag == "GetAtt" and props["Role"].value == "OrchestratorRole.Arn"
    assert t["Parameters"]["Architecture"]["AllowedValues"] == ["x86_64", "arm64"]
    assert t["Globals"]["Function"]["Architectures"][0].value == "Architecture"
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"])
              for p in functions.values() for e in p.get("Events", {}).values() if e["Type"] == "HttpApi"}
    assert routes == {("POST", "/v1/update-check"), ("POST", "/v1/report")}
    for p in functions.values():
        for e in p.get("Events", {}).values():
            if e["Type"] == "HttpApi":
                assert e["Properties"]["Auth"]["Authorizer"] == "DeviceJwt"
    schedules = [e["Properties"]["Schedule"] for p in functions.values() for e in p.get("Events", {}).values()
                 if e["Type"] == "Schedule"]
    assert schedules == ["rate(5 minutes)"]
    api = resources["DeviceApi"]["Properties"]["Auth"]
    assert api["DefaultAuthorizer"] == "DeviceJwt" and "JwtConfiguration" in api["Authorizers"]["DeviceJwt"]
    env = t["Globals"]["Function"]["Environment"]["Variables"]
    assert set(env) == {"FLEETPATH_BUCKET", "FLEETPATH_TABLE", "FLEETPATH_ROLLOUT", "FLEETPATH_TRUSTED_KEYS"}
