"""The README's IAM policy grants exactly the actions orchestrator.py's boto3 calls need.

The calls are read from the source (ast): every method called on `_s3()` or `_table(...)`,
and any call named like an S3 or DynamoDB operation wherever it is made, is mapped to its IAM
action; an operation the map does not know fails the test (add it, and to the README)."""

import ast
import json
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parents[1]

S3 = {  # boto3 client method -> IAM action
    "get_object": "s3:GetObject",
    "head_object": "s3:GetObject",  # HEAD is authorized as GetObject
    "put_object": "s3:PutObject",
    "delete_object": "s3:DeleteObject",
    "delete_objects": "s3:DeleteObject",
    "restore_object": "s3:RestoreObject",
    "list_objects": "s3:ListBucket",
    "list_objects_v2": "s3:ListBucket",
    "copy_object": "s3:PutObject",
    "get_object_tagging": "s3:GetObjectTagging",
}
S3_BY_NAME = {"generate_presigned_url", "get_paginator"}  # the operation is their first argument
DYNAMODB = {  # boto3 Table method -> IAM action
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "batch_writer": "dynamodb:BatchWriteItem",
}


def _receiver(call):
    """`s3` for `_s3().x(...)`, `dynamodb` for `_table(cfg).x(...)`, else None."""
    value = call.func.value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return {"_s3": "s3", "_table": "dynamodb"}.get(value.func.id)
    return None


def code_actions(source):
    actions, unknown = set(), []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, receiver = node.func.attr, _receiver(node)
        if isinstance(node.func.value, ast.Name) and node.func.value.id == "boto3":
            service = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            assert service in ("s3", "dynamodb"), f"line {node.lineno}: boto3.{method}({service!r})"
            continue
        if method in S3_BY_NAME:
            arg = node.args[0] if node.args else None
            assert isinstance(arg, ast.Constant) and arg.value in S3, f"line {node.lineno}: {method} of an unmapped operation"
            actions.add(S3[arg.value])
        elif method in S3 and receiver in ("s3", None):
            actions.add(S3[method])
        elif method in DYNAMODB and receiver in ("dynamodb", None):
            actions.add(DYNAMODB[method])
        elif receiver is not None:
            unknown.append(f"line {node.lineno}: {receiver} {method}")
    assert not unknown, f"boto3 calls without an IAM action in this test's map: {unknown}"
    return actions


def readme_section():
    text = (HERE / "README.md").read_text()
    match = re.search(r"^## IAM policy\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, "README.md has no '## IAM policy' section"
    return match.group(1)


def policy_actions(section):
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block, "the IAM section has no JSON policy"
    policy = json.loads(block.group(1))
    actions = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and "*" not in json.dumps(statement["Action"])
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
        resources = statement["Resource"]
        assert all(r.startswith(("arn:aws:s3:::", "arn:aws:dynamodb:")) and r != "arn:aws:s3:::*"
                   for r in ([resources] if isinstance(resources, str) else resources))
    return actions


def table_actions(section):
    return set(re.findall(r"^\| `((?:s3|dynamodb):\w+)` \|", section, re.M))


def test_the_readme_grants_exactly_what_the_code_calls():
    used = code_actions((HERE / "orchestrator.py").read_text())
    section = readme_section()
    assert policy_actions(section) == used
    assert table_actions(section) == used
    # What the attacker review found missing: the gate deletes its summaries when it loses a race.
    assert "s3:DeleteObject" in used


def test_the_map_sees_every_kind_of_call():
    source = '''
import boto3
def f(cfg, s3):
    _s3().get_object(Bucket="b", Key="k")
    _s3().generate_presigned_url("get_object", Params={})
    _s3().get_paginator("list_objects_v2")
    s3.delete_object(Bucket="b", Key="k")
    _table(cfg).query(KeyConditionExpression="x")
'''
    assert code_actions(source) == {"s3:GetObject", "s3:ListBucket", "s3:DeleteObject", "dynamodb:Query"}
    try:
        code_actions("_s3().put_bucket_policy(Bucket='b', Policy='{}')")
    except AssertionError as e:
        assert "put_bucket_policy" in str(e)
    else:
        raise AssertionError("an unmapped call must fail the test")
