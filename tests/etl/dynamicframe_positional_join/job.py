import sys

from awsglue.context import GlueContext
from awsglue.transforms import Join, SelectFields
from pyspark.context import SparkContext

glue = GlueContext(SparkContext.getOrCreate())

policies = glue.create_dynamic_frame_from_catalog("insurance_raw", "policies")
claims = glue.create_dynamic_frame_from_catalog("insurance_raw", "claims")

# Positional arguments: frame1, frame2, keys1, keys2.
joined = Join.apply(claims, policies, ["policy_id"], ["policy_id"])
slim = SelectFields.apply(joined, ["claim_id", "policy_id", "claim_amount", "policy_type", "claim_date"])

glue.write_dynamic_frame.from_options(
    frame=slim,
    connection_type="s3",
    connection_options={"path": "s3://acme-insurance/curated/claims_by_policy/", "partitionKeys": ["policy_type"]},
    format="parquet",
)
