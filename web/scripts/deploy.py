"""Publishes web/dist to a deployed stack's storefront: writes config.json from the stack's
outputs, uploads every file with its cache policy (hashed assets for a year, pages and the
config revalidated on each view), removes what the build no longer has, and invalidates the
pages. Run by `make deploy-web STACK=<name> [REGION=<region>]`."""

import argparse
import json
import mimetypes
import pathlib
import time

import boto3

LONG = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def outputs(cloudformation, stack):
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region")
    parser.add_argument("--dist", default=str(pathlib.Path(__file__).parent.parent / "dist"))
    args = parser.parse_args()
    session = boto3.session.Session(region_name=args.region)
    out = outputs(session.client("cloudformation"), args.stack)
    bucket = out["StorefrontBucketName"]
    dist = pathlib.Path(args.dist)
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist}/index.html is missing: run `make web` first")
    config = {
        "api_url": out["ApiUrl"].rstrip("/"),
        "issuer": out["SignInIssuer"],
        "client_id": out["UserPoolClientId"],
        "test_cards": False,
    }
    s3 = session.client("s3")
    s3.put_object(
        Bucket=bucket,
        Key="config.json",
        Body=json.dumps(config).encode(),
        ContentType="application/json",
        CacheControl=REVALIDATE,
    )
    kept = {"config.json"}
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3.upload_file(
            str(path),
            bucket,
            key,
            ExtraArgs={
                "ContentType": kind,
                "CacheControl": LONG if key.startswith("assets/") else REVALIDATE,
            },
        )
        kept.add(key)
    stale = [
        {"Key": o["Key"]}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
        if o["Key"] not in kept
    ]
    for i in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": stale[i : i + 1000]})
    session.client("cloudfront").create_invalidation(
        DistributionId=out["StorefrontDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/index.html", "/config.json"]},
            "CallerReference": str(time.time()),
        },
    )
    print(f"published {len(kept)} files; the storefront: {out['StorefrontUrl']}")


if __name__ == "__main__":
    main()
