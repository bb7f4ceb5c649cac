"""Only the DynamoDB tables (and the bucket) of ``template.yaml`` in moto, created from the template's own
definitions (keys, indexes, TTL) through :mod:`tests.aws.stack`: milliseconds, where deploying the whole stack
takes more than a second."""

from __future__ import annotations

from typing import Any

import boto3

from localpipeline.stack import Stack, _table_args, load_template

REGION = "us-east-1"
BUCKET = "imagescan-findings-test"


def create_tables(*logical_ids: str, prefix: str = "t") -> dict[str, str]:
    """Create these ``AWS::DynamoDB::Table`` resources; logical id → table name."""
    template = load_template()
    parameters = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
    stack = Stack(name=prefix, region=REGION, template=template, parameters=parameters)
    client = boto3.client("dynamodb", region_name=REGION)
    names: dict[str, str] = {}
    for logical in logical_ids:
        props: dict[str, Any] = stack.resolve(template["Resources"][logical]["Properties"])
        name = f"{prefix}-{logical}"
        client.create_table(TableName=name, **_table_args(props))
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        names[logical] = name
    return names


def create_bucket(name: str = BUCKET) -> str:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=name)
    return name


def table_contents(table: str) -> list[dict[str, Any]]:
    """Every item, raw (DynamoDB JSON), in key order: what "byte for byte" compares."""
    client = boto3.client("dynamodb", region_name=REGION)
    items: list[dict[str, Any]] = []
    args: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**args)
        items += page["Items"]
        if not page.get("LastEvaluatedKey"):
            break
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda i: (i["image"]["S"], i["finding_id"]["S"]))
